"""Periodic and final checkpoints: ``last.pt`` always, ``step-XXXXXXX.pt`` every N steps."""

from __future__ import annotations

from pathlib import Path

from . import Callback


class Checkpointer(Callback):
    """Saves ``last.pt`` every ``every`` steps and at the end of training (also after
    Ctrl-C), and keeps a numbered copy at each multiple of ``every``."""

    def __init__(self, directory: str | Path, every: int = 5000, keep_periodic: bool = True) -> None:
        self.directory = Path(directory)
        self.every = every
        self.keep_periodic = keep_periodic
        self.last: Path | None = None

    def on_step_end(self, trainer) -> None:
        if trainer.step % self.every == 0:
            self.last = trainer.save(self.directory / "last.pt")
            if self.keep_periodic:
                trainer.save(self.directory / f"step-{trainer.step:07d}.pt")

    def on_train_end(self, trainer) -> None:
        self.last = trainer.save(self.directory / "last.pt")
