"""The protocols of ganzoo.protocols are what the built-ins meet, and what they check can fail."""

import inspect

import pytest
import torch

import ganzoo
from ganzoo import Component
from ganzoo.callbacks import Callback
from ganzoo.protocols import CallbackLike, DatasetFactory, DiscriminatorLike, GeneratorLike, Loss
from ganzoo.registry import default_registry

def _recipes():
    return sorted(default_registry().entries("recipes"))


@pytest.mark.parametrize("name", _recipes())
def test_every_recipe_builds_models_and_a_loss_that_meet_the_protocols(name, data_dir):
    trainer = ganzoo.build(ganzoo.get_recipe(name), data_dir=data_dir, device="cpu")
    assert isinstance(trainer.generator, GeneratorLike)
    assert isinstance(trainer.discriminator, DiscriminatorLike)
    assert isinstance(trainer.loss, Loss)
    assert all(isinstance(callback, CallbackLike) for callback in trainer.callbacks)


def test_every_built_in_dataset_takes_a_split():
    for name, entry in default_registry().entries("datasets").items():
        assert isinstance(entry.obj, DatasetFactory)
        assert "split" in inspect.signature(entry.obj).parameters, name


def test_the_protocols_reject_what_lacks_their_methods():
    class NoPrior(torch.nn.Module):
        latent_dim = 8

        def forward(self, z, y=None):
            return z

    assert not isinstance(NoPrior(), GeneratorLike)
    assert not isinstance(object(), Loss)
    assert not isinstance(object(), CallbackLike)
    assert isinstance(Callback(), CallbackLike)
    assert isinstance(ganzoo.create("losses", Component("minimax")), Loss)
