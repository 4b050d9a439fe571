"""The ``ganzoo`` command: run, list, plugins, sample, eval, classifier, data.

Every user error is one line on stderr and exit status 2; Ctrl-C during a run
saves a checkpoint and exits with 130 and the command that resumes it.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Sequence

import torch
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.table import Table

from . import distributed
from .callbacks import save_grid, save_scatter
from .callbacks.samples import grid_layout
from .data import DataFile, TensorData
from .errors import GanzooError, RanksAgree, TrainingDiverged, first_line
from .factories import load_dataset
from .files import check_output, json_text, os_error, write_text
from .kinds import KINDS
from .metrics.classifier import SETTINGS, cache_paths, inspect_cache, load_cached, reference_classifier
from .metrics.evaluate import evaluate, registered_metrics
from .options import Seed, coerce
from .recipe import Component, Recipe, apply_overrides, parse_value
from .recipe_file import SUFFIXES as RECIPE_SUFFIXES, read_recipe, recipe_toml
from .registry import default_registry
from .run import Run, join
from .saved import load_run
from .stream import StreamData, format_bytes, memory_budget
from .settings import CACHE_DIR_ENV, DATA_DIR_ENV, DEBUG_ENV, data_dir as resolve_data_dir
from .trainer import COMPILE_MODES, resolve_device, sample

console = Console()
err = Console(stderr=True)
LISTED = tuple(k for k in KINDS if KINDS[k].listed)  # what `ganzoo list` shows
CACHE_HELP = f"where reference classifiers are cached (default ${CACHE_DIR_ENV}, else ~/.cache/ganzoo)"


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake as one ``error:`` line (exit status 2) like every other."""

    def error(self, message: str):
        raise GanzooError(f"{message} (see `{self.prog} --help`)")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    argv = list(sys.argv[1:] if argv is None else argv)
    rank = distributed.launched_as()
    if not rank.main:
        logging.getLogger().setLevel(logging.ERROR)  # rank 0 says what every rank would
    # One of several ranks: an error names its rank, and what rank 0 says for all
    # (bad input, divergence) or what follows another rank's end is left unsaid.
    prefix = f"rank {rank.rank}: " if rank.size > 1 else ""
    try:
        parser = _parser()
        command = _plugin_commands().get(argv[0]) if argv else None
        if command is not None:  # ``ganzoo NAME ARGS...``: the plugin parses its own arguments
            return int(command.obj(argv[1:]) or 0)
        args = parser.parse_args(argv)
        args.argv = argv
        return args.func(args)
    except GanzooError as exc:
        said = rank.main or not isinstance(exc, (RanksAgree, TrainingDiverged))
        own = "" if isinstance(exc, RanksAgree) else prefix  # an agreed message names a rank when it must
        return _stopped(rank, 2, f"[bold red]error:[/] {own}{escape(str(exc))}", said)
    except KeyboardInterrupt:
        return _stopped(rank, 130, "interrupted; nothing was saved", rank.main)
    except OSError as exc:
        return _stopped(rank, 2, f"[bold red]error:[/] {prefix}{escape(str(os_error(exc, exc.filename or '?', 'use')))}")
    except Exception as exc:  # a bug in ganzoo or a plugin: one line, the traceback on request
        first = first_line(exc)
        if rank.size > 1 and distributed.peer_lost(exc):
            # Most often another rank ended the job and says why; if none does (a
            # timeout), the launcher says this.
            return _stopped(rank, distributed.EXIT_PEER_LOST, escape(f"{type(exc).__name__}: {first}"), said=False)
        if os.environ.get(DEBUG_ENV):
            raise
        return _stopped(rank, 1, f"[bold red]internal error:[/] {prefix}{escape(type(exc).__name__)}: {escape(first)} "
                                 f"(a bug in ganzoo or a plugin; {DEBUG_ENV}=1 shows the traceback)")


