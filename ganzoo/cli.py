"""The ``ganzoo`` command: run, list, plugins, sample, eval, classifier, data.

Every user error is one line on stderr and exit status 2; Ctrl-C during a run
saves a checkpoint and exits with 130 and the command that resumes it.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Sequence

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import checkpoint
from .components import DataSpec
from .data import DataFile
from .errors import GanzooError, TrainingDiverged, did_you_mean
from .files import check_folder, check_output, json_text, os_error, write_text
from .metrics.evaluate import METRICS
from .options import Seed, coerce
from .recipe import Recipe, apply_overrides
from .registry import KINDS, default_registry
from .settings import CACHE_DIR_ENV, DATA_DIR_ENV, DEBUG_ENV, data_dir as resolve_data_dir

console = Console()
err = Console(stderr=True)
LISTED = (*KINDS, "optimizers")  # what `ganzoo list` shows: the plugin kinds and the optimizer names
CACHE_HELP = f"where reference classifiers are cached (default ${CACHE_DIR_ENV}, else ~/.cache/ganzoo)"


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake as one ``error:`` line (exit status 2) like every other."""

    def error(self, message: str):
        raise GanzooError(f"{message} (see `{self.prog} --help`)")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    try:
        args = _parser().parse_args(argv)
        return args.func(args)
    except GanzooError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted; nothing was saved")
        return 130
    except OSError as exc:
        err.print(f"[bold red]error:[/] {escape(str(os_error(exc, exc.filename or '?', 'use')))}",
                  highlight=False, soft_wrap=True)
        return 2
    except Exception as exc:  # a bug in ganzoo or a plugin: one line, the traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        err.print(f"[bold red]internal error:[/] {escape(type(exc).__name__)}: {escape(first)} "
                  f"(a bug in ganzoo or a plugin; {DEBUG_ENV}=1 shows the traceback)", highlight=False, soft_wrap=True)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganzoo", description="Train and explore GAN variants.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="train a recipe")
    run.add_argument("recipe", nargs="?", help="recipe name (see `ganzoo list recipes`); optional with --resume")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a recipe field, e.g. steps=200 or generator.hidden=[512,512]")
    run.add_argument("--out", type=Path, help="run directory (default runs/<recipe>-<time>)")
    run.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    run.add_argument("--seed", type=int, help="seed for data order, latents and initialisation")
    run.add_argument("--resume", type=Path, metavar="CKPT", help="continue the run saved in this checkpoint")
    run.add_argument("--overwrite", action="store_true", help="replace the run already in --out (its checkpoints too)")
    run.add_argument("--data-dir", type=Path, help=f"dataset folder (default ${DATA_DIR_ENV})")
    run.set_defaults(func=cmd_run)

    lst = sub.add_parser("list", help="list registered components")
    lst.add_argument("kind", nargs="?", choices=LISTED, help="only this kind")
    lst.set_defaults(func=cmd_list)

    plugins = sub.add_parser("plugins", help="installed plugins and what they register")
    plugins.set_defaults(func=cmd_plugins)

    sample = sub.add_parser("sample", help="draw a grid of samples (a scatter plot for 2-d data) from a checkpoint")
    sample.add_argument("checkpoint", type=Path)
    sample.add_argument("-n", type=int, help="number of samples (default 64; 8 per class, one row each, "
                                             "for a conditional generator of up to 16 classes; 2500 points for 2-d data)")
    sample.add_argument("--class", dest="label", type=int, metavar="K",
                        help="draw only class K (conditional generators)")
    sample.add_argument("-o", "--output", type=Path, default=Path("samples.png"), help="PNG to write")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--device", default="auto")
    sample.add_argument("--data-dir", type=Path, help="dataset folder, for the modes of 2-d data")
    sample.set_defaults(func=cmd_sample)

    ev = sub.add_parser("eval", help="measure a checkpoint's generator (FD, precision/recall, Parzen, modes)")
    ev.add_argument("checkpoint", type=Path)
    ev.add_argument("--metrics", help="comma-separated metric names (default: those that apply to the dataset, "
                                      "without parzen)")
    ev.add_argument("-n", type=int, default=10_000, help="generated samples, and real test samples compared (default 10000)")
    ev.add_argument("--json", type=Path, help="where to write the results (default: beside the checkpoint)")
    ev.add_argument("--data-dir", type=Path)
    ev.add_argument("--cache-dir", type=Path, help=CACHE_HELP)
    ev.add_argument("--device", default="auto")
    ev.add_argument("--seed", type=int, default=0)
    ev.set_defaults(func=cmd_eval)

    clf = sub.add_parser("classifier", help="the reference classifiers whose features evaluation measures in")
    clf_sub = clf.add_subparsers(dest="action", required=True)
    clf_list = clf_sub.add_parser("list", help="which are trained and cached, with their test accuracy")
    clf_list.add_argument("--cache-dir", type=Path, help=CACHE_HELP)
    clf_list.set_defaults(func=cmd_classifier_list)
    clf_train = clf_sub.add_parser("train", help="train one now and cache it (otherwise done on first use)")
    clf_train.add_argument("dataset", help="a dataset with a reference classifier (see `ganzoo classifier list`)")
    clf_train.add_argument("--force", action="store_true", help="retrain even when a valid one is cached")
    clf_train.add_argument("--data-dir", type=Path, help=f"dataset folder (default ${DATA_DIR_ENV})")
    clf_train.add_argument("--cache-dir", type=Path, help=CACHE_HELP)
    clf_train.set_defaults(func=cmd_classifier_train)

    data = sub.add_parser("data", help="which datasets are present where")
    data.add_argument("--data-dir", type=Path)
    data.set_defaults(func=cmd_data)
    return parser


