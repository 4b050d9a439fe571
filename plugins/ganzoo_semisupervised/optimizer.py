"""``adam-eps-inside``: the Adam the semi-supervised GAN was trained with.

It is the Adam of openai/improved-gan (``nn.adam_updates``), with
which the semi-supervised GAN of Salimans et al. 2016 was trained: its ε sits
inside the square root, ``m̂ / √(v̂ + ε)``, where Kingma & Ba and ``torch.optim.Adam``
have ``m̂ / (√v̂ + ε)``. With ε = 1e-8 the two agree wherever √v̂ ≫ 1e-4; where
gradients are smaller, torch's Adam still moves each weight by about ``lr`` a
step, this one by less (by ``lr · √v̂ / 1e-4`` as √v̂ → 0). In that model it
is what keeps the reference's sigmoid generator from collapsing in most runs
(docs: the semi-supervised page).
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn


class EpsInsideAdam(torch.optim.Optimizer):
    """openai/improved-gan's Adam, with ε under the square root: θ ← θ − lr · m̂ / √(v̂ + ε).

    m̂ and v̂ are bias-corrected as in torch's Adam. Its momentum is ``betas[0]``, as for ``torch.optim.Adam``, so schedules that
    ramp Adam's β1 apply to it too.
    """

    def __init__(self, params: Iterable[nn.Parameter], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        if lr < 0:
            raise ValueError(f"lr must be at least 0, got {lr}")
        if not all(0 <= b < 1 for b in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        if eps < 0:
            raise ValueError(f"eps must be at least 0, got {eps}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(p.grad, 1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denominator = (v / (1 - beta2 ** t)).add_(group["eps"]).sqrt_()
                p.addcdiv_(m, denominator, value=-group["lr"] / (1 - beta1 ** t))
        return loss