def _stopped(rank: distributed.World, status: int, line: str, said: bool = True) -> int:
    """Print ``line`` (rich markup) if this process says it, and return ``status``;
    one of several ranks also leaves both for the launcher."""
    if said:
        err.print(line, highlight=False, soft_wrap=True)
    if rank.size > 1:
        distributed.record_failure(Text.from_markup(line).plain, status, said)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganzoo", description="Train and explore GAN variants.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="train a recipe")
    run.add_argument("recipe", nargs="?", help="recipe name (see `ganzoo list recipes`) or a recipe file "
                                               "(.toml, or a run's recipe.json); optional with --resume")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a recipe field, e.g. steps=200 or generator.hidden=[512,512]")
    run.add_argument("--out", type=Path, help="run directory (default runs/<recipe>-<time>)")
    run.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    run.add_argument("--seed", type=int, help="seed for data order, latents and initialisation")
    run.add_argument("--resume", type=Path, metavar="CKPT", help="continue the run saved in this checkpoint")
    run.add_argument("--overwrite", action="store_true", help="replace the run already in --out (its checkpoints too)")
    run.add_argument("--data-dir", type=Path, help=f"dataset folder (default ${DATA_DIR_ENV})")
    run.add_argument("--compile", choices=COMPILE_MODES, metavar="MODE",
                     help="run G and D through torch.compile in this mode: default, reduce-overhead (CUDA graphs) "
                          "or max-autotune; eager if it fails")
    run.add_argument("--nproc", type=int, default=1, metavar="N",
                     help="train on N processes of this machine (torchrun's launcher; on CUDA one GPU each); "
                          "batch_size stays the global batch")
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
    sample.add_argument("--no-average", dest="average", action="store_false",
                        help="sample G's trained weights even when the run kept a moving average (g_ema)")
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
    ev.add_argument("--no-average", dest="average", action="store_false",
                    help="measure G's trained weights even when the run kept a moving average (g_ema)")
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

    recipe = sub.add_parser("recipe", help="recipes as files")
    recipe_sub = recipe.add_subparsers(dest="action", required=True)
    show = recipe_sub.add_parser("show", help="print a recipe as TOML, to save and edit (`ganzoo run FILE.toml`)")
    show.add_argument("name", help="a registered recipe, or a recipe file")
    show.set_defaults(func=cmd_recipe_show)

    data = sub.add_parser("data", help="which datasets are present where; or read one and say what it holds")
    data.add_argument("dataset", nargs="?", help="read this dataset (e.g. image-folder) and report its samples")
    data.add_argument("--set", dest="options", action="append", default=[], metavar="OPTION=VALUE",
                      help="an option of the dataset, e.g. --set root=~/photos --set size=64")
    data.add_argument("--data-dir", type=Path)
    data.set_defaults(func=cmd_data)
    for name, entry in _plugin_commands().items():
        sub.add_parser(name, help=f"{entry.description} (plugin {entry.plugin})", add_help=False)
    return parser


BUILTIN_COMMANDS = ("run", "list", "plugins", "sample", "eval", "classifier", "data", "recipe")


def _plugin_commands() -> dict:
    """Commands registered by plugins, by name; a built-in command keeps its name."""
    return {name: entry for name, entry in default_registry().entries("commands").items()
            if name not in BUILTIN_COMMANDS}


# --------------------------------------------------------------------------- run
EXIT_DIVERGED = 3
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal, as shells report it


def _resolve_recipe(args: argparse.Namespace, saved: Recipe | None) -> Recipe | None:
    """The recipe named (or the checkpoint's), with ``--set`` and ``--seed`` applied."""
    registry = default_registry()
    if args.recipe is None and saved is None:
        return None  # Run says what is missing
    if args.recipe is not None and Path(args.recipe).suffix in RECIPE_SUFFIXES:
        recipe = read_recipe(args.recipe, registry)  # a recipe file: TOML, or a run's recipe.json
    else:
        recipe = registry.get("recipes", args.recipe).obj if args.recipe is not None else saved
    recipe = apply_overrides(recipe, args.overrides, registry.factory)
    if args.seed is not None:
        recipe = recipe.replace(seed=coerce(args.seed, Seed, "--seed"))
    return recipe


