"""Synthetic 2-d Gaussian mixtures with known modes (the PacGAN / VEEGAN benchmarks).

``ring``: 8 Gaussians evenly spaced on the unit circle, σ 0.01.
``grid``: 25 Gaussians on {-4, -2, 0, 2, 4}², σ 0.05.
Each sample is a uniformly chosen mode plus isotropic noise; the modes and σ
travel with the data so that the mode metrics can count what a generator covers.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from ganzoo import DataSpec, GanzooError, PositiveFloat, PositiveInt, TensorData

SPLIT_SEEDS = {"train": 0, "test": 1}


def _mixture(modes: torch.Tensor, sigma: float, n: int, seed: int, split: str) -> TensorData:
    if split not in SPLIT_SEEDS:
        raise GanzooError(f"unknown split {split!r}; use train or test")
    if n < 1:
        raise GanzooError(f"n must be at least 1, got {n}")
    gen = torch.Generator().manual_seed(seed * 1000 + SPLIT_SEEDS[split])
    which = torch.randint(len(modes), (n,), generator=gen)
    x = modes[which] + sigma * torch.randn(n, 2, generator=gen)
    return TensorData(x, DataSpec(shape=(2,), num_classes=None, value_range=None),
                      modes=modes, mode_sigma=sigma)


def ring_modes(count: int = 8, radius: float = 1.0) -> torch.Tensor:
    angles = torch.arange(count, dtype=torch.float64) * 2 * math.pi / count
    return (radius * torch.stack([angles.cos(), angles.sin()], 1)).float()


def grid_modes() -> torch.Tensor:
    axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    return torch.cartesian_prod(axis, axis)


def ring(root: Path, n: PositiveInt = 100_000, seed: int = 0, split: str = "train", sigma: PositiveFloat = 0.01) -> TensorData:
    """8 Gaussians on the unit circle, σ 0.01 (PacGAN's ring), 100k points."""
    return _mixture(ring_modes(), sigma, n, seed, split)


def grid(root: Path, n: PositiveInt = 100_000, seed: int = 0, split: str = "train", sigma: PositiveFloat = 0.05) -> TensorData:
    """25 Gaussians on {-4,-2,0,2,4}², σ 0.05 (PacGAN's grid), 100k points."""
    return _mixture(grid_modes(), sigma, n, seed, split)
