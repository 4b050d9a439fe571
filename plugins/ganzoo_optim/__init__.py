"""Optimizers and schedules: ``torch.optim``'s optimizers by name (``adam``, ``sgd``, …)
and the ``decay`` schedule of the 2014 GAN paper's and the semi-supervised GAN's code.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import hookimpl

from .optimizers import TORCH, adam, adamw
from .schedules import Schedule

__all__ = ["Schedule", "adam", "adamw"]


@hookimpl
def register_optimizers(register):
    register("adam", adam)
    register("adamw", adamw)
    for name, cls in TORCH.items():
        register(name, cls, f"torch.optim.{cls.__name__}")


@hookimpl
def register_schedules(register):
    register("decay", Schedule, "learning-rate decay (exponential and/or linear to zero) and a momentum ramp")
