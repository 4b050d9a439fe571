"""Augmentations of D's input by name: ``diffaugment`` (Zhao et al. 2020).

Registered through the ``ganzoo`` entry-point group like any third-party
plugin; a recipe names one in its ``augment`` field.
"""

from ganzoo import hookimpl

from .diffaugment import DiffAugment


@hookimpl
def register_augmentations(register):
    register("diffaugment", DiffAugment,
             description="differentiable colour, translation and cutout on real and fake alike (Zhao et al. 2020)")