def cmd_run(args: argparse.Namespace) -> int:
    if args.nproc < 1:
        raise GanzooError(f"--nproc is a number of processes, at least 1; got {args.nproc}")
    if args.nproc > 1 and not distributed.launched():
        device = resolve_device(args.device)
        if device.type == "cuda" and (device.index is not None or args.nproc > torch.cuda.device_count()):
            raise GanzooError(f"--nproc {args.nproc} on CUDA runs one process per GPU: pass --device cuda (not "
                              f"{args.device}) and at most {torch.cuda.device_count()} processes, this machine's GPUs")
        status, message = distributed.launch(args.nproc, _without_nproc(args.argv))
        if message:
            err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        return status
    try:
        with distributed.errors_agreed(join(args.device)):  # several ranks: rank 0 says it, once
            saved = load_run(args.resume, "--resume") if args.resume else None
            recipe = _resolve_recipe(args, saved.recipe if saved else None)
        run = Run(recipe, args.out, resume=saved, overwrite=args.overwrite, data_dir=args.data_dir,
                  device=args.device, console=err, compile=args.compile)
        return _train(run, saved is not None)
    finally:
        distributed.leave()


def _without_nproc(argv: list[str]) -> list[str]:
    """``argv`` less ``--nproc N`` (each rank is one process)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def _train(run: Run, resuming: bool) -> int:
    trainer = run.trainer
    if not run.world.main:  # rank 0 says what happened
        try:
            run.fit()
        except KeyboardInterrupt:
            return 130
        except TrainingDiverged:
            return EXIT_DIVERGED
        return EXIT_SIGNAL.get(trainer.stop_signal, 130) if trainer.interrupted else 0
    nproc = f" --nproc {run.world.size}" if run.world.size > 1 else ""
    if resuming:
        err.print(f"resuming {run.recipe.name} from step {trainer.step} of {trainer.total_steps}")
    first_step, started = trainer.step, time.perf_counter()
    try:
        run.fit()
    except KeyboardInterrupt:
        saved_last = trainer.last_saved
        where = (f"the last checkpoint is {saved_last[0]} (step {saved_last[1]})" if saved_last
                 else "no checkpoint had been written")
        err.print(f"[yellow]stopped at once by a second interrupt at step {trainer.step}[/]: nothing was saved "
                  f"since the last checkpoint; {where}", highlight=False, soft_wrap=True)
        if saved_last:
            err.print(f"resume with: ganzoo run --resume {saved_last[0]}{nproc}", highlight=False, soft_wrap=True)
        return 130
    except TrainingDiverged as exc:
        _summary(trainer, run.out, time.perf_counter() - started, trainer.step - first_step)
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_DIVERGED
    _summary(trainer, run.out, time.perf_counter() - started, trainer.step - first_step)
    if trainer.interrupted:
        name = "SIGTERM" if trainer.stop_signal == signal.SIGTERM else "interrupted"
        err.print(
            f"[yellow]{name} at step {trainer.step}[/]; checkpoint saved to {run.checkpoints.last}\n"
            f"resume with: ganzoo run --resume {run.checkpoints.last}{nproc}", highlight=False, soft_wrap=True,
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


def _load_generator(path: Path, device_name: str, average: bool = True):
    """The generator saved in a checkpoint (its moving average when the run kept one
    and ``average``), with the run it came from and the device; says which it is."""
    run = load_run(path)
    device = resolve_device(device_name)
    generator = run.generator(device, average=average)
    if run.has_average and average:
        decay = "" if run.recipe.g_ema is None else f" (g_ema {run.recipe.g_ema})"
        console.print(f"using the moving average of G{decay}; --no-average for the trained weights", soft_wrap=True)
    elif run.has_average:
        console.print("using G's trained weights, not its moving average (--no-average)")
    return generator, run, device


# --------------------------------------------------------------------------- sample, eval
MAX_GRID = 4096  # images in one PNG grid (a 64 × 64 grid); more is memory, not a picture
MAX_POINTS = 1_000_000  # points in one scatter plot


def cmd_sample(args: argparse.Namespace) -> int:
    if args.n is not None and args.n < 1:
        raise GanzooError(f"-n must be at least 1, got {args.n}")
    seed = coerce(args.seed, Seed, "--seed")
    output = check_output(args.output, (".png",), "-o")
    generator, run, device = _load_generator(args.checkpoint, args.device, args.average)
    recipe, spec, state = run.recipe, run.spec, run.state
    if spec.shape == (2,) and args.label is None:
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


def cmd_eval(args: argparse.Namespace) -> int:
    seed = coerce(args.seed, Seed, "--seed")
    metrics = None
    if args.metrics is not None:
        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
        if not metrics:
            raise GanzooError(f"--metrics {args.metrics!r} names no metric; choose from "
                              f"{', '.join(registered_metrics())}")
    generator, run, device = _load_generator(args.checkpoint, args.device, args.average)
    recipe, state = run.recipe, run.state
    out = args.json or args.checkpoint.with_name(f"{args.checkpoint.stem}-eval.json")
    check_output(out, (".json",), "--json")
    classify = run.classifier(device)
    protocols: dict[str, str] = {}
    values = evaluate(lambda k, y=None: sample(generator, k, device, y), recipe.dataset, metrics, args.n,
                      args.data_dir, args.cache_dir, seed=seed,
                      conditional=getattr(generator, "conditional", False), classify=classify, protocols=protocols,
                      device=device)
    table = Table(title=f"{recipe.name} at step {state['step']} ({args.checkpoint})", title_justify="left")
    table.add_column("metric", style="bold cyan")
    table.add_column("value", justify="right")
    for key, value in values.items():
        shown = "n/a" if not math.isfinite(value) else f"{int(value)}" if float(value).is_integer() else f"{value:.4f}"
        table.add_row(key, shown)
    console.print(table)
    for name, how in protocols.items():
        console.print(f"{name}: {how}", soft_wrap=True)
    payload = {"checkpoint": str(args.checkpoint), "recipe": recipe.name, "step": state["step"],
               "generator": "moving average" if run.has_average and args.average else "trained weights",
               "dataset": recipe.dataset.to_dict(), "metrics": values,
               "descriptions": {k: m.description for k, m in registered_metrics().items()
                                if any(v.startswith(k) for v in values)},
               "protocols": protocols}
    write_text(out, json_text(payload) + "\n")
    console.print(f"wrote {out}")
    return 0


# --------------------------------------------------------------------------- classifier
def cmd_classifier_list(args: argparse.Namespace) -> int:
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


# --------------------------------------------------------------------------- recipe
def cmd_recipe_show(args: argparse.Namespace) -> int:
    registry = default_registry()
    if Path(args.name).suffix in RECIPE_SUFFIXES:
        recipe = read_recipe(args.name, registry)
    else:
        recipe = registry.get("recipes", args.name).obj
    sys.stdout.write(recipe_toml(recipe))
    return 0


# --------------------------------------------------------------------------- data
def _cmd_data_one(args: argparse.Namespace) -> int:
    """Read one dataset with its options and say what it holds: samples, shape,
    classes, held or streamed, and the files it left out."""
    options = {}
    for item in args.options:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise GanzooError(f"--set {item!r}: expected OPTION=VALUE, e.g. --set root=~/photos")
        options[key.strip()] = parse_value(raw)
    entry = default_registry().get("datasets", args.dataset)
    data = load_dataset(Component(args.dataset, **options), args.data_dir)
    spec = data.spec
    table = Table(show_header=False)
    table.add_row("dataset", f"{args.dataset} (plugin {entry.plugin})")
    table.add_row("samples", f"{len(data):,}")
    table.add_row("shape", "×".join(str(d) for d in spec.shape))
    table.add_row("classes", "none (unlabelled)" if spec.num_classes is None else str(spec.num_classes))
    if isinstance(data, StreamData):
        held = f"streamed from disk by {data.workers} reading process(es) ({format_bytes(data.nbytes)} decoded)"
    else:
        held = "held in memory" + (f" ({format_bytes(data.x.nbytes)})" if isinstance(data, TensorData) else "")
    table.add_row("training", f"{held}; memory budget {format_bytes(memory_budget())}")
    skipped = getattr(data, "skipped", None)
    if skipped is not None:
        first = f" (first: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        table.add_row("skipped", escape(f"{len(skipped)} unreadable file(s){first}"))
    where = getattr(data, "location", None)
    if where is not None:
        table.add_row("location", escape(str(where)))
    console.print(table)
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    if args.dataset is not None:
        return _cmd_data_one(args)
    if args.options:
        raise GanzooError("ganzoo data: --set gives a dataset's options; name the dataset too, e.g. "
                          "ganzoo data image-folder --set root=~/photos")
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
        if not files:  # its files are not under the data directory (e.g. a folder named in the recipe)
            where = getattr(entry.obj, "location", None) or "reads no files from the data directory"
            table.add_row(name, entry.plugin, "elsewhere", escape(where))
            continue
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
            notes = [f"verified in {', '.join(sorted({str(f.path.parent) for f in files}))}"]
        table.add_row(name, entry.plugin, status, escape("; ".join(notes)))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
