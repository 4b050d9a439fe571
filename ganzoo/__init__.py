"""ganzoo: an extensible plugin library of GAN variants for PyTorch.

Compose registered components by name, or pass your own modules::

    import ganzoo
    trainer = ganzoo.build(ganzoo.get_recipe("vanilla-mnist").replace(steps=500))
    trainer.fit()
    images = trainer.sample(16)
"""

from .build import build, check_compatible, optimizer, recipe_callbacks
from .components import (Batch, DataSpec, Discriminator, GANLoss, Generator, classifies, discriminate, feature_width,
                         generate, output_activation)
from .data import Data, DataFile, TensorData
from .errors import GanzooError, TrainingDiverged
from .factories import create, load_dataset
from .hookspecs import hookimpl
from .metrics.evaluation import Evaluation, Metric, Reference
from .options import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, Probability, Rule, Seed, Widths
from .recipe import Component, Derived, Recipe
from .registry import default_registry
from .run import Run
from .saved import SavedRun, load_run
from .stream import ReadFailed, StreamData, memory_budget
from .trainer import Trainer

__version__ = "0.1.0"


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name`` (an error with close matches if unknown)."""
    return default_registry().get("recipes", name).obj


__all__ = [
    "Batch", "Component", "Data", "DataFile", "DataSpec", "Derived", "Discriminator", "Evaluation", "GANLoss",
    "GanzooError", "Generator", "Metric", "NonNegativeFloat", "NonNegativeInt", "PositiveFloat", "PositiveInt",
    "Probability", "ReadFailed", "Recipe", "Reference", "Rule", "Run", "SavedRun", "Seed", "StreamData", "TensorData", "Trainer",
    "TrainingDiverged", "Widths", "build", "check_compatible", "classifies", "create", "default_registry",
    "discriminate", "feature_width", "generate", "get_recipe", "hookimpl", "load_dataset", "load_run", "memory_budget", "optimizer",
    "output_activation", "recipe_callbacks",
]