# --------------------------------------------------------------------------- run
# What a resumed run may change: its length and how it is watched. Everything
# else decides which steps it takes, so changing it would break exact resume.
MAY_CHANGE_ON_RESUME = ("steps", "epochs", "log_every", "sample_every", "checkpoint_every", "eval_every",
                        "eval_metrics", "eval_n", "name", "description")
RUN_FILES = ("recipe.json", "metrics.jsonl", "losses.png", "samples", "checkpoints")  # what a run directory holds
EXIT_DIVERGED = 3
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal, as shells report it


def _resolve_recipe(args: argparse.Namespace, saved: Recipe | None) -> Recipe:
    registry = default_registry()
    if args.recipe is None and saved is None:
        raise GanzooError("name a recipe (see `ganzoo list recipes`) or pass --resume CKPT")
    recipe = registry.get("recipes", args.recipe).obj if args.recipe is not None else saved
    recipe = apply_overrides(recipe, args.overrides, registry.factory)
    if args.seed is not None:
        recipe = recipe.replace(seed=coerce(args.seed, Seed, "--seed"))
    if saved is not None:
        ours, theirs = recipe.to_dict(), saved.to_dict()
        for key in ours:
            if key not in MAY_CHANGE_ON_RESUME and ours[key] != theirs.get(key):
                raise GanzooError(
                    f"--resume: the checkpoint's {key} is {json.dumps(theirs.get(key))} but this run's is "
                    f"{json.dumps(ours[key])}; a resumed run continues exactly, so only its length and logging "
                    "may change; resume with the same recipe, or start a new run without --resume"
                )
    return recipe


def _holds_run(folder: Path) -> bool:
    return folder.is_dir() and any((folder / name).exists() for name in RUN_FILES)


def _run_dir(args: argparse.Namespace) -> Path | None:
    """The run directory asked for (``None``: a new default one), checked but not created."""
    if args.overwrite and args.resume is not None:
        raise GanzooError("--overwrite replaces a run and --resume continues one; pass only one of them")
    if args.out is not None:
        out = args.out.expanduser()
    elif args.resume is not None and args.resume.parent.name == "checkpoints":
        return args.resume.parent.parent
    else:
        return None
    if out.exists() and not out.is_dir():
        raise GanzooError(f"--out {out} is a file, not a directory; choose another --out")
    resuming_here = args.resume is not None and args.resume.resolve().parent.parent == out.resolve()
    if _holds_run(out) and not resuming_here and not args.overwrite:
        raise GanzooError(
            f"--out {out} already holds a run; continue it with `ganzoo run --resume {out / 'checkpoints' / 'last.pt'}`, "
            "choose another --out, or pass --overwrite to replace it"
        )
    check_folder(out, "--out")
    return out


def _make_run_dir(out: Path | None, recipe: Recipe, overwrite: bool) -> tuple[Path, list[Path]]:
    """Create the run directory: ``out``, or a new ``runs/<recipe>-<time>[-k]`` that no
    other run (in this process or another) has taken. Returns it and what was made,
    to be removed if the run fails before its first step."""
    if out is None:
        base = Path("runs") / f"{recipe.name}-{time.strftime('%Y%m%d-%H%M%S')}"
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
    if overwrite:
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


