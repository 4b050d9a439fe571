"""Gradient penalties on the discriminator: what WGAN-GP and R1 add to D's loss.

Both are functions of D's gradient with respect to its input, taken with
``create_graph=True`` so that D's loss back-propagates through them (a double
backward). Each sample's gradient is its own only when D treats samples
independently: BatchNorm in D mixes them, which is why Gulrajani et al. train
their critics without it.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def input_gradient(scores: Tensor, x: Tensor) -> Tensor:
    """∂ Σ scores / ∂x, one row per sample, kept in the graph (``x`` must require grad)."""
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.flatten(1)


def r1_penalty(real_scores: Tensor, real: Tensor) -> Tensor:
    """E‖∇ₓD(x)‖² on real samples (Mescheder et al. 2018, Eq. 9, without the γ/2).

    ``real_scores`` must have been computed from ``real`` with ``real.requires_grad``.
    """
    return input_gradient(real_scores, real).square().sum(1).mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
    """E(‖∇D(x̂)‖₂ − 1)² at x̂ = εx + (1 − ε)x̃, ε ~ U[0, 1] per sample (Gulrajani
    et al. 2017, Algorithm 1, without the λ). ``critic`` maps a batch to scores."""
    eps = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    between = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    grad = input_gradient(critic(between), between)
    return (grad.norm(2, dim=1) - 1).square().mean()
