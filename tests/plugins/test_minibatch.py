"""The minibatch plugin: the layer's arithmetic, the wrapper's composition with any
registered discriminator, and the mode-collapse recipes trained for real."""

import math

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo import Component, DataSpec, GanzooError, checkpoint
from ganzoo.cli import main
from ganzoo_minibatch import MinibatchDiscrimination

SPEC = DataSpec((1, 28, 28), 10, (-1.0, 1.0))


def _identity_layer() -> MinibatchDiscrimination:
    """A = 2 inputs, B = 2 kernels of C = 2: kernel 0 reads x as is, kernel 1 reads 2·x."""
    layer = MinibatchDiscrimination(2, kernels=2, kernel_dim=2)
    with torch.no_grad():
        layer.theta.copy_(torch.stack([torch.eye(2), 3 * torch.eye(2)], dim=1))  # norm is divided out
        layer.log_weight_scale.copy_(torch.tensor([[0.0, 0.0], [math.log(2), math.log(2)]]))
    return layer


def test_layer_matches_a_hand_computed_case():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    out = _identity_layer()(x)
    # Kernel 0: L1 distances d01 = 1, d02 = 2, d12 = 3; kernel 1 doubles them. Bias −1.
    e = math.exp
    expected = torch.tensor([
        [e(-1) + e(-2), e(-2) + e(-4)],
        [e(-1) + e(-3), e(-2) + e(-6)],
        [e(-2) + e(-3), e(-4) + e(-6)],
    ]) - 1
    assert out.shape == (3, 4)
    assert torch.equal(out[:, :2], x)  # the input passes through, the features are appended
    torch.testing.assert_close(out[:, 2:], expected)


def test_the_self_pair_is_excluded_and_a_lone_sample_sees_nothing():
    layer = _identity_layer()
    one = layer(torch.tensor([[5.0, 5.0]]))
    torch.testing.assert_close(one[:, 2:], torch.full((1, 2), -1.0))  # no other sample: only the bias
    twins = layer(torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
    torch.testing.assert_close(twins[:, 2:], torch.zeros(2, 2))  # exp(0) from the other twin − 1


def test_layer_gradients_are_right():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, kernels=4, kernel_dim=3).double()
    x = torch.randn(5, 6, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: layer(x), (x,))
    assert torch.autograd.gradcheck(lambda t: MinibatchDiscrimination.forward(layer, x), (layer.theta,))


