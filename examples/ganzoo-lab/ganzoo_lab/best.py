"""Keep the run at its best evaluation: ``checkpoints/best.pt``."""

from __future__ import annotations

import math

from ganzoo import GanzooError
from ganzoo.callbacks import Callback, Evaluate


class BestCheckpoint(Callback):
    """Each time an evaluation gives the best ``metric`` so far (lowest with
    ``mode="min"``, as FD and MMD; highest with ``"max"``), save the run to
    ``checkpoints/best.pt`` in the run directory. Its best value and step are
    saved in every checkpoint, so a resumed run keeps comparing against them."""

    def __init__(self, metric: str = "fd", mode: str = "min") -> None:
        if mode not in ("min", "max"):
            raise GanzooError(f"best-checkpoint: mode is min or max, got {mode!r}")
        self.metric, self.mode = metric, mode
        self.run_dir = None  # set by `ganzoo run`
        self.best: float | None = None
        self.step: int | None = None

    def on_train_start(self, trainer) -> None:
        evaluations = [c for c in trainer.callbacks if isinstance(c, Evaluate)]
        if not evaluations:
            raise GanzooError(f"best-checkpoint keeps the run at its best {self.metric!r}, and this run evaluates "
                              "nothing; set eval_every (and eval_metrics)")
        named = evaluations[0].metrics
        if named is not None and self.metric not in named:
            raise GanzooError(f"best-checkpoint watches {self.metric!r}, which eval_metrics ({', '.join(named)}) do "
                              f"not compute; add it, or set callbacks.best-checkpoint.metric")

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        value = metrics.get(f"eval_{self.metric}")
        evaluated = [k[len("eval_"):] for k in metrics if k.startswith("eval_") and k not in ("eval_n", "eval_seconds")]
        if value is None and evaluated:  # an evaluation without the metric (eval_metrics left to the defaults)
            raise GanzooError(f"best-checkpoint watches {self.metric!r}, which this run's evaluations do not "
                              f"compute ({', '.join(evaluated)}); set eval_metrics, or callbacks.best-checkpoint.metric")
        if value is None or not math.isfinite(value):
            return
        if self.best is None or (value < self.best if self.mode == "min" else value > self.best):
            self.best, self.step = value, trainer.step
            if self.run_dir is not None:
                trainer.save(self.run_dir / "checkpoints" / "best.pt")

    def state_dict(self) -> dict:
        return {"best": self.best, "step": self.step}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.step = state["best"], state["step"]
