"""Shared fixtures. The data directory comes from GANZOO_DATA_DIR; when unset, the
test configuration points it at the checkout's sibling ``shared/data`` folder.

The cache (GANZOO_CACHE_DIR) is a fresh temporary directory for the session, removed
at exit, so the reference classifiers are trained from cold by their real code, never
read from ``~/.cache/ganzoo``. Set GANZOO_CACHE_DIR to use a warm cache on purpose;
subprocesses (the ``cli`` fixture) inherit it through ``os.environ``."""

from __future__ import annotations

import atexit
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("GANZOO_DATA_DIR", str(ROOT.parent / "shared" / "data"))
if not os.environ.get("GANZOO_CACHE_DIR"):
    os.environ["GANZOO_CACHE_DIR"] = tempfile.mkdtemp(prefix="ganzoo-test-cache-")
    atexit.register(shutil.rmtree, os.environ["GANZOO_CACHE_DIR"], ignore_errors=True)

import ganzoo  # noqa: E402
from ganzoo import Component, Recipe, TensorData  # noqa: E402


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ["GANZOO_DATA_DIR"])
    if not (path / "mnist").is_dir() and not (path / "MNIST").is_dir():
        pytest.fail(f"MNIST not found under GANZOO_DATA_DIR={path}")
    return path


@pytest.fixture(scope="session")
def mnist(data_dir) -> TensorData:
    """The real MNIST training split in [-1, 1]."""
    return ganzoo.load_dataset("mnist", data_dir)


@pytest.fixture(scope="session")
def mnist_classifier(data_dir):
    """The MNIST reference classifier: from the cache, or trained once (about 3 minutes on 2 cores)."""
    from ganzoo.metrics.classifier import reference_classifier

    return reference_classifier("mnist", data_dir, progress=False)


@pytest.fixture
def small_mnist(mnist) -> TensorData:
    """The first 640 real MNIST training images: 20 batches of 32, fast enough to train on."""
    return TensorData(mnist.x[:640].clone(), mnist.spec, y=mnist.y[:640].clone())


@pytest.fixture
def tiny_recipe() -> Recipe:
    """vanilla-mnist shrunk so that a real run takes seconds."""
    return ganzoo.get_recipe("vanilla-mnist").replace(
        generator=Component("mlp", latent_dim=32, hidden=(64, 128)),
        discriminator=Component("mlp", hidden=(128, 64)),
        batch_size=32, steps=30, log_every=10, sample_every=15,
    )


@pytest.fixture
def registry():
    """The default registry; plugins registered through it are removed afterwards."""
    reg = ganzoo.default_registry()
    before = {name for name, _ in reg.pm.list_name_plugin()}
    yield reg
    for name, _ in list(reg.pm.list_name_plugin()):
        if name not in before:
            reg.unregister(name)


@pytest.fixture
def no_features(registry) -> str:
    """Registers a discriminator without ``features(x)`` and returns its name."""
    from ganzoo import Discriminator, hookimpl

    class NoFeatures(Discriminator):
        def __init__(self, spec):
            super().__init__()
            self.lin = torch.nn.Linear(784, 1)

        def forward(self, x, y=None):
            return self.lin(x.flatten(1)).squeeze(-1)

    class Plugin:
        @hookimpl
        def register_discriminators(self, register):
            register("nofeatures", NoFeatures)

    registry.register(Plugin(), name="nofeatures-plugin")
    return "nofeatures"


def _trainer_for(data, steps, callbacks, **kwargs):
    """A small MLP GAN on ``data``, seeded, on the CPU; ``kwargs`` go to the Trainer."""
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", latent_dim=16, hidden=(32,)), data.spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(32,)), data.spec)
    kwargs.setdefault("log_every", 4)
    for optim in ("g_optim", "d_optim"):  # a registered optimizer by name, as a recipe names it
        if isinstance(kwargs.get(optim), Component):
            kwargs[optim] = ganzoo.optimizer(kwargs[optim])
    return ganzoo.Trainer(G, D, ganzoo.create("losses", "non-saturating"), data, batch_size=32,
                          steps=steps, device="cpu", callbacks=callbacks, **kwargs)


@pytest.fixture
def trainer_for():
    """Builds a small trainer on real data: ``trainer_for(data, steps, callbacks, **kwargs)``."""
    return _trainer_for


@pytest.fixture
def fit_and_check_it_learns():
    """``fit(trainer, losses)``: trains, then asserts that both nets moved from their
    initial weights and that the logged ``losses`` are finite."""

    def fit(trainer, losses=("d_loss", "g_loss")):
        before = {net: [p.detach().clone() for p in getattr(trainer, net).parameters()]
                  for net in ("generator", "discriminator")}
        trainer.fit()
        for net, start in before.items():
            assert any(not torch.equal(a, b) for a, b in zip(start, getattr(trainer, net).parameters())), net
        assert all(math.isfinite(trainer.last_metrics[k]) for k in losses), trainer.last_metrics
        return trainer

    return fit


GANZOO = str(Path(sys.executable).with_name("ganzoo"))


@pytest.fixture
def cli():
    """Run the installed ``ganzoo`` command as a user would, in a subprocess."""
    import subprocess

    def run(*args: str, env: dict | None = None, timeout: float = 300, **kwargs):
        return subprocess.run(
            [GANZOO, *args], capture_output=True, text=True,
            env={**os.environ, **(env or {})}, timeout=timeout, **kwargs,
        )

    return run


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    yield
