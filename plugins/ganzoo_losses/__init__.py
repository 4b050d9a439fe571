"""GAN losses by name: ``non-saturating`` and ``minimax`` (Goodfellow et al. 2014) and
``hinge`` (Lim & Ye 2017; Miyato et al. 2018).

They are ``ganzoo.losses``'s classes, registered through the ``ganzoo``
entry-point group like any third-party plugin, so every model plugin can
train with them without importing another plugin.
"""

from ganzoo import hookimpl
from ganzoo.losses import MinimaxLoss, NonSaturatingLoss

from .hinge import HingeLoss


@hookimpl
def register_losses(register):
    register("non-saturating", NonSaturatingLoss)
    register("minimax", MinimaxLoss)
    register("hinge", HingeLoss, description="hinge loss on D's raw scores (Lim & Ye 2017; Miyato et al. 2018)")
