"""ganzoo: an extensible plugin library of GAN variants for PyTorch.

Compose registered components by name, or pass your own modules::

    import ganzoo
    trainer = ganzoo.build(ganzoo.get_recipe("vanilla-mnist").replace(steps=500))
    trainer.fit()
    images = trainer.sample(16)
"""

from .build import build, check_compatible, create, load_dataset
from .components import (Batch, DataSpec, Discriminator, GANLoss, Generator, classifies, discriminate, feature_width,
                         generate, output_activation)
from .data import DataFile, TensorData
from .errors import GanzooError
from .hookspecs import hookimpl
from .options import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, Probability, Rule, Seed, Widths
from .recipe import Component, Recipe
from .registry import default_registry
from .trainer import Trainer

__version__ = "0.1.0"


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name`` (an error with close matches if unknown)."""
    return default_registry().get("recipes", name).obj


__all__ = [
    "Batch", "Component", "DataFile", "DataSpec", "Discriminator", "GANLoss", "GanzooError", "Generator",
    "NonNegativeFloat", "NonNegativeInt", "PositiveFloat", "PositiveInt", "Probability", "Recipe", "Rule", "Seed",
    "Widths", "TensorData", "Trainer", "build", "check_compatible", "classifies", "create", "default_registry",
    "discriminate", "feature_width", "generate", "get_recipe", "hookimpl", "load_dataset", "output_activation",
]