def cmd_run(args: argparse.Namespace) -> int:
    from .build import build

    # Everything that can be checked is checked before anything is written.
    state, saved, _ = _load_run(args.resume, "--resume") if args.resume else (None, None, None)
    recipe = _resolve_recipe(args, saved)
    unknown = [m for m in recipe.eval_metrics or () if m not in METRICS]
    if unknown:
        raise GanzooError(f"eval_metrics: unknown metric {unknown[0]!r}{did_you_mean(unknown[0], METRICS)}; "
                          f"choose from {', '.join(METRICS)}")
    requested = _run_dir(args)
    trainer = build(recipe, data_dir=args.data_dir, device=args.device)
    if state is not None:
        trainer.load_state_dict(state)
        if trainer.step >= trainer.total_steps:
            raise GanzooError(
                f"--resume: the checkpoint is at step {trainer.step}, and this run's length is "
                f"{trainer.total_steps} steps; there is nothing left to train. Set a longer length, e.g. "
                f"--set steps={trainer.step + max(trainer.step, 1)}"
            )

    out, made = _make_run_dir(requested, recipe, args.overwrite)
    try:
        return _train(args, trainer, recipe, state, out)
    except BaseException:
        if trainer.step == (state or {}).get("step", 0):  # failed before its first step: leave nothing behind
            _remove(made)
        raise


def _train(args: argparse.Namespace, trainer, recipe: Recipe, state: dict | None, out: Path) -> int:
    from .callbacks import (EMA, Checkpointer, CollapseWatch, Evaluate, LossCurves, MetricsLog, Progress, SampleGrid,
                            SampleScatter)

    checkpoints = Checkpointer(out / "checkpoints", every=recipe.checkpoint_every)
    trainer.callbacks += [
        *([EMA("discriminator", recipe.d_ema)] if recipe.d_ema is not None else []),  # first: saved up to date
        Progress(console=err, description=recipe.name),
        CollapseWatch(console=err),
        MetricsLog(out / "metrics.jsonl"),
        LossCurves(out / "losses.png"),
        checkpoints,
    ]
    if len(trainer.data.spec.shape) == 3:
        trainer.callbacks.append(SampleGrid(out / "samples", every=recipe.sample_every))
    elif trainer.data.spec.shape == (2,):
        trainer.callbacks.append(SampleScatter(out / "samples", every=recipe.sample_every))
    if recipe.eval_every is not None:
        trainer.callbacks.append(Evaluate(recipe.dataset, recipe.eval_every, recipe.eval_metrics,
                                          recipe.eval_n, args.data_dir))
    if state is not None:
        trainer.load_state_dict(state)  # again, now that the callbacks whose state it holds are attached
        trainer.last_saved = (args.resume, trainer.step)
    write_text(out / "recipe.json", recipe.to_json() + "\n")
    if state is not None:
        err.print(f"resuming {recipe.name} from step {trainer.step} of {trainer.total_steps}")
    first_step, started = trainer.step, time.perf_counter()
    try:
        trainer.fit()
    except KeyboardInterrupt:
        saved_last = trainer.last_saved
        where = (f"the last checkpoint is {saved_last[0]} (step {saved_last[1]})" if saved_last
                 else "no checkpoint had been written")
        err.print(f"[yellow]stopped at once by a second interrupt at step {trainer.step}[/]: nothing was saved "
                  f"since the last checkpoint; {where}", highlight=False, soft_wrap=True)
        if saved_last:
            err.print(f"resume with: ganzoo run --resume {saved_last[0]}", highlight=False, soft_wrap=True)
        return 130
    except TrainingDiverged as exc:
        _summary(trainer, out, time.perf_counter() - started, trainer.step - first_step)
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_DIVERGED
    except (OSError, GanzooError) as exc:  # a full disk, an unwritable file, a failing callback
        if trainer.step == first_step:
            raise
        reason = os_error(exc, exc.filename or out) if isinstance(exc, OSError) else exc
        kept = f"; the last checkpoint, {trainer.last_saved[0]} (step {trainer.last_saved[1]}), is intact" \
            if trainer.last_saved else "; no checkpoint had been written"
        raise GanzooError(f"{reason}; training stopped at step {trainer.step}{kept}") from None
    _summary(trainer, out, time.perf_counter() - started, trainer.step - first_step)
    if trainer.interrupted:
        name = "SIGTERM" if trainer.stop_signal == signal.SIGTERM else "interrupted"
        err.print(
            f"[yellow]{name} at step {trainer.step}[/]; checkpoint saved to {checkpoints.last}\n"
            f"resume with: ganzoo run --resume {checkpoints.last}", highlight=False, soft_wrap=True,
        )
        return EXIT_SIGNAL.get(trainer.stop_signal, 130)
    return 0


