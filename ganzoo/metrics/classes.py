"""Metrics on a classifier's predictions for generated samples.

The classifier score is the Inception Score computed with ganzoo's own
classifier: exp E_x KL(p(y|x) ‖ p(y)). It is high when each sample is
confidently one class and the classes are balanced; at most the number of
classes. Class coverage and the KL of the predicted class histogram to the real
one show collapse onto a few classes directly.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def classifier_score(probs: Tensor) -> float:
    """exp E KL(p(y|x) ‖ p(y)) of ``(n, classes)`` predicted probabilities."""
    p = probs.detach().to(torch.float64).clamp(min=1e-12)
    marginal = p.mean(0, keepdim=True)
    return math.exp(float((p * (p.log() - marginal.log())).sum(1).mean()))


def class_histogram(probs: Tensor) -> Tensor:
    """Fraction of samples predicted as each class (argmax)."""
    counts = torch.bincount(probs.argmax(1), minlength=probs.shape[1])
    return counts.double() / len(probs)


def classes_covered(probs: Tensor, min_share: float = 0.1) -> int:
    """How many classes receive at least ``min_share`` of a fair share of the samples.

    With 10 classes and the default 0.1, a class counts when at least 1% of the
    samples are predicted as it, so that the classifier's own errors on a
    collapsed generator (0.5% of sevens read as something else) do not count as
    coverage."""
    return int((class_histogram(probs) >= min_share / probs.shape[1]).sum())


def class_kl(probs: Tensor, real_histogram: Tensor) -> float:
    """KL(generated class histogram ‖ real class histogram), in nats."""
    gen = class_histogram(probs)
    real = real_histogram.to(torch.float64)
    mask = gen > 0
    return float((gen[mask] * (gen[mask].log() - real[mask].clamp(min=1e-12).log())).sum())
