"""Stacked MNIST: three MNIST digits as the R, G and B channels of one image.

1,000 modes (digit triples). Each image draws its three digits independently
and uniformly from the MNIST split, with a seeded generator; the label is the
triple as one number, ``100·r + 10·g + b``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ganzoo import DataSpec, GanzooError, PositiveInt, TensorData

from .mnist import mnist


def stacked_mnist(root: Path, n: PositiveInt = 128_000, seed: int = 0, split: str = "train",
                  value_range: tuple[float, float] = (-1.0, 1.0), download: bool = True) -> TensorData:
    """Three MNIST digits stacked as RGB channels, 1000 modes, 128k images."""
    if n < 1:
        raise GanzooError(f"n must be at least 1, got {n}")
    digits = mnist(root, split=split, value_range=value_range, download=download)
    gen = torch.Generator().manual_seed(seed)
    index = torch.randint(len(digits), (n, 3), generator=gen)
    x = digits.x[index].squeeze(2)  # (n, 3, 28, 28)
    labels = digits.y[index]
    y = labels[:, 0] * 100 + labels[:, 1] * 10 + labels[:, 2]
    return TensorData(x, DataSpec(shape=(3, 28, 28), num_classes=1000, value_range=tuple(value_range)),
                      y=y, reference="mnist")


stacked_mnist.locate = mnist.locate  # it reads MNIST's own files, from MNIST's folders