def _summary(trainer, out: Path, seconds: float, steps: int) -> None:
    m = trainer.last_metrics
    table = Table(title=f"run {out}", show_header=False)
    table.add_row("steps", f"{trainer.step} / {trainer.total_steps} (epoch {m.get('epoch', 0.0):.2f})")
    table.add_row("wall time", f"{seconds:.1f} s")
    if steps > 0:
        per_epoch = seconds / steps * trainer.batches_per_epoch / trainer.n_critic
        table.add_row("speed", f"{steps / seconds:.1f} steps/s, {per_epoch:.1f} s/epoch (this session)")
    losses = "  ".join(f"{k} {m[k]:.3f}" for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in m)
    table.add_row("final losses", losses)
    table.add_row("metrics", str(out / "metrics.jsonl"))
    table.add_row("loss curves", str(out / "losses.png"))
    if (out / "samples").is_dir():
        table.add_row("samples", str(out / "samples"))
    table.add_row("checkpoint", str(out / "checkpoints" / "last.pt"))
    err.print(table)


# --------------------------------------------------------------------------- listing
def cmd_list(args: argparse.Namespace) -> int:
    registry = default_registry()
    for kind in [args.kind] if args.kind else LISTED:
        table = Table(title=kind, title_justify="left")
        table.add_column("name", style="bold cyan")
        table.add_column("plugin")
        table.add_column("description")
        for name, entry in sorted(registry.entries(kind).items()):
            table.add_row(name, entry.plugin, entry.description)
        console.print(table)
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    table = Table()
    for column in ("plugin", "distribution", "version", "registers"):
        table.add_column(column)
    for info in default_registry().plugins():
        if info.error:
            table.add_row(f"[red]{info.name}[/]", info.distribution or "", info.version or "",
                          f"[red]failed: {escape(info.error)}[/]")
        else:
            registers = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in info.registers.items())
            table.add_row(info.name, info.distribution or "(registered in code)", info.version or "", registers)
    console.print(table)
    return 0


