"""Periodic and final checkpoints: ``last.pt`` always, ``step-XXXXXXX.pt`` every N steps."""

from __future__ import annotations

import time
from pathlib import Path

from . import Callback


class Checkpointer(Callback):
    """Saves ``last.pt`` every ``every`` steps, every ``every_seconds`` of wall time
    (so a killed run loses minutes, not hours), and at the end of training (also
    after Ctrl-C or SIGTERM); keeps a numbered copy at each multiple of ``every``.

    A run that diverged is not saved at its end: its last finite ``last.pt`` stays.
    """

    def __init__(self, directory: str | Path, every: int = 5000, keep_periodic: bool = True,
                 every_seconds: float | None = 600.0) -> None:
        self.directory = Path(directory)
        self.every = every
        self.keep_periodic = keep_periodic
        self.every_seconds = every_seconds
        self.last: Path | None = None
        self._saved_at = time.monotonic()

    def on_train_start(self, trainer) -> None:
        self._saved_at = time.monotonic()

    def _save_last(self, trainer) -> None:
        self.last = trainer.save(self.directory / "last.pt")
        self._saved_at = time.monotonic()

    def on_step_end(self, trainer) -> None:
        if trainer.step % self.every == 0:
            self._save_last(trainer)
            if self.keep_periodic:
                trainer.save(self.directory / f"step-{trainer.step:07d}.pt")
        elif self.every_seconds is not None and time.monotonic() - self._saved_at >= self.every_seconds:
            self._save_last(trainer)

    def on_train_end(self, trainer) -> None:
        if trainer.diverged is None:
            self._save_last(trainer)
