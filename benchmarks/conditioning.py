"""Conditioning side by side on MNIST: AC-GAN's auxiliary classifier against label
concatenation with a projection discriminator, by how often G's samples are of
the class asked for.

Runs each recipe per seed in parallel worker processes (one thread each) and
measures 5,000 samples, classes in equal shares, in the MNIST reference
classifier: ``class-accuracy`` (the share it assigns to the class G was asked
for; the classifier's own test accuracy, 99.5%, is the ceiling), FD and recall.

    python benchmarks/conditioning.py [--recipes acgan-mnist,cdcgan-mnist,cgan-mnist] [--seeds 1] [--epochs N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import ganzoo
from seeds import mean_se, run_logged

METRICS = ["class-accuracy", "fd", "recall"]


def run_one(job: dict) -> dict:
    import torch

    from ganzoo.metrics.evaluate import evaluate

    torch.set_num_threads(1)
    recipe = ganzoo.get_recipe(job["recipe"]).replace(seed=job["seed"], log_every=500)
    if job["epochs"] is not None:
        recipe = recipe.replace(epochs=job["epochs"], steps=None)
    started = time.perf_counter()
    trainer = ganzoo.build(recipe, device=job["device"]).fit()
    seconds = time.perf_counter() - started
    values = evaluate(trainer.sample, recipe.dataset, METRICS, n=5000, seed=job["seed"], conditional=True)
    return {**job, **values, "train_seconds": seconds, "steps": trainer.step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="acgan-mnist,cdcgan-mnist,cgan-mnist")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, help="override every recipe's length")
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/conditioning"))
    args = parser.parse_args()
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    try:
        for name in recipes:
            ganzoo.get_recipe(name)
    except ganzoo.GanzooError as error:
        parser.error(str(error))
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [{"recipe": r, "seed": s, "epochs": args.epochs, "device": args.device}
            for r in recipes for s in range(args.seeds)]
    results = []
    for result in run_logged(run_one, jobs, args.jobs, args.out / "results.jsonl"):
        results.append(result)
        print(f"{result['recipe']} seed {result['seed']}: class accuracy {result['class-accuracy']:.3f}, "
              f"FD {result['fd']:.1f}, recall {result['recall']:.3f} ({result['steps']} steps, "
              f"{result['train_seconds']:.0f} s)", flush=True)
    print("\n| recipe | seeds | steps | class accuracy | FD | recall |")
    print("|---|---|---|---|---|---|")
    for recipe in recipes:
        rows = [r for r in results if r["recipe"] == recipe]
        cells = " | ".join(mean_se([r[m] for r in rows]) for m in METRICS)
        print(f"| {recipe} | {len(rows)} | {rows[0]['steps']} | {cells} |")


if __name__ == "__main__":
    main()
