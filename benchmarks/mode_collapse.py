"""Mode collapse, measured: plain GAN against minibatch discrimination over several seeds.

Trains each recipe once per seed (in parallel worker processes, one thread each),
draws 2,500 samples (26,000 for Stacked MNIST) and prints modes captured and the
high-quality fraction as mean ± standard error, with PacGAN's published figures
beside them. Writes one scatter plot per run and a JSON of every number.

    python benchmarks/mode_collapse.py                       # ring and grid, 5 seeds
    python benchmarks/mode_collapse.py --recipes dcgan-stacked-mnist,mbd-stacked-mnist --seeds 3 --epochs 1
    python benchmarks/mode_collapse.py --recipes mbd-ring --set simultaneous=true   # a variant, as `ganzoo run --set`
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ganzoo
from ganzoo.recipe import apply_overrides
from seeds import append_jsonl, mean_se, run_parallel

# PacGAN (Lin et al. 2018) Table 1 (ring, grid) and Table 2 (Stacked MNIST), mean ± s.e.;
# the mbd- mixture targets are ganzoo's own, not a paper's.
PUBLISHED = {
    "gan-ring": "GAN 6.3 ± 0.5 modes, 98.2% HQ",
    "gan-grid": "GAN 17.3 ± 0.8 modes, 94.8% HQ",
    "mbd-ring": "target 8/8 modes, ≥ 90% HQ",
    "mbd-grid": "target ≥ 24/25 modes, ≥ 90% HQ",
    "dcgan-stacked-mnist": "DCGAN 99 modes, KL 3.4",
    "mbd-stacked-mnist": "PacDCGAN2 1000 modes, KL 0.06",
}


def run_one(job: dict) -> dict:
    import torch

    from ganzoo.callbacks import save_scatter
    from ganzoo.metrics.evaluate import evaluate

    torch.set_num_threads(1)
    recipe = ganzoo.get_recipe(job["recipe"]).replace(seed=job["seed"], name=job["recipe"])
    recipe = apply_overrides(recipe, job["overrides"], ganzoo.default_registry().factory)
    if job["epochs"] is not None:
        recipe = recipe.replace(epochs=job["epochs"], steps=None)
    started = time.perf_counter()
    trainer = ganzoo.build(recipe, device=job["device"]).fit()
    seconds = time.perf_counter() - started
    n = 26_000 if trainer.data.modes is None else 2_500
    values = evaluate(trainer.sample, recipe.dataset, ["modes"], n=n, seed=job["seed"])
    out = Path(job["out"])
    if trainer.data.modes is not None:
        save_scatter(trainer.sample(2_500), out / f"{job['recipe']}-seed{job['seed']}.png",
                     trainer.data.modes, trainer.data.mode_sigma,
                     title=f"{job['recipe']} seed {job['seed']}: {values['modes']:.0f} modes, "
                           f"{100 * values['high_quality']:.1f}% HQ")
    return {**job, **values, "train_seconds": seconds, "steps": trainer.step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="gan-ring,mbd-ring,gan-grid,mbd-grid")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="run seeds first-seed … first-seed + seeds - 1")
    parser.add_argument("--epochs", type=int, help="override every recipe's length")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field of every recipe, as `ganzoo run --set`")
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--out", type=Path, default=Path("runs/mode-collapse"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    try:  # bad names or --set values: one line here, not a traceback from a worker
        for name in recipes:
            apply_overrides(ganzoo.get_recipe(name), args.overrides, ganzoo.default_registry().factory)
    except ganzoo.GanzooError as error:
        parser.error(str(error))
    jobs = [{"recipe": r, "seed": s, "epochs": args.epochs, "out": str(args.out),
             "device": args.device, "overrides": args.overrides}
            for s in range(args.first_seed, args.first_seed + args.seeds) for r in recipes]
    results = []
    for result in run_parallel(run_one, jobs, args.jobs, args.out / "results.jsonl"):
        results.append(result)
        append_jsonl(args.out / "results.jsonl", result)
        quality = f", {100 * result['high_quality']:.1f}% HQ" if "high_quality" in result else ""
        kl = f", KL {result['kl_uniform']:.3f}" if "kl_uniform" in result else ""
        print(f"{result['recipe']} seed {result['seed']}: {result['modes']:.0f}/{result['modes_total']:.0f} "
              f"modes{quality}{kl} ({result['steps']} steps, {result['train_seconds']:.0f} s)", flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n| recipe | seeds | steps | modes | high quality (%) | KL to uniform | published |")
    print("|---|---|---|---|---|---|---|")
    for recipe in recipes:
        rows = [r for r in results if r["recipe"] == recipe]
        hq = mean_se([100 * r["high_quality"] for r in rows]) if "high_quality" in rows[0] else "–"
        kl = mean_se([r["kl_uniform"] for r in rows]) if "kl_uniform" in rows[0] else "–"
        print(f"| {recipe} | {len(rows)} | {rows[0]['steps']} | {mean_se([r['modes'] for r in rows])} "
              f"/ {rows[0]['modes_total']:.0f} | {hq} | {kl} | {PUBLISHED.get(recipe, '')} |")
    print(f"\nscatter plots and results.json in {args.out}")


if __name__ == "__main__":
    main()
