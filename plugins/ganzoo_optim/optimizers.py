"""``torch.optim``'s optimizers as registered factories ``factory(params, **options)``.

Adam and AdamW default to their fused implementation, one kernel per step
instead of a loop over parameters (see docs/benchmarks.md); the others are
``torch.optim`` classes as they stand, whose signatures are the options a
recipe may set.
"""

from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from ganzoo import NonNegativeFloat, Probability

Betas = tuple[Probability, Probability]


def adam(params: Iterable[nn.Parameter], lr: NonNegativeFloat = 1e-3, betas: Betas = (0.9, 0.999),
         eps: NonNegativeFloat = 1e-8, weight_decay: NonNegativeFloat = 0.0, amsgrad: bool = False,
         fused: bool = True) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015): torch.optim.Adam, fused by default."""
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                            amsgrad=amsgrad, fused=fused)


def adamw(params: Iterable[nn.Parameter], lr: NonNegativeFloat = 1e-3, betas: Betas = (0.9, 0.999),
          eps: NonNegativeFloat = 1e-8, weight_decay: NonNegativeFloat = 1e-2, amsgrad: bool = False,
          fused: bool = True) -> torch.optim.AdamW:
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, fused by default."""
    return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                             amsgrad=amsgrad, fused=fused)


# Name -> torch.optim class, registered as they stand.
TORCH = {
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
}
