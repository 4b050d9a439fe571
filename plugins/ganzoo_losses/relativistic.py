"""The relativistic average standard GAN, RaSGAN (Jolicoeur-Martineau 2019, Eqs. 15–16):
D judges whether a real sample is more realistic than the average generated one,
and G is trained on both halves, so real data's scores enter G's loss too.

With C the raw score: D minimises E_x softplus(−(C(x) − E C(G(z)))) +
E_z softplus(C(G(z)) − E C(x)); G minimises the same with real and fake swapped.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.losses import ScoreLoss


class RelativisticAverageLoss(ScoreLoss):
    """RaSGAN: the non-saturating loss on each score relative to the other batch's mean."""

    g_needs_real = True

    def d_loss(self, real: Tensor, fake: Tensor):
        loss = F.softplus(-(real - fake.mean())).mean() + F.softplus(fake - real.mean()).mean()
        with torch.no_grad():
            logs = {"real_score": real.mean(), "fake_score": fake.mean()}
        return loss, logs

    def g_loss(self, fake: Tensor, real: Tensor | None) -> Tensor:
        real = real.detach()
        return F.softplus(-(fake - real.mean())).mean() + F.softplus(real - fake.mean()).mean()
