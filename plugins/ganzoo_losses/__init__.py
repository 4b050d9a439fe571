"""The standard GAN losses of Goodfellow et al. 2014, by name: ``non-saturating`` and ``minimax``.

They are ``ganzoo.losses``'s classes, registered through the ``ganzoo``
entry-point group like any third-party plugin, so every model plugin can
train with them without importing another plugin.
"""

from ganzoo import hookimpl
from ganzoo.losses import MinimaxLoss, NonSaturatingLoss


@hookimpl
def register_losses(register):
    register("non-saturating", NonSaturatingLoss)
    register("minimax", MinimaxLoss)
