"""The two losses of Goodfellow et al. 2014, computed on logits: the standard GAN
losses, which plugins register and subclass.

With D's logit ``l`` and ``D = sigmoid(l)``: ``-log D = softplus(-l)`` and
``-log(1 - D) = softplus(l)``, which stay finite where ``log(sigmoid(l))`` would
underflow; this is exactly BCE-with-logits against targets 1 and 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .components import Batch, GANLoss, discriminate, generate


class NonSaturatingLoss(GANLoss):
    """Non-saturating GAN loss: D separates real from fake, G maximises log D(G(z)).

    D minimises ½[−log D(x) − log(1 − D(G(z)))]; G minimises −log D(G(z)).
    """

    def discriminator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        fake = generate(generator, len(batch), batch.y, batch.x.device)
        real_logits = discriminate(discriminator, batch.x, batch.y)
        fake_logits = discriminate(discriminator, fake, batch.y)
        # Real called real (target 1), generated called fake (target 0), averaged over
        # the two halves as in the reference code (goodfeli/adversarial: 0.5 · (…)).
        loss = 0.5 * (F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())
        with torch.no_grad():
            logs = {"d_real": torch.sigmoid(real_logits).mean(), "d_fake": torch.sigmoid(fake_logits).mean()}
        return loss, logs

    def generator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        fake_logits = self._fake_logits(batch, generator, discriminator)
        return F.softplus(-fake_logits).mean(), {}

    @staticmethod
    def _fake_logits(batch: Batch, generator: nn.Module, discriminator: nn.Module) -> Tensor:
        fake = generate(generator, len(batch), batch.y, batch.x.device)
        return discriminate(discriminator, fake, batch.y)


class MinimaxLoss(NonSaturatingLoss):
    """Minimax (saturating) GAN loss of the paper: G minimises log(1 − D(G(z)))."""

    def generator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        fake_logits = self._fake_logits(batch, generator, discriminator)
        return -F.softplus(fake_logits).mean(), {}
