"""Learning-rate decay and a momentum ramp, set on both optimisers from the step count.

The 2014 GAN paper's reference code (``goodfeli/adversarial``, ``mnist.yaml``)
trains with pylearn2's ``ExponentialDecay`` (the learning rate divided by a
factor after every update, down to a floor) and ``MomentumAdjustor`` (momentum
raised linearly from its initial value to a final one between two epochs).
The semi-supervised GANs' reference code (``openai/improved-gan``) instead holds
the learning rate and then lowers it linearly to zero over the last third of
training (``lr₀ · min(3 − epoch/400, 1)`` for CIFAR-10, ``epoch/100`` in the
MNIST script of 2016-06-09). All are pure functions of the trainer's step and
epoch and of the optimisers' initial settings, which are kept in the optimisers'
own parameter groups, so a resumed run continues the same schedule.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer

from ganzoo import GanzooError, NonNegativeFloat, NonNegativeInt
from ganzoo.callbacks import Callback


class Schedule(Callback):
    """After every step ``t``: learning rate ``max(lr₀ / lr_decay^t, min_lr)``, times
    ``(b − e) / (b − a)`` clipped to [0, 1] with ``linear_decay=(a, b)`` once
    ``e`` epochs are complete (``lr₀`` until epoch ``a``, zero from epoch ``b``);
    with ``final_momentum``, momentum ``m₀ + α (final − m₀)``, where ``α`` goes
    linearly from 0 to 1 as the completed epochs go from ``momentum_start`` to
    ``momentum_saturate``. Momentum is SGD's ``momentum`` or Adam's β1."""

    every_rank = True  # it sets the optimizers' learning rates: every rank alike

    def __init__(self, lr_decay: float = 1.0, min_lr: NonNegativeFloat = 0.0, final_momentum: float | None = None,
                 momentum_start: NonNegativeInt = 1, momentum_saturate: NonNegativeInt = 250,
                 linear_decay: tuple[int, int] | None = None) -> None:
        if lr_decay < 1:
            raise GanzooError(f"lr_decay divides the learning rate every step and must be ≥ 1 (e.g. 1.000004); "
                              f"got {lr_decay}")
        if min_lr < 0:
            raise GanzooError(f"min_lr must be ≥ 0, got {min_lr}")
        if final_momentum is not None and not 0 <= final_momentum < 1:
            raise GanzooError(f"final_momentum must be in [0, 1), got {final_momentum}")
        if not 0 <= momentum_start <= momentum_saturate:
            raise GanzooError(f"momentum epochs must satisfy 0 ≤ start ≤ saturate; got start {momentum_start}, "
                              f"saturate {momentum_saturate}")
        if linear_decay is not None and not (isinstance(linear_decay, (tuple, list)) and len(linear_decay) == 2
                                             and all(isinstance(e, int) for e in linear_decay)
                                             and 0 <= linear_decay[0] < linear_decay[1]):
            raise GanzooError(f"linear_decay is (first epoch, last epoch) with 0 ≤ first < last, e.g. (200, 300); "
                              f"got {linear_decay}")
        self.lr_decay, self.min_lr, self.final_momentum = lr_decay, min_lr, final_momentum
        self.linear_decay = None if linear_decay is None else tuple(linear_decay)
        self.momentum_start, self.momentum_saturate = momentum_start, momentum_saturate

    def on_train_start(self, trainer) -> None:
        for optim in (trainer.g_optim, trainer.d_optim):
            for group in optim.param_groups:
                # Restored from a checkpoint's optimiser state when resuming.
                group.setdefault("initial_lr", group["lr"])
                if self.final_momentum is not None:
                    group.setdefault("initial_momentum", _momentum(group, optim))
        self._apply(trainer)

    def on_step_end(self, trainer) -> None:
        self._apply(trainer)

    def learning_rate(self, initial: float, step: int, epoch: int = 0) -> float:
        """The learning rate after ``step`` updates and ``epoch`` completed epochs."""
        # In log space: lr_decay**step overflows a float long before a run ends (1.5**1800).
        lr = max(initial * math.exp(-step * math.log(self.lr_decay)), self.min_lr)
        if self.linear_decay is not None:
            first, last = self.linear_decay
            lr *= min(max((last - epoch) / (last - first), 0.0), 1.0)
        return lr

    def momentum(self, initial: float, epoch: int) -> float:
        """The momentum after ``epoch`` completed epochs."""
        width = self.momentum_saturate - self.momentum_start
        if width == 0:
            alpha = 1.0 if epoch > self.momentum_start else 0.0
        else:
            alpha = min(max((epoch - self.momentum_start) / width, 0.0), 1.0)
        return initial + alpha * (self.final_momentum - initial)

    def _apply(self, trainer) -> None:
        for optim in (trainer.g_optim, trainer.d_optim):
            for group in optim.param_groups:
                group["lr"] = self.learning_rate(group["initial_lr"], trainer.step, trainer.epoch)
                if self.final_momentum is not None:
                    _set_momentum(group, self.momentum(group["initial_momentum"], trainer.epoch))


def _momentum(group: dict, optim: Optimizer) -> float:
    if "momentum" in group:
        return group["momentum"]
    if "betas" in group:
        return group["betas"][0]
    raise GanzooError(f"final_momentum needs an optimiser with momentum (SGD's momentum or Adam's β1); "
                      f"{type(optim).__name__} has none: drop final_momentum or change the optimiser")


def _set_momentum(group: dict, value: float) -> None:
    if "momentum" in group:
        group["momentum"] = value
    else:
        group["betas"] = (value, *group["betas"][1:])
