"""The protocols of ganzoo.protocols are what the built-ins meet, and what they check can fail."""

import inspect

import pytest
import torch

import ganzoo
from ganzoo import Component, DataSpec
from ganzoo.callbacks import Callback
from ganzoo.protocols import CallbackLike, DatasetFactory, DiscriminatorLike, GeneratorLike, Loss
from ganzoo.registry import default_registry

def _recipes():
    return sorted(default_registry().entries("recipes"))


# Recipes whose data is not on this machine (CIFAR-10) or is the user's own (a folder):
# their models are built for the spec that data has.
SPECS = {"cifar10": DataSpec((3, 32, 32), 10), "image-folder": DataSpec((3, 64, 64))}


@pytest.mark.parametrize("name", _recipes())
def test_every_recipe_builds_models_and_a_loss_that_meet_the_protocols(name, data_dir):
    recipe = ganzoo.get_recipe(name)
    if recipe.dataset.name in SPECS:
        spec = SPECS[recipe.dataset.name]
        generator = ganzoo.create("generators", recipe.generator, spec)
        discriminator = ganzoo.create("discriminators", recipe.discriminator, spec)
        ganzoo.check_compatible(generator, discriminator, spec)
        loss, callbacks = ganzoo.create("losses", recipe.loss), ganzoo.recipe_callbacks(recipe)
    else:
        trainer = ganzoo.build(recipe, data_dir=data_dir, device="cpu")
        generator, discriminator, loss, callbacks = (trainer.generator, trainer.discriminator, trainer.loss,
                                                     trainer.callbacks)
    assert isinstance(generator, GeneratorLike)
    assert isinstance(discriminator, DiscriminatorLike)
    assert isinstance(loss, Loss)
    assert all(isinstance(callback, CallbackLike) for callback in callbacks)


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
