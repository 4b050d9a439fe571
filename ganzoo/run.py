"""A recipe as a training run in a run directory: the one place that assembles one.

``ganzoo run`` and Python build the same run from the same recipe::

    run = ganzoo.Run(ganzoo.get_recipe("vanilla-mnist"), out="runs/mine")
    run.fit()

:func:`ganzoo.build` gives the trainer with every part of the recipe that needs
no directory (data, models, loss, optimizers, schedule, averages, evaluation,
listed callbacks); a :class:`Run` adds what a run directory holds: the recipe
(``recipe.json``), the logs (``metrics.jsonl``, ``losses.png``), sample grids
every ``sample_every`` steps, checkpoints every ``checkpoint_every``, the progress
bar and the collapse warning. Everything is checked before anything is
written, a run that fails before its first step leaves nothing behind, an
existing run is never overwritten unless asked, and a resumed run continues
exactly.

Launched by torchrun, a Run is one rank of several: it starts the process group
(:func:`ganzoo.distributed.join`) before building, the ranks agree on whether
the run could be built (one message, from rank 0), and rank 0 alone creates the
run directory and writes into it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import torch
from rich.console import Console

from . import distributed
from .build import build
from .callbacks import Checkpointer, CollapseWatch, LossCurves, MetricsLog, Progress, SampleGrid, SampleScatter
from .errors import GanzooError
from .files import check_folder, os_error, write_text
from .recipe import Recipe
from .registry import Registry
from .saved import SavedRun, load_run
from .trainer import Trainer, resolve_device

# What a resumed run may change: its length and how it is watched. Everything
# else decides which steps it takes, so changing it would break exact resume.
MAY_CHANGE_ON_RESUME = ("steps", "epochs", "log_every", "sample_every", "checkpoint_every", "eval_every",
                        "eval_metrics", "eval_n", "name", "description")
RUN_FILES = ("recipe.json", "metrics.jsonl", "losses.png", "samples", "checkpoints")  # what a run directory holds


def check_resumable(recipe: Recipe, saved: Recipe) -> None:
    """Raise unless ``recipe`` continues ``saved`` exactly (only its length and
    logging may differ)."""
    ours, theirs = recipe.to_dict(), saved.to_dict()
    for key in ours:
        if key not in MAY_CHANGE_ON_RESUME and ours[key] != theirs.get(key):
            raise GanzooError(
                f"--resume: the checkpoint's {key} is {json.dumps(theirs.get(key))} but this run's is "
                f"{json.dumps(ours[key])}; a resumed run continues exactly, so only its length and logging "
                "may change; resume with the same recipe, or start a new run without --resume"
            )


def join(device: str | torch.device = "auto") -> distributed.World:
    """This process's place in the run: under torchrun, the process group is
    started (once) with the backend that suits ``device``; else one process. A
    device that cannot be had is said when the run is built."""
    try:
        resolved = distributed.local_device(resolve_device(device))
    except GanzooError:
        resolved = torch.device("cpu")
    return distributed.join(resolved)


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` already holds (part of) a run."""
    return folder.is_dir() and any((folder / name).exists() for name in RUN_FILES)


