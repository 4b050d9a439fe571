"""The shared layers of ganzoo.nn: spectral normalisation, as every built-in
discriminator offers it."""

import inspect

import pytest
import torch
from torch.nn.utils import parametrize

import ganzoo
from ganzoo import Component, DataSpec, checkpoint
from ganzoo.cli import main
from ganzoo.nn import spectral_norm

MNIST_SPEC = DataSpec((1, 28, 28), num_classes=10)


def _builtin_discriminators():
    registry = ganzoo.default_registry()
    builtin = {p.name for p in registry.plugins() if p.distribution == "ganzoo"}
    return {name: e.obj for name, e in registry.entries("discriminators").items() if e.plugin in builtin}


def test_every_builtin_discriminator_offers_spectral_norm_but_the_weight_normalised_one():
    lacking = {name for name, factory in _builtin_discriminators().items()
               if "spectral_norm" not in inspect.signature(factory).parameters}
    # Salimans et al.'s D normalises its weights already (weight norm, Salimans & Kingma 2016).
    assert lacking == {"ssgan-mlp"}


@pytest.mark.parametrize("name", sorted(set(_builtin_discriminators()) - {"ssgan-mlp"}))
def test_spectral_norm_brings_every_weights_largest_singular_value_to_one(name):
    torch.manual_seed(0)
    options = {"trunk": "mlp"} if name == "minibatch" else {}
    d = ganzoo.create("discriminators", Component(name, spectral_norm=True, **options), MNIST_SPEC)
    layers = [m for m in d.modules() if parametrize.is_parametrized(m, "weight")]
    assert layers, "nothing was normalised"
    x, y = torch.randn(32, *MNIST_SPEC.shape), torch.arange(32) % 10
    with torch.no_grad():
        for layer in layers:  # raw weights of norm 3, so that only the normalisation can bring them to one
            original = layer.parametrizations.weight.original
            original.mul_(3 / torch.linalg.svdvals(original.flatten(1))[0])
        for _ in range(30):  # one power-iteration step per forward pass in training mode
            d(x, y) if getattr(d, "conditional", False) else d(x)
    d.eval()
    for layer in layers:
        weight = layer.weight.flatten(1) if not isinstance(layer, torch.nn.ConvTranspose2d) else \
            layer.weight.transpose(0, 1).flatten(1)
        top = float(torch.linalg.svdvals(weight.detach())[0])
        assert abs(top - 1) < 0.02, (type(layer).__name__, top)


def test_spectral_norm_leaves_normalised_layers_alone_and_is_saved_with_the_weights():
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Conv1d(8, 8, 1))
    spectral_norm(spectral_norm(net))
    assert len(net[0].parametrizations.weight) == 1  # normalising twice does not stack
    keys = set(net.state_dict())
    assert {"0.parametrizations.weight.original", "0.parametrizations.weight.0._u"} <= keys


def test_a_spectrally_normalised_dcgan_trains_and_resumes_from_the_command_line(tmp_path):
    args = ["--set", "discriminator.spectral_norm=true", "--set", "loss=hinge", "--set", "generator.width=8",
            "--set", "discriminator.width=8", "--set", "batch_size=16", "--set", "log_every=1", "--device", "cpu"]
    assert main(["run", "dcgan-mnist", "--out", str(tmp_path / "once"), "--set", "steps=4", *args]) == 0
    assert main(["run", "dcgan-mnist", "--out", str(tmp_path / "twice"), "--set", "steps=2", *args]) == 0
    assert main(["run", "--resume", str(tmp_path / "twice" / "checkpoints" / "last.pt"), "--set", "steps=4"]) == 0
    once = checkpoint.load(tmp_path / "once" / "checkpoints" / "last.pt")["discriminator"]
    twice = checkpoint.load(tmp_path / "twice" / "checkpoints" / "last.pt")["discriminator"]
    assert any(k.endswith("_u") for k in once)  # the power iteration's estimate is saved
    assert all(torch.equal(once[k], twice[k]) for k in once)
