"""DiffAugment (Zhao et al. 2020): each transform checked against what it must do to
a batch, differentiable (by finite differences), and the same for the same seed."""

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError


def _augment(policy, **options):
    return ganzoo.create("augmentations", Component("diffaugment", policy=policy, **options))


def _seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64)])
@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_every_policy_keeps_the_shape_and_is_the_same_transform_for_the_same_seed(shape, policy):
    x = torch.rand(6, *shape) * 2 - 1
    augment = _augment(policy)
    first, again, other = augment(x, _seeded(3)), augment(x, _seeded(3)), augment(x, _seeded(4))
    assert first.shape == x.shape and torch.isfinite(first).all()
    assert torch.equal(first, again)
    assert not torch.equal(first, other) and not torch.equal(first, x)


def test_translation_shifts_each_image_by_at_most_an_eighth_filling_with_zeros():
    x = torch.rand(16, 1, 16, 16) + 1  # no zeros of its own
    out = _augment("translation")(x, _seeded(0))
    shifts = set()
    for image, moved in zip(x[:, 0], out[:, 0]):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.equal(moved, _shifted(image, dy, dx))]
        assert len(found) == 1  # one shift of at most 2 = 16/8 pixels explains the output
        shifts.add(found[0])
    assert len(shifts) > 3  # drawn per sample


def _shifted(image, dy, dx):
    """Output pixel (i, j) = input (i + dy, j + dx), zero beyond the border (written independently)."""
    h, w = image.shape
    out = torch.zeros_like(image)
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                out[i, j] = image[i + dy, j + dx]
    return out


def test_cutout_zeroes_one_square_of_half_the_side_cut_at_the_border():
    x = torch.rand(32, 2, 12, 12) + 1
    out = _augment("cutout")(x, _seeded(1))
    for image, cut in zip(x, out):
        zero = cut[0] == 0
        assert torch.equal(zero, cut[1] == 0)  # the same square in every channel
        assert torch.equal(cut[:, ~zero], image[:, ~zero])  # everything else untouched
        rows, cols = zero.any(1).nonzero().flatten(), zero.any(0).nonzero().flatten()
        assert 0 < len(rows) <= 6 and 0 < len(cols) <= 6
        assert zero.sum() == len(rows) * len(cols)  # a rectangle
        assert rows.max() - rows.min() + 1 == len(rows) and cols.max() - cols.min() + 1 == len(cols)
        if 0 < rows.min() and rows.max() < 11:
            assert len(rows) == 6  # whole where it does not meet the border


def test_colour_on_grey_images_is_a_brightness_shift_and_a_contrast_scale_in_its_ranges():
    x = torch.rand(64, 1, 8, 8)
    out = _augment("color")(x, _seeded(2))
    dx, dout = x - x.mean((1, 2, 3), keepdim=True), out - out.mean((1, 2, 3), keepdim=True)
    scale = (dout * dx).sum((1, 2, 3)) / (dx * dx).sum((1, 2, 3))
    assert torch.allclose(dout, scale.view(-1, 1, 1, 1) * dx, atol=1e-5)  # affine per image (saturation: none in grey)
    assert scale.min() >= 0.5 and scale.max() <= 1.5 and scale.max() - scale.min() > 0.5
    shift = out.mean((1, 2, 3)) - x.mean((1, 2, 3))
    assert shift.abs().max() <= 0.5 and shift.max() - shift.min() > 0.5


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_every_policy_is_differentiable_in_the_samples(policy):
    augment = _augment(policy)
    x = torch.rand(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: augment(v, _seeded(5)), (x,))


def test_an_unknown_policy_or_non_image_data_is_one_line():
    with pytest.raises(GanzooError, match="color, translation, cutout"):
        _augment("colour")
    with pytest.raises(GanzooError, match="images"):
        _augment("color")(torch.zeros(4, 2))
