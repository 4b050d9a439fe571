"""The DCGAN plugin: Radford et al.'s guidelines at every supported size, and its recipes."""

import math

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import Component, DataSpec, GanzooError


@pytest.mark.parametrize("size, channels, start, doublings", [(28, 1, 7, 2), (32, 1, 4, 3), (32, 3, 4, 3), (64, 3, 4, 4)])
def test_shapes_at_every_supported_size(size, channels, start, doublings):
    spec = DataSpec((channels, size, size))
    G = ganzoo.create("generators", Component("dcgan", width=16), spec)
    D = ganzoo.create("discriminators", Component("dcgan", width=16), spec)
    x = G(G.sample_latent(3))
    assert x.shape == (3, channels, size, size) and x.abs().max() <= 1
    assert D(x).shape == (3,)
    # D's features: the last block, width·2^(k-1) channels on the start×start map.
    assert D.features(x).shape == (3, 16 * 2 ** (doublings - 1) * start * start)
    strided = [m for m in D.modules() if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
    upsampling = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d) and m.stride == (2, 2)]
    assert len(strided) == len(upsampling) == doublings


def test_follows_the_papers_guidelines():
    spec = DataSpec((1, 28, 28))
    G = ganzoo.create("generators", "dcgan", spec)
    D = ganzoo.create("discriminators", "dcgan", spec)
    # No hidden fully connected layers, no pooling.
    for model in (G, D):
        assert not any(isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d)) for m in model.modules())
    g_layers = [m for m in G.modules() if not list(m.children())]  # in the order they run
    # BatchNorm after every G layer but the output, which is tanh; ReLU inside G.
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(g_layers[-2], nn.ConvTranspose2d)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in G.modules()) == 2
    assert all(not isinstance(m, nn.LeakyReLU) for m in G.modules())
    # No BatchNorm on D's input layer; LeakyReLU 0.2.
    d_layers = list(D.body)
    assert isinstance(d_layers[0], nn.Conv2d) and isinstance(d_layers[1], nn.LeakyReLU)
    assert {m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)} == {0.2}
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == 1
    # Weights N(0, 0.02): the big layers' sample std is within a few % of 0.02.
    big = [m.weight for m in list(G.modules()) + list(D.modules())
           if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.weight.numel() > 50_000]
    assert big and all(abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001 for w in big)


def test_width_option_sets_the_channels():
    G = ganzoo.create("generators", Component("dcgan", width=8), DataSpec((1, 28, 28)))
    convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [(100, 16), (16, 8), (8, 1)]


@pytest.mark.parametrize("shape", [(1, 27, 27), (784,), (1, 28, 32), (1, 4, 4)])
def test_unsupported_shapes_are_one_line_errors(shape):
    with pytest.raises(GanzooError) as info:
        ganzoo.create("generators", "dcgan", DataSpec(shape))
    assert "\n" not in str(info.value) and ("square" in str(info.value) or "cannot make" in str(info.value))


def test_recipes_are_registered_with_the_papers_settings():
    listed = ganzoo.default_registry().entries("recipes")
    assert {"dcgan-mnist", "dcgan-fashion-mnist", "dcgan-stacked-mnist"} <= set(listed)
    for name, batch in (("dcgan-mnist", 128), ("dcgan-fashion-mnist", 128), ("dcgan-stacked-mnist", 64)):
        r = ganzoo.get_recipe(name)
        assert r.batch_size == batch and r.generator.name == r.discriminator.name == "dcgan"
        assert r.g_optim.options == {"lr": 2e-4, "betas": (0.5, 0.999)} == r.d_optim.options


@pytest.mark.parametrize("recipe, dataset", [
    ("dcgan-mnist", None),
    ("dcgan-fashion-mnist", None),
    ("dcgan-stacked-mnist", Component("stacked-mnist", n=1024)),
])
def test_recipes_train_on_real_data(recipe, dataset, data_dir):
    r = ganzoo.get_recipe(recipe)
    r = r.replace(steps=3, epochs=None, batch_size=16, generator=r.generator.replace(width=8),
                  discriminator=r.discriminator.replace(width=8), dataset=dataset or r.dataset)
    trainer = ganzoo.build(r, data_dir=data_dir, device="cpu")
    before = [p.clone() for p in trainer.generator.parameters()]
    trainer.fit()
    assert trainer.step == 3 and math.isfinite(trainer.last_metrics["d_loss"])
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters()))
    assert trainer.sample(2).shape == (2, *trainer.data.spec.shape)


@pytest.mark.parametrize("norm", ["layer", None])
def test_a_critic_without_batchnorm_scores_each_sample_on_its_own(norm):
    """WGAN-GP's penalty needs each sample's gradient to be its own (Gulrajani et al.
    2017, Section 4): with norm=layer or null, a sample's score in training mode does
    not depend on the rest of the batch; with the paper's BatchNorm it does."""
    torch.manual_seed(0)
    x = torch.randn(8, 1, 28, 28)
    for which, independent in ((norm, True), ("batch", False)):
        d = ganzoo.create("discriminators", Component("dcgan", width=8, norm=which), DataSpec((1, 28, 28))).train()
        alone, together = d(x[:2]), d(x)[:2]
        assert torch.allclose(alone, together, atol=1e-5) == independent, which