# --------------------------------------------------------------------------- checkpoints of runs
def _load_run(path: Path, option: str) -> tuple[dict, Recipe, DataSpec]:
    """A checkpoint written by ``ganzoo run``, with its recipe and data spec checked,
    as ``(state, recipe, spec)``; one line if it is not one."""
    state = checkpoint.load(path)
    if not state.get("recipe"):
        raise GanzooError(f"{option} {path}: the checkpoint has no recipe (it was written from Python), so its "
                          "run cannot be rebuilt by name; load it with Trainer.resume()")
    try:
        recipe = Recipe.from_dict(state["recipe"])
        spec = DataSpec.from_dict(state["data_spec"])
    except GanzooError as exc:
        raise GanzooError(f"{option} {path}: the checkpoint's recipe is not valid here ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file can hold anything
        what = "data_spec" if isinstance(exc, KeyError) else "recipe or data_spec"
        raise GanzooError(f"{option} {path}: the checkpoint's {what} is missing or malformed "
                          f"({type(exc).__name__}: {exc}); use a checkpoint written by `ganzoo run`") from None
    for key in ("generator", "discriminator", "step"):
        if key not in state:
            raise GanzooError(f"{option} {path}: the checkpoint has no {key!r}; use a checkpoint written by `ganzoo run`")
    return state, recipe, spec


def _load_generator(path: Path, device_name: str):
    """The generator saved in a checkpoint, rebuilt from its recipe, in eval mode."""
    from .build import create
    from .trainer import resolve_device

    state, recipe, spec = _load_run(path, "checkpoint")
    device = resolve_device(device_name)
    generator = create("generators", recipe.generator, spec)
    try:
        generator.load_state_dict(state["generator"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanzooError(f"checkpoint {path}: its generator's weights do not fit its recipe's generator "
                          f"({first}); was the file edited, or written by another version?") from None
    if checkpoint.non_finite(state["generator"]) is not None:
        raise GanzooError(f"checkpoint {path} holds NaN or infinite generator weights (its run diverged); "
                          "use an earlier checkpoint")
    return generator.to(device).eval(), recipe, spec, state, device


# --------------------------------------------------------------------------- sample, eval
MAX_GRID = 4096  # images in one PNG grid (a 64 × 64 grid); more is memory, not a picture
MAX_POINTS = 1_000_000  # points in one scatter plot


def cmd_sample(args: argparse.Namespace) -> int:
    from .callbacks import save_grid
    from .callbacks.samples import grid_layout
    from .trainer import sample

    if args.n is not None and args.n < 1:
        raise GanzooError(f"-n must be at least 1, got {args.n}")
    seed = coerce(args.seed, Seed, "--seed")
    output = check_output(args.output, (".png",), "-o")
    generator, recipe, spec, state, device = _load_generator(args.checkpoint, args.device)
    if spec.shape == (2,) and args.label is None:
        from .build import load_dataset
        from .callbacks import save_scatter

        n = args.n or 2500
        if n > MAX_POINTS:
            raise GanzooError(f"-n {n}: a scatter plot draws at most {MAX_POINTS:,} points; use a smaller -n")
        data = load_dataset(recipe.dataset, args.data_dir)
        torch.manual_seed(seed)
        path = save_scatter(sample(generator, n, device), output, data.modes, data.mode_sigma)
        console.print(f"wrote a scatter plot of {n} samples of {recipe.name} (step {state['step']}) to {path}")
        return 0
    if len(spec.shape) != 3:
        raise GanzooError(f"samples of shape {spec.shape} are neither images nor 2-d points; nothing to draw")
    if args.n is not None and args.n > MAX_GRID:
        raise GanzooError(f"-n {args.n}: a sample grid holds at most {MAX_GRID} images (a 64 × 64 grid); "
                          "use a smaller -n, or draw several grids with different --seed")
    conditional = getattr(generator, "conditional", False)
    if args.label is not None and not conditional:
        raise GanzooError(f"--class needs a conditional generator, and {recipe.name}'s is not; drop --class")
    if conditional and args.label is not None:
        n, nrow, what = args.n or 64, None, f"samples of class {args.label}"
        y = torch.full((n,), args.label)
    else:
        n, y, nrow = grid_layout(args.n, spec.num_classes if conditional else None)
        what = "samples, one row per class" if nrow else "samples"
    torch.manual_seed(seed)
    path = save_grid(sample(generator, n, device, y), output, spec.value_range, nrow=nrow)
    console.print(f"wrote {n} {what} of {recipe.name} (step {state['step']}) to {path}")
    return 0


def _classifier(recipe: Recipe, spec, state: dict, device):
    """``x -> logits`` of the checkpoint's discriminator if it classifies (its EMA
    average when the run kept one), else ``None``."""
    from .build import create
    from .components import classifies

    discriminator = create("discriminators", recipe.discriminator, spec)
    if not classifies(discriminator):
        return None
    averaged = state.get("callbacks", {}).get("EMA", {})
    use_average = averaged.get("target") == "discriminator" and averaged.get("weights") is not None
    try:
        discriminator.load_state_dict(averaged["weights"] if use_average else state["discriminator"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise GanzooError(f"checkpoint's discriminator does not fit its recipe: {str(exc).splitlines()[0]}") from None
    discriminator = discriminator.to(device).eval()

    @torch.no_grad()
    def classify(x):
        return discriminator(x.to(device))

    return classify


def cmd_eval(args: argparse.Namespace) -> int:
    from .metrics.evaluate import evaluate
    from .trainer import sample

    seed = coerce(args.seed, Seed, "--seed")
    metrics = None
    if args.metrics is not None:
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
        if not metrics:
            raise GanzooError(f"--metrics {args.metrics!r} names no metric; choose from {', '.join(METRICS)}")
    generator, recipe, spec, state, device = _load_generator(args.checkpoint, args.device)
    out = args.json or args.checkpoint.with_name(f"{args.checkpoint.stem}-eval.json")
    check_output(out, (".json",), "--json")
    classify = _classifier(recipe, spec, state, device)
    values = evaluate(lambda k, y=None: sample(generator, k, device, y), recipe.dataset, metrics, args.n,
                      args.data_dir, args.cache_dir, seed=seed,
                      conditional=getattr(generator, "conditional", False), classify=classify)
    table = Table(title=f"{recipe.name} at step {state['step']} ({args.checkpoint})", title_justify="left")
    table.add_column("metric", style="bold cyan")
    table.add_column("value", justify="right")
    for key, value in values.items():
        shown = "n/a" if not math.isfinite(value) else f"{int(value)}" if float(value).is_integer() else f"{value:.4f}"
        table.add_row(key, shown)
    console.print(table)
    payload = {"checkpoint": str(args.checkpoint), "recipe": recipe.name, "step": state["step"],
               "dataset": recipe.dataset.to_dict(), "metrics": values,
               "descriptions": {k: METRICS[k] for k in METRICS if any(v.startswith(k) for v in values)}}
    write_text(out, json_text(payload) + "\n")
    console.print(f"wrote {out}")
    return 0


# --------------------------------------------------------------------------- classifier
def cmd_classifier_list(args: argparse.Namespace) -> int:
    from .metrics.classifier import SETTINGS, cache_paths, inspect_cache

    table = Table()
    for column in ("dataset", "status", "test accuracy", "required"):
        table.add_column(column, no_wrap=True)
    table.add_column("file", overflow="fold")
    for name, settings in SETTINGS.items():
        classifier, problem = inspect_cache(name, args.cache_dir)
        weights, _ = cache_paths(name, args.cache_dir)
        floor = f"≥ {100 * settings['min_accuracy']:.1f}%"
        if classifier is None:
            table.add_row(name, f"[yellow]{problem}[/]", "", floor, f"`ganzoo classifier train {name}`")
        else:
            table.add_row(name, "[green]cached[/]", f"{100 * classifier.accuracy:.2f}%", floor, str(weights))
    console.print(table)
    return 0


def cmd_classifier_train(args: argparse.Namespace) -> int:
    from .metrics.classifier import SETTINGS, cache_paths, load_cached, reference_classifier

    cached = load_cached(args.dataset, args.cache_dir) if args.dataset in SETTINGS and not args.force else None
    if cached is not None:
        console.print(f"{args.dataset}: already cached, {100 * cached.accuracy:.2f}% test accuracy "
                      f"({cache_paths(args.dataset, args.cache_dir)[0]}); --force retrains it", soft_wrap=True)
        return 0
    classifier = reference_classifier(args.dataset, args.data_dir, args.cache_dir, retrain=True)
    weights, _ = cache_paths(args.dataset, args.cache_dir)
    console.print(f"{args.dataset}: {100 * classifier.accuracy:.2f}% test accuracy, cached in {weights}",
                  soft_wrap=True)
    # Below the floor, training has already logged a warning saying so.
    return 0 if classifier.accuracy >= SETTINGS[args.dataset]["min_accuracy"] else 1


# --------------------------------------------------------------------------- data
def cmd_data(args: argparse.Namespace) -> int:
    root = resolve_data_dir(args.data_dir)
    source = "--data-dir" if args.data_dir else (f"${DATA_DIR_ENV}" if os.environ.get(DATA_DIR_ENV) else "default")
    console.print(f"data directory: {root} ({source})")
    table = Table()
    for column in ("dataset", "plugin", "status", "files"):
        table.add_column(column)
    for name, entry in sorted(default_registry().entries("datasets").items()):
        locate = getattr(entry.obj, "locate", None)
        if locate is None:
            table.add_row(name, entry.plugin, "generated", "needs no files")
            continue
        files = list(locate(root))
        if not all(isinstance(f, DataFile) for f in files):
            table.add_row(name, entry.plugin, "[red]unknown[/]",
                          "its locate(root) must return a list of ganzoo.DataFile (see `register_datasets`)")
            continue
        damaged = [f for f in files if f.status == "damaged"]
        missing = [f for f in files if f.status == "missing"]
        notes = [f"{f.path}: {f.problem}" for f in damaged]
        for folder in dict.fromkeys(f.folder for f in missing):  # one note per folder, in order
            here = [f for f in missing if f.folder == folder]
            fetch = "downloaded on first use when online, or " if all(f.downloads for f in here) else ""
            notes.append(f"{', '.join(f.name for f in here)} missing: {fetch}put them in {folder}/")
        if damaged:
            status = "[red]damaged[/]"
        elif missing:
            status = "[yellow]missing[/]"
        else:
            status = "[green]present[/]"
            notes = [f"verified in {', '.join(sorted({str(f.path.parent) for f in files}))}" if files
                     else "needs no files"]
        table.add_row(name, entry.plugin, status, escape("; ".join(notes)))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
