"""WGAN-GP (Gulrajani et al. 2017, Algorithm 1): the Wasserstein critic loss with a
gradient penalty in place of weight clipping.

The critic minimises E[D(G(z))] − E[D(x)] + λ E(‖∇D(x̂)‖₂ − 1)² on random
interpolates x̂ of real and generated samples; G minimises −E[D(G(z))]. The
paper trains with λ = 10, five critic updates per G update and Adam(1e-4,
β = (0, 0.9)); its critics have no BatchNorm, which would make each sample's
gradient depend on the rest of the batch (the dcgan discriminator's
``norm=null`` or ``norm=layer``).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from ganzoo import NonNegativeFloat, PositiveInt
from ganzoo.losses import ScoreLoss
from ganzoo.penalties import gradient_penalty


class WassersteinGPLoss(ScoreLoss):
    """Wasserstein loss on the critic's raw scores, with gradient penalty ``gp_weight`` (λ).

    Logs ``wasserstein`` (E[D(x)] − E[D(G(z))], the critic's estimate of the
    distance, which should fall as G improves) and ``gp`` (the penalty before λ).
    """

    def __init__(self, gp_weight: NonNegativeFloat = 10.0, r1_gamma: NonNegativeFloat = 0.0,
                 r1_every: PositiveInt = 1) -> None:
        super().__init__(r1_gamma, r1_every)
        self.gp_weight = float(gp_weight)

    def d_loss(self, real: Tensor, fake: Tensor):
        loss = fake.mean() - real.mean()
        return loss, {"wasserstein": -loss.detach()}

    def d_penalty(self, real: Tensor, fake: Tensor, critic: Callable[[Tensor], Tensor]):
        if self.gp_weight == 0:
            return 0.0, {}
        gp = gradient_penalty(critic, real, fake)
        return self.gp_weight * gp, {"gp": gp.detach()}

    def g_loss(self, fake: Tensor, real: Tensor | None) -> Tensor:
        return -fake.mean()
