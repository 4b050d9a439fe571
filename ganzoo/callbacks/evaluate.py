"""Evaluation metrics during training, logged like the losses."""

from __future__ import annotations

from typing import Sequence

from ..recipe import Component
from . import Callback


class Evaluate(Callback):
    """Every ``every`` steps (and at the end), compute ``metrics`` on ``n`` samples
    against ``dataset``'s test split and report them through ``on_log``."""

    def __init__(self, dataset: Component | str, every: int, metrics: Sequence[str] | None = None,
                 n: int = 5000, data_dir=None, cache=None) -> None:
        self.dataset, self.every, self.metrics, self.n = dataset, every, metrics, n
        self.data_dir, self.cache = data_dir, cache
        self.history: list[dict[str, float]] = []

    def _run(self, trainer) -> None:
        from ..metrics.evaluate import evaluate

        values = evaluate(trainer.sample, self.dataset, self.metrics, self.n,
                          self.data_dir, self.cache, seed=0, conditional=self.conditional)
        values = {f"eval_{k}": v for k, v in values.items()}
        self.history.append({"step": trainer.step, **values})
        trainer.report(values)

    def on_train_start(self, trainer) -> None:
        from ..metrics.evaluate import check_metrics, default_metrics

        data, self.conditional = trainer.data, getattr(trainer.generator, "conditional", False)
        name = self.dataset if isinstance(self.dataset, str) else self.dataset.name
        chosen = self.metrics if self.metrics is not None else default_metrics(data, self.conditional)
        self.metrics = check_metrics(chosen, data, name, self.conditional)

    def on_step_end(self, trainer) -> None:
        if trainer.step % self.every == 0:
            self._run(trainer)

    def on_train_end(self, trainer) -> None:
        if not trainer.interrupted and trainer.step % self.every != 0:
            self._run(trainer)
