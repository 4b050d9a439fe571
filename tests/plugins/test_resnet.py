"""The SNGAN ResNet (Miyato et al. 2018, Appendix B.4): shapes at every supported size,
the paper's CIFAR-10 networks layer for layer, conditional through the wrappers, and
every recipe built on it (and on the new losses) trained from the command line."""

import json

import pytest
import torch

import ganzoo
from ganzoo import Component, DataSpec, GanzooError, checkpoint
from ganzoo.cli import main
from test_images import write_cifar, digits  # noqa: F401 - digits is a fixture


@pytest.mark.parametrize("channels, size, last_side", [(1, 28, 7), (3, 28, 7), (1, 32, 8), (3, 32, 8), (3, 64, 8)])
def test_shapes_at_every_supported_size(channels, size, last_side):
    spec = DataSpec((channels, size, size))
    G = ganzoo.create("generators", Component("resnet", latent_dim=16, width=8), spec)
    D = ganzoo.create("discriminators", Component("resnet", width=8), spec)
    x = G(G.sample_latent(3))
    assert x.shape == (3, channels, size, size) and x.abs().max() <= 1
    maps = D.blocks(x)
    assert maps.shape[2:] == (last_side, last_side)  # downsampled to at most 8×8, then two blocks more
    assert D(x).shape == (3,) and D.features(x).shape == (3, 8)


def test_unsupported_sizes_and_flat_data_are_one_line():
    for spec in (DataSpec((3, 36, 36)), DataSpec((2,))):
        with pytest.raises(GanzooError) as info:
            ganzoo.create("generators", "resnet", spec)
        assert "\n" not in str(info.value)



def test_the_cifar10_networks_have_the_papers_layers():
    """Parameters counted from Miyato et al. 2018, Table 4 (G: dense 128 → 4·4·256, three
    up-blocks of 256, BN, 3×3 conv to RGB) and its D (a first down-block of 128, one
    down-block, two blocks at 8×8, dense to 1); each block two 3×3 convolutions and a
    1×1 shortcut (G's blocks also two BatchNorms)."""
    def conv(cin, cout, k):
        return cin * cout * k * k + cout

    up_block = conv(256, 256, 3) * 2 + conv(256, 256, 1) + 2 * 2 * 256
    g = (128 * 4 * 4 * 256 + 4 * 4 * 256) + 3 * up_block + 2 * 256 + conv(256, 3, 3)
    d = (conv(3, 128, 3) + conv(128, 128, 3) + conv(3, 128, 1)) \
        + (2 * conv(128, 128, 3) + conv(128, 128, 1)) + 2 * (2 * conv(128, 128, 3)) + (128 + 1)
    spec = DataSpec((3, 32, 32))
    G = ganzoo.create("generators", Component("resnet", latent_dim=128, width=256), spec)
    D = ganzoo.create("discriminators", Component("resnet", width=128), spec)
    assert sum(p.numel() for p in G.parameters()) == g == 4_276_739
    assert sum(p.numel() for p in D.parameters()) == d


def test_resnet_is_conditional_through_the_label_and_projection_wrappers():
    spec = DataSpec((1, 28, 28), num_classes=10)
    G = ganzoo.create("generators", Component("conditional", base="resnet", latent_dim=16, width=8), spec)
    D = ganzoo.create("discriminators", Component("projection", trunk="resnet", width=8, spectral_norm=True), spec)
    y = torch.arange(4)
    x = G(G.sample_latent(4), y)
    assert x.shape == (4, 1, 28, 28) and D(x, y).shape == (4,)
    # Projection: the label changes the score through embed(y)·φ(x) alone.
    D.eval()
    with torch.no_grad():
        delta = D(x, y) - D(x, (y + 1) % 10)
        phi = D.features(x)
        expected = ((D.embed(y) - D.embed((y + 1) % 10)) * phi).sum(1)
    assert torch.allclose(delta, expected, atol=1e-5)


NEW_RECIPES = {
    "wgan-gp-mnist": ["--set", "generator.width=8", "--set", "discriminator.width=8"],
    "hinge-dcgan-fashion-mnist": ["--set", "generator.width=8", "--set", "discriminator.width=8"],
    "acgan-mnist": ["--set", "generator.width=8", "--set", "discriminator.width=8"],
    "sngan-fashion-mnist": ["--set", "generator.width=8", "--set", "discriminator.width=8"],
    "sngan-cifar10": ["--set", "generator.width=8", "--set", "discriminator.width=8"],
    "wgan-gp-cifar10": ["--set", "generator.width=8", "--set", "discriminator.width=8"],
}


@pytest.mark.parametrize("name", sorted(NEW_RECIPES))
def test_every_new_recipe_trains_from_the_command_line(name, tmp_path, digits):  # noqa: F811
    data = tmp_path / "data"
    extra = []
    if "cifar10" in name:
        write_cifar(data / "cifar10" / "cifar-10-batches-py", digits)
        extra = ["--data-dir", str(data), "--set", "dataset.download=false"]
    run = tmp_path / "run"
    assert main(["run", name, "--out", str(run), "--set", "steps=2", "--set", "batch_size=16", "--set", "log_every=1",
                 "--device", "cpu", *NEW_RECIPES[name], *extra]) == 0
    logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert logs[-1]["step"] == 2 and all(torch.isfinite(torch.tensor(v)) for v in logs[-1].values())
    recipe = checkpoint.load(run / "checkpoints" / "last.pt")["recipe"]
    assert recipe["name"] == name
