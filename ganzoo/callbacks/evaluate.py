"""Evaluation metrics during training, logged like the losses."""

from __future__ import annotations

from typing import Sequence

import torch

from ..components import classifies
from ..metrics.evaluate import check_metrics, evaluate, evaluation
from ..recipe import Component
from ..trainer import sample
from . import Callback
from .ema import average_of


class Evaluate(Callback):
    """Every ``every`` steps (and at the end), compute ``metrics`` on ``n`` samples
    against ``dataset``'s test split and report them through ``on_log``. The
    samples come from the moving average of G when the run keeps one (``g_ema``)."""

    def __init__(self, dataset: Component | str, every: int, metrics: Sequence[str] | None = None,
                 n: int = 5000, data_dir=None, cache=None, registry=None) -> None:
        self.dataset, self.every, self.metrics, self.n = dataset, every, metrics, n
        self.data_dir, self.cache, self.registry = data_dir, cache, registry
        self.history: list[dict[str, float]] = []

    def _run(self, trainer) -> None:
        trainer.check_finite()  # NaN weights would give NaN features, not a measurement
        averaged, live = self._classifiers(trainer)
        values = evaluate(self._sampler(trainer), self.dataset, self.metrics, self.n,
                          self.data_dir, self.cache, seed=0, conditional=self.conditional,
                          classify=averaged or live, registry=self.registry, device=trainer.device)
        if averaged is not None and "test-error" in self.metrics:
            # The average lags D by ~1/rate steps; D's own error shows where training is now.
            own = evaluate(self._sampler(trainer), self.dataset, ["test-error"], self.n, self.data_dir, self.cache,
                           classify=live, registry=self.registry, device=trainer.device)
            values.update({f"{k}-unaveraged": v for k, v in own.items() if k.startswith("test-")})
        values = {f"eval_{k}": v for k, v in values.items()}
        self.history.append({"step": trainer.step, **values})
        trainer.report(values)

    @staticmethod
    def _sampler(trainer):
        """``(n, y=None) -> samples`` from G's moving average if the run keeps one, else from G."""
        generator = average_of(trainer, "generator")
        if generator is None:
            return trainer.sample
        return lambda n, y=None: sample(generator, n, trainer.device, y)

    @staticmethod
    def _classifiers(trainer):
        """A classifying D as ``x -> logits`` in eval mode: ``(its EMA average, D itself)``
        when the run keeps an average, ``(None, D itself)`` when not, ``(None, None)``
        when D does not classify."""
        if not classifies(trainer.discriminator):
            return None, None
        averaged = average_of(trainer, "discriminator")

        def as_classifier(model):
            def classify(x):
                was_training = model.training
                model.eval()
                try:
                    with torch.no_grad():
                        return model(x.to(trainer.device))
                finally:
                    model.train(was_training)

            return classify

        return (None if averaged is None else as_classifier(averaged)), as_classifier(trainer.discriminator)

    def on_train_start(self, trainer) -> None:
        # Checked before the first step: a metric that cannot be computed stops the run now.
        self.conditional = getattr(trainer.generator, "conditional", False)
        _, live = self._classifiers(trainer)
        ev = evaluation(self._sampler(trainer), self.dataset, self.n, self.data_dir, self.cache,
                        conditional=self.conditional, classify=live, registry=self.registry,
                        device=trainer.device)
        self.metrics = check_metrics(self.metrics, ev, self.registry)

    def on_step_end(self, trainer) -> None:
        if trainer.step % self.every == 0:
            self._run(trainer)

    def on_train_end(self, trainer) -> None:
        if not trainer.interrupted and trainer.diverged is None and trainer.step % self.every != 0:
            self._run(trainer)
