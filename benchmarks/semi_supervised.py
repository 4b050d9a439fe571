"""Semi-supervised MNIST with 100 labels: the GAN's discriminator against the same
network trained on the same 100 labels alone, over several seeds.

Each seed chooses its own labelled subset (``dataset.label_seed``, unless
``--label-seed`` fixes one subset for all) and initialisation (``seed``). After
every epoch the script prints the test error on all 10,000 MNIST test images of
D itself and of the moving average of its weights that the recipe evaluates
with (``d_ema``), and at the end a table per seed and the mean. The paper
(Salimans et al. 2016, Table 1): 93 ± 6.5 wrong of 10,000 after 300 epochs.

``--runs`` picks among ``ssgan`` (the recipe), ``labels-only`` (the recipe with
``loss.unlabeled_weight=0``) and ``port``: an independent plain-PyTorch port of
the reference script (``tests/plugins/ssgan_reference.py``, which is also the
oracle the plugin's step is tested against) on the same images and labels. Each
epoch's line also shows D(G(z)), which falls to ~0 when G collapses.
``--output`` sets G's last activation for ``ssgan`` and ``port`` (the recipe's,
like the reference's, is sigmoid), ``--adam`` the Adam of every run
(``reference``: ε inside the square root, ``adam-eps-inside`` in ganzoo, the
recipe's; ``torch``: torch's), and ``--set`` any field of the recipe for
``ssgan`` and ``labels-only``, as ``ganzoo run --set`` does.

``--plot PNG LOG …`` draws the test-error curves of finished or interrupted
runs instead: this script's JSONL logs and ``ganzoo run``'s ``metrics.jsonl``
files (those are named after their run folder).

    python benchmarks/semi_supervised.py --seeds 3 --epochs 4
    python benchmarks/semi_supervised.py --runs ssgan,port --seeds 4 --epochs 12   # how often the sigmoid G collapses
    python benchmarks/semi_supervised.py --runs ssgan,port --seeds 1 --epochs 15 --adam torch   # it does here
    python benchmarks/semi_supervised.py --plot curves.png runs/semi-supervised.jsonl runs/ssl0/metrics.jsonl

The paper's protocol on one GPU, 10 seeds at once in 10 processes, each step
replayed as CUDA graphs:

    python benchmarks/semi_supervised.py --runs ssgan --seeds 10 --epochs 300 --jobs 10 --device cuda \
        --compile reduce-overhead
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

from seeds import append_jsonl, mean_se, run_parallel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "plugins"))  # the port lives with its test
from ssgan_reference import VERSIONS  # noqa: E402

import ganzoo
from ganzoo import Component
from ganzoo.recipe import apply_overrides


RUNS = ("ssgan", "labels-only", "port")


ADAMS = {"reference": "adam-eps-inside", "torch": "adam"}


def ganzoo_recipe(overrides: list[str], adam: str | None = None):
    """``ssgan-mnist-100`` with ``--set`` overrides and, for ``adam`` ``"reference"`` or
    ``"torch"``, that Adam at the recipe's learning rate and betas (``None``: the recipe's)."""
    recipe = apply_overrides(ganzoo.get_recipe("ssgan-mnist-100"), overrides, ganzoo.default_registry().factory)
    if adam is not None:
        optims = {}
        for field in ("g_optim", "d_optim"):
            options = getattr(recipe, field).options
            optims[field] = Component(ADAMS[adam], **{k: options[k] for k in ("lr", "betas") if k in options})
        recipe = recipe.replace(**optims)
    return recipe


def port_adam(recipe) -> str:
    """The port's name for the Adam the recipe's D trains with."""
    return "reference" if recipe.d_optim.name == ADAMS["reference"] else "torch"


def run_one(job: dict) -> dict:
    import torch

    from ganzoo.callbacks import EMA, Callback
    from ganzoo.metrics.accuracy import test_error

    torch.set_num_threads(job["threads"])
    recipe = ganzoo_recipe(job["overrides"], job["adam"])
    recipe = recipe.replace(seed=job["seed"], epochs=job["epochs"], steps=None, eval_every=None,
                            dataset=recipe.dataset.replace(label_seed=job["label_seed"]),
                            loss=recipe.loss.replace(unlabeled_weight=0.0 if job["name"] == "labels-only" else 1.0))
    if job["output"]:
        recipe = recipe.replace(generator=recipe.generator.replace(output=job["output"]))
    test = ganzoo.load_dataset(recipe.dataset.replace(split="test"))
    test_x = test.x.to(job["device"])
    if job["name"] == "port":
        return _run_port(job, recipe, test)
    recipe = recipe.replace(d_ema=job["ema"])  # the recipe's average of D, at this job's rate
    curve = []

    class PerEpoch(Callback):
        def on_epoch_end(self, trainer):
            D = trainer.discriminator
            D.eval()
            with torch.no_grad():
                live = test_error(D, test_x, test.y)["test-wrong"]
                averaged = test_error(ema.model, test_x, test.y)["test-wrong"]
            D.train()
            d_fake = trainer.last_metrics.get("d_fake", float("nan"))  # the last logged steps' mean
            curve.append({"epoch": trainer.epoch, "wrong": live, "wrong_ema": averaged, "d_fake": d_fake,
                          "seconds": time.perf_counter() - started, "compiled": trainer.compiled})
            print(f"{job['name']} seed {job['seed']} epoch {trainer.epoch}: {live:.0f} wrong "
                  f"(average of weights: {averaged:.0f}), D(G(z)) {d_fake:.3f}, {curve[-1]['seconds']:.0f} s",
                  flush=True)
            append_jsonl(job["log"], {"name": job["name"], "seed": job["seed"], **curve[-1]})

    trainer = ganzoo.build(recipe, device=job["device"], callbacks=[PerEpoch()], compile=job.get("compile"))
    ema = next(c for c in trainer.callbacks if isinstance(c, EMA))
    started = time.perf_counter()
    trainer.fit()
    return {**job, "curve": curve, "seconds_per_epoch": curve[-1]["seconds"] / len(curve)}


def _run_port(job: dict, recipe, test) -> dict:
    import ganzoo
    from ssgan_reference import train

    data = ganzoo.load_dataset(recipe.dataset)

    def report(row: dict) -> None:
        print(f"port seed {job['seed']} epoch {row['epoch']}: {row['wrong']:.0f} wrong (average of weights: "
              f"{row['wrong_ema']:.0f}), feature matching {row['g_loss']:.2f}, D(G(z)) {row['d_fake']:.3f}, "
              f"{row['seconds']:.0f} s", flush=True)
        append_jsonl(job["log"], {"name": "port", "seed": job["seed"], **row})

    checkpoint = Path(job["log"]).with_name(f"{Path(job['log']).stem}-port-{job['seed']}.pt")
    curve = train(data.x.flatten(1), data.labelled_index, data.y, test.x.flatten(1), test.y, seed=job["seed"],
                  epochs=job["epochs"], output=recipe.generator.options["output"], ema=job["ema"],
                  device=job["device"], version=job["port_version"], adam=port_adam(recipe), checkpoint=checkpoint,
                  on_epoch=report)
    return {**job, "curve": curve, "seconds_per_epoch": curve[-1]["seconds"] / len(curve)}


def plot(png: Path, logs: list[Path]) -> None:
    """Test error (wrong of 10,000) against epochs, D (solid) and the average of its
    weights (dashed) as separate lines, on a log scale."""
    from ganzoo.callbacks.curves import plot_curves

    series: dict[str, list[tuple[float, float]]] = {}
    for log in logs:
        for line in log.read_text().splitlines():
            row = json.loads(line)
            if "wrong" in row:
                name, live, averaged = f"{row['name']} {row['seed']}", row["wrong"], row["wrong_ema"]
            elif "eval_test-wrong" in row:
                name, live, averaged = log.parent.name, row["eval_test-wrong-unaveraged"], row["eval_test-wrong"]
            else:
                continue
            series.setdefault(f"{name} D", []).append((row["epoch"], live))
            series.setdefault(f"{name} avg", []).append((row["epoch"], averaged))
    plot_curves(series, png, size=(900, 420), x_label="epoch", log_y=True,
                dashed={name for name in series if name.endswith(" avg")})
    print(f"wrote {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="run seeds first-seed … first-seed + seeds - 1")
    parser.add_argument("--label-seed", type=int, help="one labelled subset for every seed (default: each seed's own)")
    parser.add_argument("--epochs", type=int, default=300, help="the reference trains 300")
    parser.add_argument("--baseline-epochs", type=int, help="epochs of the labels-only baseline (default --epochs)")
    parser.add_argument("--ema", type=float, default=1e-4, help="rate of the average of D's weights")
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--compile", choices=("default", "reduce-overhead", "max-autotune"),
                        help="torch.compile the recipe's networks (reduce-overhead: CUDA graphs)")
    parser.add_argument("--threads", type=int, help="CPU threads per worker (default: the cores / --jobs)")
    parser.add_argument("--runs", default="ssgan,labels-only", help=f"comma-separated, from {', '.join(RUNS)}")
    parser.add_argument("--output", choices=("sigmoid", "softplus"), help="G's last activation (default: the recipe's)")
    parser.add_argument("--port-version", choices=tuple(VERSIONS), default="0fa06b5",
                        help="which commit of the reference script the port follows (see tests/plugins/ssgan_reference.py)")
    parser.add_argument("--adam", choices=tuple(ADAMS),
                        help="Adam of every run: the reference's, with ε inside the square root, or torch's "
                             "(default: the recipe's, the reference's)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of the recipe for ssgan and labels-only, as `ganzoo run --set`")
    parser.add_argument("--out", type=Path, default=Path("runs/semi-supervised.json"))
    parser.add_argument("--plot", type=Path, metavar="PNG", help="draw the curves of the LOG files and exit")
    parser.add_argument("logs", type=Path, nargs="*", metavar="LOG", help="JSONL logs for --plot")
    args = parser.parse_args()
    if args.plot and not args.logs:
        parser.error("--plot needs the JSONL logs to draw, e.g. --plot curves.png runs/semi-supervised.jsonl")
    if args.logs and not args.plot:
        parser.error(f"LOG files ({args.logs[0]}, …) are only read with --plot PNG; add it or drop them")
    if missing := [str(log) for log in args.logs if not log.is_file()]:
        parser.error(f"no such log: {', '.join(missing)}")
    if args.plot:
        return plot(args.plot, args.logs)
    runs = args.runs.split(",")
    if unknown := set(runs) - set(RUNS):
        parser.error(f"unknown run {', '.join(sorted(unknown))}; choose from {', '.join(RUNS)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:  # bad --set values: one line here, not a traceback from a worker
        ganzoo_recipe(args.overrides, args.adam)
    except ganzoo.GanzooError as error:
        parser.error(str(error))
    log = args.out.with_suffix(".jsonl")
    threads = args.threads or max(1, (mp.cpu_count() or 1) // args.jobs)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [{"name": name, "seed": s, "label_seed": s if args.label_seed is None else args.label_seed,
             "ema": args.ema, "threads": threads, "output": args.output, "device": args.device, "compile": args.compile, "log": str(log),
             "port_version": args.port_version, "adam": args.adam, "overrides": args.overrides,
             "epochs": (args.baseline_epochs or args.epochs) if name == "labels-only" else args.epochs}
            for s in seeds for name in runs]
    results = list(run_parallel(run_one, jobs, args.jobs, log))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot(args.out.with_suffix(".png"), [log])
    print("\n| run | seed | epochs | wrong of 10,000 (D) | wrong (average of weights) | s/epoch |")
    print("|---|---|---|---|---|---|")
    for r in sorted(results, key=lambda r: (r["name"], r["seed"])):
        last = r["curve"][-1]
        print(f"| {r['name']} | {r['seed']} | {r['epochs']} | {last['wrong']:.0f} | {last['wrong_ema']:.0f} "
              f"| {r['seconds_per_epoch']:.0f} |")
    for name in runs:
        rows = [r["curve"][-1] for r in results if r["name"] == name]
        print(f"| {name} mean ± s.e. | | | {mean_se([w['wrong'] for w in rows], '.0f', '.0f')} "
              f"| {mean_se([w['wrong_ema'] for w in rows], '.0f', '.0f')} | |")
    print("| published (300 epochs, 10 seeds) | | | 93 ± 6.5 | | |")


if __name__ == "__main__":
    main()