class Run:
    """``recipe`` trained in the run directory ``out`` (default: a new
    ``runs/<recipe>-<time>``), or continuing the run saved in checkpoint ``resume``.

    Building checks everything (the recipe, the parts against each other, the
    directory, the checkpoint) and writes nothing; :meth:`fit` creates the
    directory and trains. ``out`` that already holds a run is refused unless
    ``overwrite``; resuming defaults ``out`` to the checkpoint's run directory.
    ``console`` is where progress and warnings go (default: stderr). ``compile``
    is a ``torch.compile`` mode for the networks (see :class:`ganzoo.Trainer`).
    """

    def __init__(self, recipe: Recipe | None = None, out: str | os.PathLike | None = None, *,
                 resume: str | os.PathLike | SavedRun | None = None, overwrite: bool = False,
                 data_dir: str | os.PathLike | None = None, device: str = "auto", callbacks: Sequence[Any] = (),
                 registry: Registry | None = None, console: Console | None = None,
                 compile: str | None = None) -> None:
        self.world = join(device)
        with distributed.errors_agreed(self.world):
            self._assemble(recipe, out, resume, overwrite, data_dir, device, callbacks, registry, console, compile)

    def _assemble(self, recipe, out, resume, overwrite, data_dir, device, callbacks, registry, console,
                  compile) -> None:
        if overwrite and resume is not None:
            raise GanzooError("--overwrite replaces a run and --resume continues one; pass only one of them")
        self.saved = resume if isinstance(resume, SavedRun) or resume is None else load_run(resume, "--resume")
        if recipe is None:
            if self.saved is None:
                raise GanzooError("name a recipe (see `ganzoo list recipes`) or pass --resume CKPT")
            recipe = self.saved.recipe
        if not isinstance(recipe, Recipe):
            raise GanzooError(f"a Run is built from a ganzoo.Recipe, got {type(recipe).__name__}")
        if self.saved is not None:
            check_resumable(recipe, self.saved.recipe)
        self.recipe, self.overwrite, self.console = recipe, overwrite, console or Console(stderr=True)
        self.requested = self._check_out(None if out is None else Path(out).expanduser())
        self.out: Path | None = self.requested
        self.trainer: Trainer = build(recipe, data_dir=data_dir, device=device, callbacks=callbacks,
                                      registry=registry, compile=compile)
        if self.saved is not None:
            try:
                self.trainer.load_state_dict(self.saved.state)
            except GanzooError as exc:
                raise GanzooError(f"--resume {self.saved.path}: {exc}; was the file edited, or written by another "
                                  "version?") from None
            if self.trainer.step >= self.trainer.total_steps:
                raise GanzooError(
                    f"--resume: the checkpoint is at step {self.trainer.step}, and this run's length is "
                    f"{self.trainer.total_steps} steps; there is nothing left to train. Set a longer length, e.g. "
                    f"--set steps={self.trainer.step + max(self.trainer.step, 1)}"
                )
        self.checkpoints: Checkpointer | None = None

    def _check_out(self, out: Path | None) -> Path | None:
        """The run directory asked for (``None``: a new default one), checked but not created."""
        resume = None if self.saved is None else self.saved.path
        if out is None:
            return resume.parent.parent if resume is not None and resume.parent.name == "checkpoints" else None
        if out.exists() and not out.is_dir():
            raise GanzooError(f"--out {out} is a file, not a directory; choose another --out")
        resuming_here = resume is not None and resume.resolve().parent.parent == out.resolve()
        if holds_run(out) and not resuming_here and not self.overwrite:
            raise GanzooError(
                f"--out {out} already holds a run; continue it with `ganzoo run --resume "
                f"{out / 'checkpoints' / 'last.pt'}`, choose another --out, or pass --overwrite to replace it"
            )
        check_folder(out, "--out")
        return out

    # ------------------------------------------------------------------ training
    def fit(self) -> Trainer:
        """Create the run directory, attach what writes into it, and train. A run that
        fails before its first step removes what it created. A rank other than 0
        trains without a directory."""
        if not self.world.main:
            return self.trainer.fit()
        out, made = self._make_dir()
        self.out = out
        start = self.trainer.step
        try:
            self._attach(out)
            write_text(out / "recipe.json", self.recipe.to_json() + "\n")
            return self._train(out, start)
        except BaseException:
            if self.trainer.step == start:
                _remove(made)
            raise

    def _attach(self, out: Path) -> None:
        trainer, recipe = self.trainer, self.recipe
        self.checkpoints = Checkpointer(out / "checkpoints", every=recipe.checkpoint_every)
        watching = [Progress(console=self.console, description=recipe.name), CollapseWatch(console=self.console),
                    MetricsLog(out / "metrics.jsonl"), LossCurves(out / "losses.png"), self.checkpoints]
        shape = trainer.data.spec.shape
        if len(shape) == 3:
            watching.append(SampleGrid(out / "samples", every=recipe.sample_every))
        elif shape == (2,):
            watching.append(SampleScatter(out / "samples", every=recipe.sample_every))
        trainer.callbacks += watching
        for callback in trainer.callbacks:
            if hasattr(callback, "run_dir"):
                callback.run_dir = out
        if self.saved is not None:
            trainer.load_state_dict(self.saved.state)  # again, for the callbacks just attached
            trainer.last_saved = (self.saved.path, trainer.step)

    def _train(self, out: Path, start: int) -> Trainer:
        trainer = self.trainer
        try:
            return trainer.fit()
        except GanzooError as exc:
            if trainer.step == start or type(exc) is not GanzooError:  # TrainingDiverged says it all already
                raise
            raise GanzooError(f"{exc}; training stopped at step {trainer.step}{self._kept()}") from None
        except OSError as exc:  # a full disk, an unwritable file
            if trainer.step == start:
                raise
            raise GanzooError(f"{os_error(exc, exc.filename or out)}; training stopped at step "
                              f"{trainer.step}{self._kept()}") from None

    def _kept(self) -> str:
        saved = self.trainer.last_saved
        return f"; the last checkpoint, {saved[0]} (step {saved[1]}), is intact" if saved else \
            "; no checkpoint had been written"

    def _make_dir(self) -> tuple[Path, list[Path]]:
        """Create the run directory: the one asked for, or a new ``runs/<recipe>-<time>[-k]``
        that no other run (in this process or another) has taken. Returns it and
        what was made, to be removed if the run fails before its first step."""
        out = self.requested
        if out is None:
            base = Path("runs") / f"{self.recipe.name}-{time.strftime('%Y%m%d-%H%M%S')}"
            check_folder(base, "the run directory")
            made = [] if base.parent.exists() else [base.parent]
            for k in range(1, 10_000):
                out = base if k == 1 else base.with_name(f"{base.name}-{k}")
                try:
                    out.mkdir(parents=True)  # exclusive: two runs never share a directory
                except FileExistsError:
                    continue
                except OSError as exc:
                    raise os_error(exc, out, "create") from None
                return out, made + [out]
            raise GanzooError(f"{base}: too many runs started in the same second; pass --out")
        made = [] if out.exists() else [out]
        if self.overwrite:
            for name in RUN_FILES:
                old = out / name
                shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)
        made += [out / name for name in RUN_FILES if not (out / name).exists()]
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, out, "create") from None
        return out, made


def _remove(made: list[Path]) -> None:
    for path in reversed(made):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
