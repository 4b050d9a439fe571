"""Optimistic Adam (Daskalakis, Ilyas, Syrgkanis & Zeng 2018, "Training GANs with Optimism")."""

from __future__ import annotations

import torch

from ganzoo import NonNegativeFloat, PositiveFloat


class OptimisticAdam(torch.optim.Optimizer):
    """Adam's direction ``u_t = m̂_t / (√v̂_t + ε)`` taken optimistically:
    ``θ ← θ − lr (2 u_t − u_{t−1})``, which damps the cycling of simultaneous
    gradient play that plain Adam shows on GAN games."""

    def __init__(self, params, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999), eps: float = 1e-8) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["m"], state["v"], state["u"] = (torch.zeros_like(p) for _ in range(3))
                state["step"] += 1
                t = state["step"]
                state["m"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                state["v"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                u = (state["m"] / (1 - beta1 ** t)) / ((state["v"] / (1 - beta2 ** t)).sqrt() + group["eps"])
                p.add_(2 * u - state["u"], alpha=-group["lr"])
                state["u"] = u
        return loss


def optimistic_adam(params, lr: PositiveFloat = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
                    eps: NonNegativeFloat = 1e-8) -> OptimisticAdam:
    """Optimistic Adam (Daskalakis et al. 2018): θ ← θ − lr (2 u_t − u_{t−1}), u Adam's step."""
    return OptimisticAdam(params, lr=lr, betas=betas, eps=eps)
