"""Adversarial losses on D's scores: the base class plugins subclass, and the two
losses of Goodfellow et al. 2014.

A :class:`ScoreLoss` is written as two functions of D's scores (its raw outputs)
on a real and a generated batch; the phases around them (drawing the generated
batch, scoring both, the R1 penalty any score loss can take) are done once here.

With D's logit ``l`` and ``D = sigmoid(l)``: ``-log D = softplus(-l)`` and
``-log(1 - D) = softplus(l)``, which stay finite where ``log(sigmoid(l))`` would
underflow; this is exactly BCE-with-logits against targets 1 and 0.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .components import Batch, GANLoss, discriminate, generate
from .options import NonNegativeFloat, PositiveInt
from .penalties import r1_penalty


class ScoreLoss(GANLoss):
    """A GAN loss that is a function of D's scores of a real and a generated batch.

    Subclasses define :meth:`d_loss` and :meth:`g_loss` on score tensors, and may
    add a penalty that needs D itself in :meth:`d_penalty` (WGAN-GP's). Every
    score loss takes two options:

    * ``r1_gamma``: γ of the R1 penalty γ/2 · E‖∇ₓD(x)‖² on real data (Mescheder
      et al. 2018), added to D's loss and logged as ``r1``; 0 (default) is off.
    * ``r1_every``: lazy regularisation (Karras et al. 2020, Section 3.1): the
      penalty is computed on every k-th D update only, weighted by k.

    The count of D updates is the loss's state; the trainer saves it in
    checkpoints (``state_dict``/``load_state_dict``), so a resumed run penalises
    the same updates.

    A discriminator with an auxiliary classifier (``auxiliary_classes = K``,
    AC-GAN; Odena et al. 2017) returns ``(n, 1 + K)``: the score, then class
    logits. The score goes to :meth:`d_loss`/:meth:`g_loss`, and ``D.class_weight``
    × the cross-entropy of the logits with the batch's labels is added to D's
    loss (real and generated samples; logged as ``d_class``) and to G's
    (generated samples, which G made for those labels; ``g_class``).
    """

    g_needs_real = False  # whether g_loss reads D's scores of the real batch (relativistic losses do)

    @property
    def double_backward(self) -> bool:
        """Whether D's loss differentiates through gradients: R1, or a penalty of its own."""
        return self.r1_gamma > 0 or type(self).d_penalty is not ScoreLoss.d_penalty

    def __init__(self, r1_gamma: NonNegativeFloat = 0.0, r1_every: PositiveInt = 1) -> None:
        self.r1_gamma, self.r1_every = float(r1_gamma), int(r1_every)
        self.d_updates = 0

    def d_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss from its scores of the real and the generated batch, and detached logs."""
        raise NotImplementedError

    def g_loss(self, fake: Tensor, real: Tensor | None) -> Tensor:
        """G's loss from D's scores of its batch (and of the real one when ``g_needs_real``)."""
        raise NotImplementedError

    def d_penalty(self, real: Tensor, fake: Tensor,
                  critic: Callable[[Tensor], Tensor]) -> tuple[Tensor | float, dict[str, Tensor]]:
        """A weighted term added to D's loss that needs D on other inputs, and its logs.
        ``real`` and ``fake`` are the samples (not scores); ``critic`` scores a batch."""
        return 0.0, {}

    def discriminator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        fake = generate(generator, len(batch), batch.y, batch.x.device)
        r1 = self.r1_gamma > 0 and self.d_updates % self.r1_every == 0
        self.d_updates += 1
        x = batch.x.detach().requires_grad_(True) if r1 else batch.x
        real_scores, real_classes = _split(discriminator, discriminate(discriminator, x, batch.y))
        fake_scores, fake_classes = _split(discriminator, discriminate(discriminator, fake, batch.y))
        loss, logs = self.d_loss(real_scores, fake_scores)
        penalty, more = self.d_penalty(batch.x, fake,
                                       lambda v: _split(discriminator, discriminate(discriminator, v, batch.y))[0])
        loss, logs = loss + penalty, {**logs, **more}
        if r1:
            r1_value = r1_penalty(real_scores, x)
            loss = loss + 0.5 * self.r1_gamma * self.r1_every * r1_value
            logs["r1"] = r1_value.detach()
        if real_classes is not None:
            class_loss = F.cross_entropy(real_classes, batch.y) + F.cross_entropy(fake_classes, batch.y)
            loss = loss + discriminator.class_weight * class_loss
            logs["d_class"] = class_loss.detach()
        return loss, logs

    def generator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        fake = generate(generator, len(batch), batch.y, batch.x.device)
        fake_scores, fake_classes = _split(discriminator, discriminate(discriminator, fake, batch.y))
        real_scores = None
        if self.g_needs_real:
            real_scores = _split(discriminator, discriminate(discriminator, batch.x, batch.y))[0]
        loss = self.g_loss(fake_scores, real_scores)
        if fake_classes is None:
            return loss, {}
        class_loss = F.cross_entropy(fake_classes, batch.y)
        return loss + discriminator.class_weight * class_loss, {"g_class": class_loss.detach()}

    def state_dict(self) -> dict[str, Any]:
        return {"d_updates": self.d_updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.d_updates = int(state.get("d_updates", 0))


def _split(discriminator: nn.Module, out: Tensor) -> tuple[Tensor, Tensor | None]:
    """D's scores and, for a discriminator with an auxiliary classifier, its class logits."""
    if getattr(discriminator, "auxiliary_classes", None) is None:
        return out, None
    return out[:, 0], out[:, 1:]


class NonSaturatingLoss(ScoreLoss):
    """Non-saturating GAN loss: D separates real from fake, G maximises log D(G(z)).

    D minimises ½[−log D(x) − log(1 − D(G(z)))]; G minimises −log D(G(z)).
    """

    def d_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        # Real called real (target 1), generated called fake (target 0), averaged over
        # the two halves as in the reference code (goodfeli/adversarial: 0.5 · (…)).
        loss = 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean())
        with torch.no_grad():
            logs = {"d_real": torch.sigmoid(real).mean(), "d_fake": torch.sigmoid(fake).mean()}
        return loss, logs

    def g_loss(self, fake: Tensor, real: Tensor | None) -> Tensor:
        return F.softplus(-fake).mean()


class MinimaxLoss(NonSaturatingLoss):
    """Minimax (saturating) GAN loss of the paper: G minimises log(1 − D(G(z)))."""

    def g_loss(self, fake: Tensor, real: Tensor | None) -> Tensor:
        return -F.softplus(fake).mean()
