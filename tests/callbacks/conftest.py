"""Fixtures for the callback tests."""

import pytest
import torch

import ganzoo
from ganzoo import Component


def _trainer_for(data, steps, callbacks, **kwargs):
    """A small MLP GAN on ``data``, seeded, on the CPU; ``kwargs`` go to the Trainer."""
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", latent_dim=16, hidden=(32,)), data.spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(32,)), data.spec)
    kwargs.setdefault("log_every", 4)
    return ganzoo.Trainer(G, D, ganzoo.create("losses", "non-saturating"), data, batch_size=32,
                          steps=steps, device="cpu", callbacks=callbacks, **kwargs)


@pytest.fixture
def trainer_for():
    """Builds the small trainer the callback tests watch."""
    return _trainer_for
