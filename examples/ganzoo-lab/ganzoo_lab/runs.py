"""``ganzoo runs [FOLDER]``: every run under a folder, with where it got to."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ganzoo import GanzooError


def _last_values(metrics: Path) -> tuple[dict, dict]:
    """The last training log and the last evaluation of a run's metrics.jsonl."""
    train, evaluation = {}, {}
    for line in metrics.read_text().splitlines() if metrics.is_file() else []:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a kill
            continue
        if any(k.startswith("eval_") for k in row):
            evaluation = row
        else:
            train = row
    return train, evaluation


def runs(argv: list[str]) -> int:
    """List the runs under a folder: recipe, step, last losses, last evaluation, best checkpoint."""
    parser = argparse.ArgumentParser(prog="ganzoo runs", description=runs.__doc__)
    parser.add_argument("folder", nargs="?", default="runs", type=Path)
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        raise GanzooError(f"{args.folder} is not a folder of runs; name the folder `ganzoo run --out` wrote into")
    table = Table(title=f"runs in {args.folder}", title_justify="left")
    for column in ("run", "recipe", "step", "losses", "last evaluation", "best.pt"):
        table.add_column(column)
    found = sorted(p.parent for p in args.folder.glob("*/recipe.json"))
    for run in found:
        recipe = json.loads((run / "recipe.json").read_text()).get("name", "?")
        train, evaluation = _last_values(run / "metrics.jsonl")
        losses = "  ".join(f"{k} {train[k]:.3f}" for k in ("d_loss", "g_loss") if train.get(k) is not None)
        shown = "  ".join(f"{k[5:]} {v:.4g}" for k, v in evaluation.items()
                          if k.startswith("eval_") and isinstance(v, float) and k not in ("eval_n", "eval_seconds"))
        table.add_row(run.name, recipe, str(train.get("step", "")), losses, shown,
                      "yes" if (run / "checkpoints" / "best.pt").is_file() else "")
    Console().print(table if found else f"no runs in {args.folder}")
    return 0
