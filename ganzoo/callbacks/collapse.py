"""A warning when the discriminator wins outright.

When D calls every generated sample fake for thousands of steps, the run has
often failed: G's gradient through D carries little, and such runs seldom
recover (the results log in the docs has examples: the semi-supervised GAN's
sigmoid generator, the 2014 GAN with its output bias from the data). Nothing in
the losses stops such a run, so the user is told, once, while it is still cheap
to start again.
"""

from __future__ import annotations

import math

from rich.console import Console

from . import Callback


class CollapseWatch(Callback):
    """Warns once when D(G(z)) — the loss's logged ``d_fake`` — has averaged below
    ``threshold`` in every log interval for at least ``patience`` steps.

    Losses that log no ``d_fake`` are not watched, and a log without it (the
    evaluation metrics that ``Trainer.report`` sends through ``on_log``) leaves the
    count where it was. A NaN or infinite ``d_fake`` is divergence, not D winning:
    it starts the count again. Training goes on: the warning only says what the
    numbers show and what to do about it.
    """

    def __init__(self, console: Console | None = None, threshold: float = 0.01, patience: int = 2000) -> None:
        if not 0 < threshold < 1:
            raise ValueError(f"CollapseWatch threshold must be in (0, 1), got {threshold}")
        if patience < 1:
            raise ValueError(f"CollapseWatch patience must be at least 1 step, got {patience}")
        self.console = console or Console(stderr=True)
        self.threshold, self.patience = threshold, patience
        self.warned_at: int | None = None
        self._low_since: int | None = None
        self._last_step: int | None = None

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        d_fake = metrics.get("d_fake")
        if d_fake is None:
            return  # not a training log (e.g. evaluation metrics), or a loss that logs no d_fake
        # The interval a logged mean covers began just after the previous training log.
        interval_start = self._last_step if self._last_step is not None else max(trainer.step - trainer.log_every, 0)
        self._last_step = trainer.step
        if not math.isfinite(d_fake) or d_fake >= self.threshold:
            self._low_since = None
            return
        if self._low_since is None:
            self._low_since = interval_start
        if self.warned_at is None and trainer.step - self._low_since >= self.patience:
            self.warned_at = trainer.step
            self.console.print(
                f"[yellow]warning:[/] D(G(z)) has averaged below {self.threshold:g} since step "
                f"{self._low_since} ({trainer.step - self._low_since} steps, now {d_fake:.4f}): D rejects "
                f"every generated sample and the generator has likely collapsed; such runs often do not recover. "
                f"Stop it (Ctrl-C saves) and start again with another --seed",
                highlight=False, soft_wrap=True,
            )
