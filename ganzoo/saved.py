"""Runs saved in checkpoints: their recipe, their data spec, and their models rebuilt.

``ganzoo sample``, ``ganzoo eval`` and ``ganzoo run --resume`` read checkpoints
through :func:`load_run`, so a file that is not a run's checkpoint (written from
Python without a recipe, edited, of another version) is one line saying what is
wrong with it, whichever command reads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor, nn

from . import checkpoint
from .build import create
from .components import DataSpec, classifies
from .errors import GanzooError, first_line
from .recipe import Recipe
from .registry import Registry
from .trainer import resolve_device

EMA_KEYS = ("ema-discriminator", "EMA")  # where a run's average of D is saved (EMA: before state keys)
G_EMA_KEY = "ema-generator"  # where a run's average of G (g_ema) is saved


@dataclass
class SavedRun:
    """A checkpoint written by a run: ``state`` as saved, its ``recipe`` and data ``spec``."""

    path: Path
    state: dict[str, Any]
    recipe: Recipe
    spec: DataSpec

    @property
    def step(self) -> int:
        return self.state["step"]

    @property
    def has_average(self) -> bool:
        """Whether the run kept a moving average of G (a recipe's ``g_ema``) and saved it."""
        saved = self.state.get("callbacks", {}).get(G_EMA_KEY) or {}
        return saved.get("target") == "generator" and saved.get("weights") is not None

    def generator(self, device: str | torch.device = "auto", registry: Registry | None = None,
                  average: bool = True) -> nn.Module:
        """The saved generator, rebuilt from the recipe, on ``device``, in eval mode:
        the moving average of its weights when the run kept one (see
        :attr:`has_average`) and ``average`` is true, else the trained weights."""
        generator = create("generators", self.recipe.generator, self.spec, registry=registry)
        use_average = average and self.has_average
        weights = self.state["callbacks"][G_EMA_KEY]["weights"] if use_average else self.state["generator"]
        what = "generator's moving average" if use_average else "generator"
        self._load(generator, weights, what)
        if checkpoint.non_finite(weights) is not None:
            raise GanzooError(f"checkpoint {self.path} holds NaN or infinite {what} weights (its run diverged); "
                              "use an earlier checkpoint")
        return generator.to(resolve_device(device)).eval()

    def classifier(self, device: str | torch.device = "auto",
                   registry: Registry | None = None) -> Callable[[Tensor], Tensor] | None:
        """``x -> logits`` of the saved discriminator if it classifies the data (its
        moving average when the run kept one), else ``None``."""
        discriminator = create("discriminators", self.recipe.discriminator, self.spec, registry=registry)
        if not classifies(discriminator):
            return None
        saved = self.state.get("callbacks", {})
        averaged = next((saved[k] for k in EMA_KEYS if k in saved), {})
        use_average = averaged.get("target") == "discriminator" and averaged.get("weights") is not None
        self._load(discriminator, averaged["weights"] if use_average else self.state["discriminator"], "discriminator")
        dev = resolve_device(device)
        discriminator = discriminator.to(dev).eval()

        @torch.no_grad()
        def classify(x: Tensor) -> Tensor:
            return discriminator(x.to(dev))

        return classify

    def _load(self, model: nn.Module, weights: dict, what: str) -> None:
        try:
            model.load_state_dict(weights)
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            first = first_line(exc) or type(exc).__name__
            raise GanzooError(f"checkpoint {self.path}: its {what}'s weights do not fit its recipe's {what} "
                              f"({first}); was the file edited, or written by another version?") from None


def load_run(path: str | os.PathLike, option: str = "checkpoint") -> SavedRun:
    """The run saved in checkpoint ``path``, with its recipe and data spec checked;
    one line naming ``option`` (the argument it came from) if it is not one."""
    path = Path(path)
    state = checkpoint.load(path)
    if not state.get("recipe"):
        raise GanzooError(f"{option} {path}: the checkpoint has no recipe (it was written from Python), so its "
                          "run cannot be rebuilt by name; load it with Trainer.resume()")
    try:
        recipe = Recipe.from_dict(state["recipe"])
        spec = DataSpec.from_dict(state["data_spec"])
    except GanzooError as exc:
        raise GanzooError(f"{option} {path}: the checkpoint's recipe is not valid here ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file can hold anything
        what = "data_spec" if isinstance(exc, KeyError) else "recipe or data_spec"
        raise GanzooError(f"{option} {path}: the checkpoint's {what} is missing or malformed "
                          f"({type(exc).__name__}: {exc}); use a checkpoint written by `ganzoo run`") from None
    for key in ("generator", "discriminator", "step"):
        if key not in state:
            raise GanzooError(f"{option} {path}: the checkpoint has no {key!r}; use a checkpoint written by `ganzoo run`")
    return SavedRun(path, state, recipe, spec)
