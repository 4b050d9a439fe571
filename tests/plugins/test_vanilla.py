"""The vanilla plugin: the tutorial's MLPs and the paper's two losses."""

import math

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import Batch, Component, DataSpec, GanzooError

SPEC = DataSpec((1, 28, 28), 10, (-1.0, 1.0))


def test_generator_matches_the_tutorial_architecture():
    G = ganzoo.create("generators", "mlp", SPEC)
    linears = [m for m in G.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(100, 256), (256, 512), (512, 1024), (1024, 784)]
    assert len([m for m in G.modules() if isinstance(m, nn.BatchNorm1d)]) == 3
    assert isinstance(list(G.modules())[-1], nn.Tanh)
    out = G(G.sample_latent(4))
    assert out.shape == (4, 1, 28, 28) and out.abs().max() <= 1


def test_generator_output_follows_the_data_range():
    G = ganzoo.create("generators", "mlp", DataSpec((1, 28, 28), value_range=(0.0, 1.0)))
    assert isinstance(list(G.modules())[-1], nn.Sigmoid)
    with pytest.raises(GanzooError, match="no output activation"):
        ganzoo.create("generators", "mlp", DataSpec((1, 28, 28), value_range=(0.0, 255.0)))


def test_discriminator_matches_the_tutorial_and_exposes_features():
    D = ganzoo.create("discriminators", "mlp", SPEC)
    linears = [m for m in D.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(784, 512), (512, 256), (256, 1)]
    x = torch.randn(5, 1, 28, 28)
    assert D(x).shape == (5,) and D.features(x).shape == (5, 256)


class FixedD(nn.Module):
    """Returns preset logits: real images are all 0, fakes all 0 after the tanh."""

    def __init__(self, real_logit, fake_logit):
        super().__init__()
        self.real_logit, self.fake_logit = real_logit, fake_logit
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        is_real = (x == 0.5).flatten(1).all(1)
        return torch.where(is_real, self.real_logit, self.fake_logit) + self.w


class ConstG(ganzoo.Generator):
    latent_dim = 2

    def forward(self, z, y=None):
        return torch.full((len(z), 1, 2, 2), -0.5)


@pytest.mark.parametrize(
    "real_logit, fake_logit, expected_d_loss",
    [
        # -½[log D(x) + log(1 - D(G(z)))] with D = sigmoid: computed by hand.
        (2.0, -1.0, -0.5 * (math.log(1 / (1 + math.exp(-2.0))) + math.log(1 - 1 / (1 + math.exp(1.0))))),
        # Far in the tails the naive formula gives inf; the logit form gives ≈ ½(30 + 40).
        (-30.0, 40.0, 35.0),
    ],
)
def test_losses_equal_the_paper_formulas(real_logit, fake_logit, expected_d_loss):
    batch = Batch(torch.full((8, 1, 2, 2), 0.5))
    D, G = FixedD(real_logit, fake_logit), ConstG()
    ns, mm = ganzoo.create("losses", "non-saturating"), ganzoo.create("losses", "minimax")

    d_loss, logs = ns.discriminator_loss(batch, G, D)
    assert d_loss.item() == pytest.approx(expected_d_loss, rel=1e-5)
    assert logs["d_real"].item() == pytest.approx(1 / (1 + math.exp(-real_logit)))
    assert logs["d_fake"].item() == pytest.approx(1 / (1 + math.exp(-fake_logit)))
    # Non-saturating G minimises -log D(G(z)); minimax G minimises log(1 - D(G(z))).
    d_fake = 1 / (1 + math.exp(-fake_logit))
    if 0 < d_fake < 1:
        assert ns.generator_loss(batch, G, D)[0].item() == pytest.approx(-math.log(d_fake), rel=1e-5)
        assert mm.generator_loss(batch, G, D)[0].item() == pytest.approx(math.log(1 - d_fake), rel=1e-5)
    assert torch.isfinite(ns.generator_loss(batch, G, D)[0]) and torch.isfinite(mm.generator_loss(batch, G, D)[0])


def test_minimax_saturates_where_non_saturating_does_not():
    """The paper's point: when D confidently rejects fakes, log(1 - D) gives G no gradient."""
    batch = Batch(torch.full((4, 1, 2, 2), 0.5))
    grads = {}
    for name in ("minimax", "non-saturating"):
        D = FixedD(5.0, -10.0)
        loss, _ = ganzoo.create("losses", name).generator_loss(batch, ConstG(), D)
        loss.backward()
        grads[name] = D.w.grad.abs().item()
    assert grads["minimax"] < 1e-4 < 0.9 < grads["non-saturating"]


def test_vanilla_recipes_are_registered_with_the_tutorial_settings():
    r = ganzoo.get_recipe("vanilla-mnist")
    assert (r.batch_size, r.g_optim.options["lr"], r.g_optim.options["betas"]) == (64, 2e-4, (0.5, 0.999))
    assert r.dataset.name == "mnist" and ganzoo.get_recipe("vanilla-fashion-mnist").dataset.name == "fashion-mnist"


def test_vanilla_fashion_mnist_trains_on_real_data(tiny_recipe, data_dir, fit_and_check_it_learns):
    recipe = tiny_recipe.replace(dataset=Component("fashion-mnist"), steps=5)
    trainer = fit_and_check_it_learns(ganzoo.build(recipe, data_dir=data_dir, device="cpu"),
                                      ("d_loss", "g_loss", "d_real", "d_fake"))
    assert trainer.step == 5
    lo, hi = trainer.data.spec.value_range
    samples = trainer.sample(4)
    assert samples.shape == (4, 1, 28, 28) and lo <= samples.min() and samples.max() <= hi  # the data's range


