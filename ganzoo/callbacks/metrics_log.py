"""Append every logged average to ``metrics.jsonl``, one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

from ..files import json_text, os_error, write_text
from . import Callback


class MetricsLog(Callback):
    """Writes ``{"step": ..., "epoch": ..., "d_loss": ..., ...}`` lines as the run logs.

    On resume, lines past the checkpoint's step are dropped first, so the file
    reads as one continuous run; so is a partial last line, what a kill or a
    full disk leaves behind. NaN and infinities are written as ``null``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_start(self, trainer) -> None:
        if not self.path.exists() or trainer.step == 0:
            return
        kept = []
        for line in self.path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill: nothing in it can be trusted
            if isinstance(entry, dict) and entry.get("step", 0) <= trainer.step:
                kept.append(line)
        write_text(self.path, "".join(line + "\n" for line in kept))

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        try:
            with self.path.open("a") as f:
                f.write(json_text(metrics, indent=None) + "\n")
        except OSError as exc:
            raise os_error(exc, self.path) from None
