"""A rich progress bar with the live losses and speed."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from . import Callback

SHOWN = ("d_loss", "g_loss", "d_real", "d_fake")


def _losses(metrics: dict[str, float]) -> str:
    return "  ".join(f"{k} {metrics[k]:.3f}" for k in SHOWN if k in metrics)


class Progress(Callback):
    """Step bar with epoch, the latest averaged losses and steps per second.

    When the console is not a terminal (a log file, CI), it prints one plain line
    per logged interval instead of redrawing a bar.
    """

    def __init__(self, console: Console | None = None, description: str = "training") -> None:
        self.console = console or Console(stderr=True)
        self.description = description
        self._bar: RichProgress | None = None

    def on_train_start(self, trainer) -> None:
        if not self.console.is_terminal:
            return
        self._bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("epoch {task.fields[epoch]:.2f}"),
            TextColumn("{task.fields[losses]}"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._bar.start()
        self._task = self._bar.add_task(
            self.description, total=trainer.total_steps, completed=trainer.step,
            epoch=float(trainer.epoch), losses="", speed="",
        )

    def on_step_end(self, trainer) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        speed = f"{1 / metrics['step_time']:.1f} step/s" if metrics.get("step_time") else ""
        if self._bar is None:
            self.console.print(
                f"step {trainer.step}/{trainer.total_steps}  epoch {metrics['epoch']:.2f}  {_losses(metrics)}  {speed}",
                highlight=False, soft_wrap=True,
            )
            return
        self._bar.update(self._task, epoch=metrics["epoch"], losses=_losses(metrics), speed=speed)

    def on_train_end(self, trainer) -> None:
        if self._bar is not None:
            self._bar.stop()