def test_uniform_prior_has_unit_variance_on_the_papers_interval():
    G = ganzoo.create("generators", Component("mlp", prior="uniform"), SPEC)
    z = G.sample_latent(200_000)
    assert z.abs().max() <= math.sqrt(3) and z.var().item() == pytest.approx(1.0, abs=0.01)


def test_maxout_takes_the_max_of_its_pieces():
    from ganzoo.nn import Maxout

    layer = Maxout(3, units=2, pieces=4)
    x = torch.randn(5, 3)
    pieces = (x @ layer.linear.weight.T + layer.linear.bias).view(5, 2, 4)
    assert torch.equal(layer(x), pieces.max(-1).values)


def _layers(model):
    """The model's layers in the order they run: its modules that hold no others."""
    return [m for m in model.modules() if not list(m.children())]


def _output_layer(model):
    """The last linear layer: the one whose bias sets the initial output."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]


def test_bn_first_normalises_before_the_activation_without_a_redundant_bias():
    G = ganzoo.create("generators", Component("mlp", hidden=(8, 8), activation="relu", bn_first=True), SPEC)
    layers = _layers(G)
    kinds = [type(m).__name__ for m in layers]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear", "Tanh"]
    assert layers[0].bias is None and layers[3].bias is None and layers[6].bias is not None
    # In training mode the first ReLU sees BN's output: zero-mean, unit-variance pre-activations.
    pre = layers[1](layers[0](G.sample_latent(512)))
    torch.testing.assert_close(pre.mean(0), torch.zeros(8), atol=1e-5, rtol=0)
    default = ganzoo.create("generators", Component("mlp", hidden=(8,)), SPEC)
    assert [type(m).__name__ for m in _layers(default)] == [
        "Linear", "LeakyReLU", "BatchNorm1d", "Linear", "Tanh"]  # the default order is unchanged


def test_init_std_draws_normal_weights_and_zero_biases():
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", hidden=(400, 400), init_std=0.02), SPEC)
    D = ganzoo.create("discriminators", Component("maxout", hidden=(200,), init_std=0.02), SPEC)
    for model in (G, D):
        for layer in (m for m in model.modules() if isinstance(m, nn.Linear)):
            if layer.weight.numel() >= 10_000:  # enough draws to pin the scale down to a few per cent
                assert layer.weight.std().item() == pytest.approx(0.02, rel=0.05)
                assert abs(layer.weight.mean().item()) < 0.02 * 5 / math.sqrt(layer.weight.numel())
            assert layer.bias is None or not layer.bias.any()
    # init_std replaces maxout's default U(-0.005, 0.005): normal draws go well past 0.005.
    assert max(p.abs().max().item() for p in D.parameters()) > 0.05


def test_goodfellow_recipe_builds_the_papers_model(data_dir):
    recipe = ganzoo.get_recipe("goodfellow-mnist")
    trainer = ganzoo.build(recipe.replace(steps=2, epochs=None), data_dir=data_dir, device="cpu")
    G, D = trainer.generator, trainer.discriminator
    linears = [m for m in G.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(100, 1200), (1200, 1200), (1200, 784)]
    assert isinstance(list(G.modules())[-1], nn.Sigmoid) and not any(isinstance(m, nn.BatchNorm1d) for m in G.modules())
    maxouts = [m for m in D.modules() if type(m).__name__ == "Maxout"]
    assert [(m.units, m.pieces) for m in maxouts] == [(240, 5), (240, 5)]
    assert [m.p for m in D.modules() if isinstance(m, nn.Dropout)] == [0.2, 0.5, 0.5]
    assert max(p.abs().max().item() for p in D.parameters()) <= 0.005
    assert len(trainer.data) == 50_000 and trainer.data.x.min() == 0.0  # training images 0..50k in [0, 1]
    assert isinstance(trainer.g_optim, torch.optim.SGD) and trainer.g_optim.defaults["momentum"] == 0.5
    trainer.fit()
    assert trainer.step == 2


def test_output_bias_from_the_marginals_starts_g_at_the_mean_image(mnist):
    x01 = (mnist.x[:5000] + 1) / 2
    spec = DataSpec((1, 28, 28), 10, (0.0, 1.0))
    G = ganzoo.create("generators", Component("mlp", output_bias="marginals", batchnorm=False,
                                               init_range=0.005), spec)
    G.init_from_data(x01)
    mean = x01.mean(0).flatten().double()
    with torch.no_grad():
        out = G(G.sample_latent(256)).mean(0).flatten().double()
    # A corner pixel is black in every image: its logit is clipped at 1e-7, not -inf.
    assert _output_layer(G).bias[0].item() == pytest.approx(math.log(1e-7 / (1 - 1e-7)), rel=1e-4)
    assert (out - mean).abs().max() < 0.02  # tiny weights: the output is the bias
    # The default leaves the initial bias alone, and tanh data get half the logit.
    plain = ganzoo.create("generators", "mlp", spec)
    before = _output_layer(plain).bias.clone()
    plain.init_from_data(x01)
    assert torch.equal(_output_layer(plain).bias, before)
    tanh_G = ganzoo.create("generators", Component("mlp", output_bias="marginals"), SPEC)
    tanh_G.init_from_data(mnist.x[:5000])
    assert _output_layer(tanh_G).bias[0].item() == pytest.approx(0.5 * math.log(1e-7 / (1 - 1e-7)), rel=1e-4)


def test_build_applies_data_dependent_init(data_dir):
    recipe = ganzoo.get_recipe("goodfellow-mnist").replace(steps=1, epochs=None)
    recipe = recipe.replace(generator=recipe.generator.replace(output_bias="marginals"))
    G = ganzoo.build(recipe, data_dir=data_dir, device="cpu").generator
    bias = _output_layer(G).bias
    assert bias.min() < -15 and bias.max() > 0  # background black, centre bright
