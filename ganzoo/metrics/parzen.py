"""Parzen-window log-likelihood, exactly as Goodfellow et al. 2014 measured GANs.

The protocol of ``goodfeli/adversarial``'s ``parzen_ll.py``: generated samples
(pixels in [0, 1], flattened) are the centres of isotropic Gaussian kernels;
σ is chosen from ``logspace(-1, 0, 10)`` by the mean log-likelihood of 1,000
validation images; the reported figure is the mean log-likelihood of the test
images ± std/√N:

    log p(x) = logmeanexp_i(−‖x − μ_i‖² / 2σ²) − d·log(σ√(2π))

It is an obsolete measure (it rewards blur and depends strongly on σ and on the
number of samples) and is kept to compare with the published tables.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

SIGMAS = tuple(float(s) for s in torch.logspace(-1, 0, 10, dtype=torch.float64))


def parzen_log_likelihood(x: Tensor, centres: Tensor, sigma: float, block: int = 500) -> Tensor:
    """Per-example log-likelihood of ``x`` under the Parzen window of ``centres``."""
    x = x.detach().to(torch.float64).flatten(1)
    centres = centres.detach().to(torch.float64).flatten(1)
    d = x.shape[1]
    c_sq = (centres * centres).sum(1)
    out = []
    for start in range(0, len(x), block):
        xb = x[start : start + block]
        sq = (xb * xb).sum(1, keepdim=True) + c_sq.unsqueeze(0) - 2 * xb @ centres.T
        sq = sq.clamp(min=0)
        out.append(torch.logsumexp(-sq / (2 * sigma * sigma), dim=1) - math.log(len(centres)))
    return torch.cat(out) - d * math.log(sigma * math.sqrt(2 * math.pi))


def select_sigma(centres: Tensor, validation: Tensor, sigmas: tuple[float, ...] = SIGMAS) -> float:
    """The σ among ``sigmas`` that maximises the mean validation log-likelihood."""
    scores = [parzen_log_likelihood(validation, centres, s).mean().item() for s in sigmas]
    return sigmas[max(range(len(sigmas)), key=scores.__getitem__)]


def parzen(centres: Tensor, validation: Tensor, test: Tensor,
           sigmas: tuple[float, ...] = SIGMAS) -> dict[str, float]:
    """The paper's figure: σ by validation, then mean ± standard error on the test set."""
    sigma = select_sigma(centres, validation, sigmas)
    ll = parzen_log_likelihood(test, centres, sigma)
    return {
        "parzen": float(ll.mean()),
        "parzen_se": float(ll.std(correction=0) / math.sqrt(len(ll))),  # numpy's std, as the reference
        "parzen_sigma": sigma,
    }
