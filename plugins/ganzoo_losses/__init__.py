"""GAN losses by name: ``non-saturating`` and ``minimax`` (Goodfellow et al. 2014),
``hinge`` (Lim & Ye 2017; Miyato et al. 2018), ``wgan-gp`` (Gulrajani et al. 2017)
and ``relativistic`` (Jolicoeur-Martineau 2019). Each takes ``r1_gamma`` and
``r1_every``, the R1 penalty (Mescheder et al. 2018) of ``ganzoo.losses.ScoreLoss``.

They are registered through the ``ganzoo`` entry-point group like any
third-party plugin, so every model plugin can train with them without
importing another plugin.
"""

from ganzoo import hookimpl
from ganzoo.losses import MinimaxLoss, NonSaturatingLoss

from .hinge import HingeLoss
from .relativistic import RelativisticAverageLoss
from .wasserstein import WassersteinGPLoss


@hookimpl
def register_losses(register):
    register("non-saturating", NonSaturatingLoss)
    register("minimax", MinimaxLoss)
    register("hinge", HingeLoss, description="hinge loss on D's raw scores (Lim & Ye 2017; Miyato et al. 2018)")
    register("wgan-gp", WassersteinGPLoss,
             description="Wasserstein critic with gradient penalty λ=gp_weight (Gulrajani et al. 2017)")
    register("relativistic", RelativisticAverageLoss,
             description="relativistic average standard GAN, RaSGAN (Jolicoeur-Martineau 2019)")
