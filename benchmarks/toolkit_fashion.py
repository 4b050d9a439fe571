"""The post-2017 toolkit side by side on Fashion-MNIST: five loss/regulariser
configurations of the same DCGAN, at equal G steps, over several seeds.

Each configuration is dcgan-fashion-mnist (here at width 32, batch 64) with
`--set` changes: the non-saturating loss, hinge, WGAN-GP (λ = 10, five critic
updates, Adam(1e-4, β = (0, 0.9)), no BatchNorm in the critic: Gulrajani et al.
2017), non-saturating with spectral norm on D (Miyato et al. 2018), and hinge
with spectral norm and DiffAugment (Zhao et al. 2020). Runs go in parallel
worker processes, one thread each; every run is measured on 5,000 samples in
the Fashion-MNIST reference classifier's features (FD, precision, recall,
coverage) and its first seed's grid is saved. Lucic et al. 2018 give the ordering
to compare with (best Inception FID per model, 10k vs 10k, on Fashion-MNIST): NS
GAN 26.5, WGAN 21.5 (weight clipping; on MNIST their WGAN-GP is 20.3 against NS
GAN's 6.8).

    python benchmarks/toolkit_fashion.py [--steps 2500] [--seeds 3] [--jobs 2] [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ganzoo
from ganzoo.recipe import apply_overrides
from seeds import mean_se, run_logged

SMALL = ["generator.width=32", "discriminator.width=32", "batch_size=64"]
CONFIGS = {
    "non-saturating": [],
    "hinge": ["loss=hinge"],
    "wgan-gp": ["loss=wgan-gp", "n_critic=5", "discriminator.norm=null", "g_optim.lr=1e-4", "d_optim.lr=1e-4",
                "g_optim.betas=[0.0,0.9]", "d_optim.betas=[0.0,0.9]"],
    "non-saturating + SN": ["discriminator.spectral_norm=true"],
    "hinge + SN + DiffAugment": ["loss=hinge", "discriminator.spectral_norm=true", "augment=diffaugment"],
}
METRICS = ["fd", "precision", "recall", "coverage"]


def recipe_of(config: str, seed: int, steps: int):
    base = ganzoo.get_recipe("dcgan-fashion-mnist").replace(seed=seed, steps=steps, epochs=None, log_every=500)
    return apply_overrides(base, SMALL + CONFIGS[config], ganzoo.default_registry().factory)


def run_one(job: dict) -> dict:
    import torch

    from ganzoo.callbacks import save_grid
    from ganzoo.metrics.evaluate import evaluate

    torch.set_num_threads(1)
    recipe = recipe_of(job["config"], job["seed"], job["steps"])
    started = time.perf_counter()
    trainer = ganzoo.build(recipe, device=job["device"]).fit()
    seconds = time.perf_counter() - started
    values = evaluate(trainer.sample, recipe.dataset, METRICS, n=5000, seed=job["seed"])
    if job["seed"] == 0:
        torch.manual_seed(0)
        name = job["config"].replace(" + ", "-").replace(" ", "-").lower()
        save_grid(trainer.sample(64), Path(job["out"]) / f"{name}.png")
    return {**job, **values, "train_seconds": seconds, "ms_per_step": 1000 * seconds / trainer.step}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated, from: " + ", ".join(CONFIGS))
    parser.add_argument("--jobs", type=int, default=2, help="parallel worker processes")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("runs/toolkit-fashion"))
    args = parser.parse_args()
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations {unknown}; choose from {', '.join(CONFIGS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    # The slow configuration first, so that the two workers finish together.
    jobs = [{"config": c, "seed": s, "steps": args.steps, "device": args.device, "out": str(args.out)}
            for c in sorted(configs, key=lambda c: c != "wgan-gp") for s in range(args.seeds)]
    results = []
    for result in run_logged(run_one, jobs, args.jobs, args.out / "results.jsonl"):
        results.append(result)
        print(f"{result['config']} seed {result['seed']}: FD {result['fd']:.1f}, precision {result['precision']:.3f}, "
              f"recall {result['recall']:.3f}, coverage {result['coverage']:.3f} "
              f"({result['ms_per_step']:.0f} ms/step)", flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{args.steps} G steps, {args.seeds} seeds, mean ± s.e.\n")
    print("| configuration | FD | precision | recall | coverage | ms / step (1 thread) |")
    print("|---|---|---|---|---|---|")
    for config in configs:
        rows = [r for r in results if r["config"] == config]
        cells = [mean_se([r[m] for r in rows]) for m in METRICS]
        print(f"| {config} | {' | '.join(cells)} | {mean_se([r['ms_per_step'] for r in rows], '.0f', '.0f')} |")


if __name__ == "__main__":
    main()