def test_layer_trains_under_bfloat16_autocast():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, kernels=4, kernel_dim=3)
    x = torch.randn(5, 6, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(torch.nn.functional.linear(x, torch.eye(6)))  # a bfloat16 input, as in an autocast D
    out.float().sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    torch.testing.assert_close(out[:, 6:].float(), layer(x)[:, 6:].detach(), atol=0.05, rtol=0.05)


def test_weight_is_normalised_over_the_input_axis():
    layer = MinibatchDiscrimination(50, kernels=7, kernel_dim=3)
    norms = layer.weight.square().sum(0).sqrt()
    torch.testing.assert_close(norms, torch.ones(7, 3))
    assert layer.bias.eq(-1).all()


def test_data_dependent_init_sets_nearest_distance_and_centres_outputs():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(10, kernels=6, kernel_dim=5)
    x = torch.randn(40, 10) * 3
    layer.init_from(x)
    m = torch.einsum("na,abc->nbc", x, layer.weight)
    for b in range(6):  # brute force: mean over samples of the L1 distance to the nearest other sample
        nearest = [min((m[i, b] - m[j, b]).abs().sum().item() for j in range(40) if j != i) for i in range(40)]
        assert sum(nearest) / 40 == pytest.approx(2.0, rel=1e-4)
    torch.testing.assert_close(layer(x)[:, 10:].mean(0), torch.zeros(6), atol=1e-5, rtol=0)


@pytest.mark.parametrize("trunk, options", [("dcgan", {"width": 8}), ("mlp", {"hidden": [64, 32]}),
                                            ("maxout", {"hidden": [32], "pieces": 2})])
def test_wrapper_adds_the_layer_to_any_registered_discriminator(mnist, trunk, options):
    D = ganzoo.create("discriminators", Component("minibatch", trunk=trunk, kernels=16, **options), SPEC).eval()
    assert type(D.trunk) is type(ganzoo.create("discriminators", Component(trunk, **options), SPEC))
    x = mnist.x[:6]
    with torch.no_grad():
        logits, features = D(x), D.features(x)
        assert logits.shape == (6,) and features.shape == (6, D.trunk.features(x).flatten(1).shape[1])
        # Changing only sample 5 changes sample 0's logit (through the batch), not its features.
        other = x.clone()
        other[5] = -other[5]
        assert not torch.allclose(D(other)[0], logits[0])
        torch.testing.assert_close(D.features(other)[0], features[0])
    assert any(name.startswith("trunk.") for name, _ in D.named_parameters())


def test_wrapper_initialises_from_real_data_without_touching_batchnorm_statistics(mnist):
    torch.manual_seed(0)
    D = ganzoo.create("discriminators", Component("minibatch", trunk="dcgan", width=8, kernels=8), SPEC)
    before = {k: v.clone() for k, v in D.named_buffers()}
    D.init_from_data(mnist.x[:2000])
    assert not torch.allclose(D.minibatch.bias, torch.full((8,), -1.0))  # moved by the init
    for name, value in D.named_buffers():
        assert torch.equal(value, before[name]), name
    off = ganzoo.create("discriminators", Component("minibatch", trunk="dcgan", width=8, kernels=8, init_batch=0), SPEC)
    off.init_from_data(mnist.x[:2000])
    assert off.minibatch.bias.eq(-1).all()


def test_real_and_generated_batches_are_compared_only_among_themselves(mnist):
    recipe = ganzoo.get_recipe("dcgan-mnist").replace(
        generator=Component("dcgan", width=8),
        discriminator=Component("minibatch", trunk="dcgan", width=8, kernels=8), batch_size=16, steps=2)
    trainer = ganzoo.build(recipe, device="cpu")
    seen = []
    trainer.discriminator.minibatch.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
    trainer.fit()
    assert seen and set(seen) == {16}  # never a concatenated real+fake batch of 32


def test_minibatch_needs_features_and_an_unconditional_trunk(no_features):
    with pytest.raises(GanzooError, match="does not expose features.*minibatch discrimination"):
        ganzoo.create("discriminators", Component("minibatch", trunk=no_features), SPEC)
    with pytest.raises(GanzooError, match="conditional; minibatch discrimination wraps unconditional"):
        ganzoo.create("discriminators", Component("minibatch", trunk="projection"), SPEC)


@pytest.mark.parametrize("name", ["gan-ring", "mbd-ring", "gan-grid", "mbd-grid"])
def test_mixture_recipes_train_and_plot(tmp_path, name, capsys):
    code = main(["run", name, "--out", str(tmp_path), "--set", "steps=30", "--set", "sample_every=15",
                 "--set", "log_every=10", "--device", "cpu"])
    assert code == 0
    plots = sorted((tmp_path / "samples").glob("*.png"))
    assert [p.name for p in plots] == ["step-000015.png", "step-000030.png"]
    image = Image.open(plots[-1]).convert("RGB")
    pixels = torch.tensor(list(image.getdata()), dtype=torch.float)
    for colour in ((214, 39, 40), (31, 119, 180)):  # modes in red, samples in blue (antialiased, so nearly)
        assert ((pixels - torch.tensor(colour)).abs().max(1).values < 40).sum() > 50, colour
    state = checkpoint.load(tmp_path / "checkpoints" / "last.pt")  # three G updates a step with the layer
    updates = [state[f"{net}_optim"]["state"][0]["step"].item() for net in ("d", "g")]
    assert updates == [30, 90 if name.startswith("mbd") else 30]
    assert main(["eval", str(tmp_path / "checkpoints" / "last.pt"), "-n", "500"]) == 0
    out = capsys.readouterr().out
    assert "modes_total" in out and "high_quality" in out
    assert main(["sample", str(tmp_path / "checkpoints" / "last.pt"), "-o", str(tmp_path / "points.png")]) == 0
    assert Image.open(tmp_path / "points.png").size == (480, 480)


def test_mixture_recipes_follow_pacgan():
    recipe = ganzoo.get_recipe("mbd-grid")
    G = ganzoo.create("generators", recipe.generator, DataSpec((2,), None, None))
    D = ganzoo.create("discriminators", recipe.discriminator, DataSpec((2,), None, None))
    assert G.latent_dim == 2 and sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules()) == 4
    # PacGAN's G: Linear without bias → BN → ReLU, population statistics updated by 0.05 a
    # step; both nets start N(0, 0.02²) with zero biases.
    layers = [m for m in G.modules() if not list(m.children())]
    assert [type(m).__name__ for m in layers[:3]] == ["Linear", "BatchNorm1d", "ReLU"] and layers[0].bias is None
    assert {m.momentum for m in G.modules() if isinstance(m, torch.nn.BatchNorm1d)} == {0.05}
    assert recipe.generator.options["init_std"] == 0.02 and recipe.discriminator.options["init_std"] == 0.02
    first = next(m for m in D.trunk.modules() if isinstance(m, torch.nn.Linear))
    assert first.weight.std().item() == pytest.approx(0.02, rel=0.15) and not first.bias.any()
    assert [(m.units, m.pieces) for m in D.trunk.modules() if type(m).__name__ == "Maxout"] == [(200, 5)] * 3
    assert (D.minibatch.kernels, D.minibatch.kernel_dim) == (100, 5)
    assert recipe.batch_size == 100 and recipe.g_optim.options == {"lr": 1e-4, "betas": (0.8, 0.999)}
    baseline = ganzoo.get_recipe("gan-grid").discriminator
    assert baseline.name == "maxout"  # the same D without the layer
    assert baseline.options == {k: v for k, v in recipe.discriminator.options.items()
                                if k not in ("trunk", "init_batch")}


def test_stacked_mnist_recipe_is_the_dcgan_one_plus_the_layer(tmp_path):
    mbd, base = ganzoo.get_recipe("mbd-stacked-mnist"), ganzoo.get_recipe("dcgan-stacked-mnist")
    assert mbd.discriminator == Component("minibatch", trunk="dcgan", **base.discriminator.options)
    assert (mbd.dataset, mbd.generator, mbd.batch_size, mbd.epochs) == (base.dataset, base.generator,
                                                                        base.batch_size, base.epochs)
    code = main(["run", "mbd-stacked-mnist", "--out", str(tmp_path), "--set", "steps=2",
                 "--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "dataset.n=640",
                 "--device", "cpu"])
    assert code == 0 and (tmp_path / "samples" / "step-000002.png").exists()
