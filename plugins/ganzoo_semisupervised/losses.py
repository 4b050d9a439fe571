"""Salimans et al. 2016's semi-supervised GAN loss (Section 5) and feature matching (Section 3.1).

The discriminator's K logits ``l`` are class scores; a (K+1)-th "fake" class
with its logit fixed at 0 gives D(x) = Z/(Z+1), Z = Σ_k exp(l_k), so
``log D(x) = LSE(l) − softplus(LSE(l))`` and ``log(1 − D(x)) = −softplus(LSE(l))``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo import Batch, GanzooError, GANLoss, generate
from ganzoo.losses import NonSaturatingLoss


def feature_matching(discriminator: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    """‖E f(x) − E f(G(z))‖² (mean over the feature units), f = ``discriminator.features``."""
    return (discriminator.features(fake).mean(0) - discriminator.features(real).mean(0)).square().mean()


def _parts(batch: Batch) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """D's unlabelled samples, G's, the labelled samples and their labels (only labels
    the mask allows). Unlabelled rows after the last labelled one are G's (the
    dataset's ``second_unlabelled`` block); without them G shares D's."""
    if batch.labelled is None or batch.y is None:
        raise GanzooError("the semi-supervised loss needs batches with a labelled-mask; use the dataset "
                          "semi-supervised(base=...), which keeps only a chosen subset of labels")
    mask = batch.labelled
    seen = mask.cumsum(0)
    behind = ~mask & (seen == seen[-1]) & (seen[-1] > 0)
    for_d = batch.x[~mask & ~behind]
    for_g = batch.x[behind]
    return for_d, (for_g if len(for_g) else for_d), batch.x[mask], batch.y[mask]


class SemiSupervisedLoss(GANLoss):
    """D: cross-entropy on the labelled samples plus ``unlabeled_weight`` × the GAN loss
    of a (K+1)-class D (real unlabelled samples are "some real class", generated ones
    the fake class), exactly the reference code's ``loss_lab + loss_unl``. G: feature
    matching on the unlabelled samples (or ``generator="non-saturating"``).

    ``unlabeled_weight=0`` trains D as a plain classifier on the labelled samples:
    the baseline the GAN has to beat.
    """

    def __init__(self, unlabeled_weight: float = 1.0, generator: str = "feature-matching") -> None:
        if generator not in ("feature-matching", "non-saturating"):
            raise GanzooError(f"generator loss {generator!r}: choose feature-matching or non-saturating")
        self.unlabeled_weight, self.generator = unlabeled_weight, generator

    def discriminator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        unlabelled, _, labelled, labels = _parts(batch)
        logits_lab = discriminator(labelled)
        loss_lab = F.cross_entropy(logits_lab, labels)
        loss = loss_lab
        logs = {"loss_lab": loss_lab.detach()}
        if self.unlabeled_weight:
            fake = generate(generator, len(unlabelled), None, batch.x.device)
            lse_unl = torch.logsumexp(discriminator(unlabelled), 1)
            lse_fake = torch.logsumexp(discriminator(fake), 1)
            loss_unl = (-0.5 * lse_unl.mean() + 0.5 * F.softplus(lse_unl).mean()
                        + 0.5 * F.softplus(lse_fake).mean())
            loss = loss + self.unlabeled_weight * loss_unl
            logs.update(loss_unl=loss_unl.detach(), d_real=torch.sigmoid(lse_unl).mean().detach(),
                        d_fake=torch.sigmoid(lse_fake).mean().detach())
        with torch.no_grad():
            logs["train_err"] = (logits_lab.argmax(1) != labels).float().mean()
        return loss, logs

    def generator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        _, unlabelled, _, _ = _parts(batch)
        fake = generate(generator, len(unlabelled), None, batch.x.device)
        if self.generator == "feature-matching":
            return feature_matching(discriminator, unlabelled, fake), {}
        # −log D(G(z)) = softplus(LSE) − LSE = softplus(−LSE)
        return F.softplus(-torch.logsumexp(discriminator(fake), 1)).mean(), {}


class FeatureMatchingLoss(NonSaturatingLoss):
    """Non-saturating D loss; G matches the mean of D's ``features`` on real and
    generated batches instead of fooling D's output. Works with any D exposing features."""

    def generator_loss(self, batch: Batch, generator: nn.Module, discriminator: nn.Module):
        if getattr(discriminator, "conditional", False):
            raise GanzooError("feature matching compares unconditional features; use an unconditional discriminator")
        fake = generate(generator, len(batch), batch.y, batch.x.device)
        return feature_matching(discriminator, batch.x, fake), {}
