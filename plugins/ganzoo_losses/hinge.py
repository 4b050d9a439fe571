"""The hinge loss (Lim & Ye 2017; Miyato et al. 2018, Eq. 17): D as a margin classifier
on raw scores, G raising D's score of its samples.

D minimises E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))]; G minimises −E[D(G(z))].
D's outputs are scores, not logits of a probability, so the log reports them as
``real_score`` and ``fake_score`` (not ``d_real``/``d_fake``, which ganzoo reads
as probabilities).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.losses import ScoreLoss


class HingeLoss(ScoreLoss):
    """Hinge loss on D's raw scores (margin 1), G's loss the negated fake score."""

    def d_loss(self, real: Tensor, fake: Tensor):
        loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        with torch.no_grad():
            logs = {"real_score": real.mean(), "fake_score": fake.mean()}
        return loss, logs

    def g_loss(self, fake: Tensor, real: Tensor | None) -> Tensor:
        return -fake.mean()
