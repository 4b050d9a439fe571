"""An exponential moving average of a network's parameters, kept beside the run.

Salimans et al. evaluate their semi-supervised discriminator with such an
average (rate 1e-4), and StyleGAN samples from one of its generator: the
average is steadier than the weights of any single step.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from . import Callback


def average_of(trainer, target: str) -> nn.Module | None:
    """The moving average of the trainer's ``target`` network (``"generator"`` or
    ``"discriminator"``) that an :class:`EMA` callback keeps, or ``None``."""
    for callback in trainer.callbacks:
        if isinstance(callback, EMA) and callback.target == target and callback.model is not None:
            return callback.model
    return None


class EMA(Callback):
    """After every step, ``average += rate · (weights − average)`` for the trainer's
    ``target`` network (``"discriminator"`` or ``"generator"``); buffers (BatchNorm
    statistics) are copied. ``model`` is the averaged copy, saved in checkpoints.

    The average starts from the initial weights (the reference code starts it at
    zero, which only washes out after about 1/rate steps).
    """

    def __init__(self, target: str = "discriminator", rate: float = 1e-4) -> None:
        if target not in ("discriminator", "generator"):
            raise ValueError(f"EMA target must be 'discriminator' or 'generator', got {target!r}")
        if not 0 < rate <= 1:
            raise ValueError(f"EMA rate must be in (0, 1], got {rate}")
        self.target, self.rate = target, rate
        self.state_key = f"ema-{target}"  # an average of each network can be kept side by side
        self.model: nn.Module | None = None
        self._pending: dict | None = None

    def on_train_start(self, trainer) -> None:
        if self.model is None:
            self.model = copy.deepcopy(getattr(trainer, self.target)).eval().requires_grad_(False)
        if self._pending is not None:
            self.model.load_state_dict(self._pending)
            self._pending = None

    @torch.no_grad()
    def on_step_end(self, trainer) -> None:
        live = getattr(trainer, self.target)
        for mine, theirs in zip(self.model.parameters(), live.parameters()):
            mine.lerp_(theirs, self.rate)
        for mine, theirs in zip(self.model.buffers(), live.buffers()):
            mine.copy_(theirs)

    def state_dict(self) -> dict:
        return {"target": self.target, "rate": self.rate,
                "weights": None if self.model is None else self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        # A checkpoint of an earlier version keyed the average by class name: a state of
        # the other network's average is not this one's.
        if state.get("target", self.target) != self.target:
            return
        if state.get("weights") is not None:
            self._pending = state["weights"]
