"""Augmenting D's input: an augmentation applied to every batch D sees in training.

Zhao et al. 2020 (DiffAugment) and Karras et al. 2020 (ADA) augment real and
generated samples alike, in D's phase and in G's, with differentiable
transforms, so that D cannot memorise a small dataset and the augmentations do
not leak into G's samples. Attaching the augmentation to D's ``forward`` does
exactly that for every loss, whichever way it calls D, and leaves D's weights
and its evaluation (eval mode) untouched.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

from .components import DataSpec
from .errors import GanzooError, first_line

Augmentation = Callable[[Tensor], Tensor]
"""What a registered augmentation's factory returns: a batch in, a batch of the same shape out."""


def check_augmentation(augmentation: Augmentation, spec: DataSpec) -> None:
    """Run ``augmentation`` once on a batch of ``spec``'s shape (without moving the
    global random stream): an augmentation that cannot take this data fails here,
    in one line, not at the first training step."""
    if not callable(augmentation):
        raise GanzooError(f"an augmentation is a callable batch -> batch, got {type(augmentation).__name__}")
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        x = torch.zeros(2, *spec.shape)
        try:
            out = augmentation(x)
        except GanzooError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's augmentation can raise anything
            first = first_line(exc) or type(exc).__name__
            raise GanzooError(f"augmentation {type(augmentation).__name__} cannot take samples of shape "
                              f"{tuple(spec.shape)} ({type(exc).__name__}: {first})") from None
    _check_shape(augmentation, x, out)


def _check_shape(augmentation: Augmentation, x: Tensor, out: Any) -> None:
    if not isinstance(out, Tensor) or out.shape != x.shape:
        raise GanzooError(f"augmentation {type(augmentation).__name__} turned a batch of shape {tuple(x.shape)} "
                          f"into {tuple(getattr(out, 'shape', ())) or type(out).__name__}; it must keep the shape")


def augment_inputs(discriminator: nn.Module, augmentation: Augmentation) -> RemovableHandle:
    """Apply ``augmentation`` to the samples (first argument) of every call of
    ``discriminator`` while it is in training mode; returns the hook's handle
    (``.remove()`` undoes it). ``features(x)``, which feature matching calls
    directly, is not augmented."""
    if not callable(augmentation):
        raise GanzooError(f"an augmentation is a callable batch -> batch, got {type(augmentation).__name__}")

    def hook(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        if not module.training or not args:
            return None
        out = augmentation(args[0])
        _check_shape(augmentation, args[0], out)
        return (out, *args[1:])

    return discriminator.register_forward_pre_hook(hook)
