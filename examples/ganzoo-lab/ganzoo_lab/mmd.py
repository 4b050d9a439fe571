"""Kernel MMD in a dataset's reference features, as the Kernel Inception Distance computes it."""

from __future__ import annotations

import torch
from torch import Tensor

from ganzoo import Metric


def mmd2(x: Tensor, y: Tensor) -> float:
    """The unbiased estimate of MMD² between two equally large sets, with the cubic
    polynomial kernel ``k(a, b) = (a·b / d + 1)³`` of Bińkowski et al. 2018."""
    m, d = len(x), x.shape[1]
    kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
    within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * kxy.mean())


class KernelMMD(Metric):
    """The mean of MMD² over ``subsets`` random subsets of ``size`` generated and real
    samples (Bińkowski et al. 2018 use 100 of 1,000), with its standard error."""

    description = "kernel MMD² (KID's estimator) in the dataset's reference features, mean of subsets"
    compares_real = True
    min_n = 2

    def __init__(self, size: int = 1000, subsets: int = 50) -> None:
        self.size, self.subsets = size, subsets

    def unusable(self, ev) -> str | None:
        return ev.features_unusable()

    def __call__(self, ev) -> dict[str, float]:
        real, fake = ev.real_features()[0].double(), ev.fake_features().double()
        size = min(self.size, len(real), len(fake))
        gen = torch.Generator().manual_seed(ev.seed)
        values = torch.tensor([mmd2(fake[torch.randperm(len(fake), generator=gen)[:size]],
                                    real[torch.randperm(len(real), generator=gen)[:size]])
                               for _ in range(self.subsets)], dtype=torch.float64)
        return {"mmd": float(values.mean()), "mmd_se": float(values.std() / self.subsets ** 0.5)}
