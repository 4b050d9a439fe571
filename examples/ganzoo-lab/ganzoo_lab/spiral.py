"""A two-arm spiral of 2-d points, and the feature space it is measured in."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganzoo import DataSpec, GanzooError, NonNegativeFloat, PositiveInt, TensorData

SPLITS = {"train": 0, "test": 1}


def spiral(root, n: PositiveInt = 20_000, split: str = "train", noise: NonNegativeFloat = 0.03,
           seed: int = 0) -> TensorData:
    """Two interleaved spiral arms of 2-d points (1.5 turns each, radius 0.2 to 1), Gaussian noise."""
    if split not in SPLITS:
        raise GanzooError(f"spiral: unknown split {split!r}; use train or test")
    gen = torch.Generator().manual_seed(seed * len(SPLITS) + SPLITS[split])
    t = torch.rand(n, generator=gen)
    arm = torch.randint(0, 2, (n,), generator=gen)
    angle = 3 * math.pi * t + math.pi * arm
    radius = 0.2 + 0.8 * t
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    x = x + noise * torch.randn(n, 2, generator=gen)
    return TensorData(x, DataSpec((2,), num_classes=None, value_range=None), reference="spiral-rff")


class RandomFourierFeatures:
    """``√2 cos(xW + b)`` with ``W ~ N(0, 1/ℓ²)``, ``b ~ U[0, 2π)`` fixed by a seed:
    the feature map of a Gaussian kernel of length ℓ (Rahimi & Recht 2007: the mean of
    a·b over the D features approximates the kernel), so that
    distances between feature means are kernel distances between point sets."""

    def __init__(self, data_dir=None, cache=None, dataset=None, dims: int = 256, length: float = 0.1) -> None:
        gen = torch.Generator().manual_seed(0)
        self.weight = torch.randn(2, dims, generator=gen, dtype=torch.float64) / length
        self.bias = 2 * math.pi * torch.rand(dims, generator=gen, dtype=torch.float64)
        self.key = f"rff-{dims}-{length}"

    def features(self, x: Tensor, value_range=None) -> Tensor:
        return math.sqrt(2) * torch.cos(x.double().cpu() @ self.weight + self.bias)
