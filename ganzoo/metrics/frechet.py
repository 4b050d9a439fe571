"""Fréchet distance between Gaussians fitted to two sets of features.

FD = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½, computed in float64.
Both square roots are of symmetric positive semi-definite matrices, so they are
taken through symmetric eigendecompositions (negative round-off clamped to 0)
instead of a general ``sqrtm``, which can return complex noise.

FD is biased upward at small sample sizes: compare values only at equal N.
"""

from __future__ import annotations

import torch
from torch import Tensor


def gaussian_stats(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and (unbiased) covariance of ``(n, d)`` features, in float64."""
    f = features.detach().to(torch.float64)
    if f.dim() != 2 or f.shape[0] < 2:
        raise ValueError(f"need (n >= 2, d) features, got shape {tuple(features.shape)}")
    mu = f.mean(0)
    centred = f - mu
    return mu, centred.T @ centred / (f.shape[0] - 1)


def _psd_sqrt(matrix: Tensor) -> Tensor:
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance_from_stats(mu1: Tensor, cov1: Tensor, mu2: Tensor, cov2: Tensor) -> float:
    """FD between N(mu1, cov1) and N(mu2, cov2)."""
    mu1, cov1, mu2, cov2 = (t.to(torch.float64) for t in (mu1, cov1, mu2, cov2))
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    trace_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    diff = mu1 - mu2
    return float(diff @ diff + cov1.trace() + cov2.trace() - 2 * trace_sqrt)


def frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """FD between Gaussians fitted to ``(n, d)`` feature sets ``a`` and ``b``."""
    return frechet_distance_from_stats(*gaussian_stats(features_a), *gaussian_stats(features_b))
