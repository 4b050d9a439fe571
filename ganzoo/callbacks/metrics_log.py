"""Append every logged average to ``metrics.jsonl``, one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

from . import Callback


class MetricsLog(Callback):
    """Writes ``{"step": ..., "epoch": ..., "d_loss": ..., ...}`` lines as the run logs.

    On resume, lines past the checkpoint's step are dropped first, so the file
    reads as one continuous run.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_start(self, trainer) -> None:
        if self.path.exists() and trainer.step > 0:
            kept = [
                line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= trainer.step
            ]
            self.path.write_text("".join(line + "\n" for line in kept))

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(metrics) + "\n")
