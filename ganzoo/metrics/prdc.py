"""Precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020).

Each sample's k-NN ball has the radius of its k-th nearest neighbour within its
own set. Precision is the fraction of generated samples inside some real ball,
recall the fraction of real samples inside some generated ball. Density counts
how many real balls hold each generated sample (÷ k); coverage is the fraction
of real balls that hold at least one generated sample.

Precision alone does not catch noise or collapse: a generator whose samples all
sit in one dense real region scores full precision. Read it with recall and
coverage. Distances are computed in blocks, so 10k × 10k needs little memory.
"""

from __future__ import annotations

import torch
from torch import Tensor

BLOCK = 2048


def _kth_nn_radius(features: Tensor, k: int) -> Tensor:
    """Distance from each row to its k-th nearest other row."""
    radii = []
    for start in range(0, len(features), BLOCK):
        d = torch.cdist(features[start : start + BLOCK], features)
        # The k+1-th smallest includes the zero distance to itself.
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def _inside_counts(queries: Tensor, centres: Tensor, radii: Tensor) -> Tensor:
    """For each query, how many centres' balls contain it."""
    counts = []
    for start in range(0, len(queries), BLOCK):
        d = torch.cdist(queries[start : start + BLOCK], centres)
        counts.append((d <= radii.unsqueeze(0)).sum(1))
    return torch.cat(counts)


def _covered(real: Tensor, real_radii: Tensor, fake: Tensor) -> Tensor:
    """For each real sample, whether its ball holds any generated sample."""
    nearest = []
    for start in range(0, len(real), BLOCK):
        nearest.append(torch.cdist(real[start : start + BLOCK], fake).min(1).values)
    return torch.cat(nearest) <= real_radii


def _prep(x: Tensor) -> Tensor:
    return x.detach().to(torch.float64).flatten(1)


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> dict[str, float]:
    """Improved precision and recall of ``fake`` against ``real`` features."""
    real, fake = _prep(real), _prep(fake)
    real_r, fake_r = _kth_nn_radius(real, k), _kth_nn_radius(fake, k)
    precision = (_inside_counts(fake, real, real_r) > 0).double().mean()
    recall = (_inside_counts(real, fake, fake_r) > 0).double().mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real: Tensor, fake: Tensor, k: int = 5) -> dict[str, float]:
    """Density and coverage of ``fake`` against ``real`` features (real balls only)."""
    real, fake = _prep(real), _prep(fake)
    real_r = _kth_nn_radius(real, k)
    density = _inside_counts(fake, real, real_r).double().mean() / k
    coverage = _covered(real, real_r, fake).double().mean()
    return {"density": float(density), "coverage": float(coverage)}
