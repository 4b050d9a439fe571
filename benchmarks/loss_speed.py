"""Step time of each loss and regulariser against the non-saturating loss, side by side.

The DCGAN of dcgan-fashion-mnist (width 64, 28×28, batch 64), one D update and
one G update per step for every configuration, so the ratio is the cost of the
loss itself: WGAN-GP's gradient penalty needs a double backward through D on a
third batch, R1 one on the real batch, relativistic losses score the real batch
again in G's phase. Rounds interleave the configurations so drift hits all alike;
the median of the rounds is reported.

    python benchmarks/loss_speed.py [--steps 20] [--rounds 5] [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import ganzoo
from ganzoo.recipe import apply_overrides

CONFIGS = {
    "non-saturating": [],
    "minimax": ["loss=minimax"],
    "hinge": ["loss=hinge"],
    "relativistic": ["loss=relativistic"],
    "wgan-gp (norm=null)": ["loss=wgan-gp", "discriminator.norm=null"],
    "non-saturating + R1 every step": ["loss.r1_gamma=10"],
    "non-saturating + R1 every 16 (lazy)": ["loss.r1_gamma=10", "loss.r1_every=16"],
    "non-saturating + spectral norm": ["discriminator.spectral_norm=true"],
    "non-saturating + DiffAugment": ["augment=diffaugment"],
    "non-saturating + g_ema 0.999": ["g_ema=0.999"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps timed per round and configuration")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    base = ganzoo.get_recipe("dcgan-fashion-mnist").replace(batch_size=64, log_every=10**9, steps=10**9, epochs=None)
    trainers = {}
    for name, overrides in CONFIGS.items():
        recipe = apply_overrides(base, overrides, ganzoo.default_registry().factory)
        trainer = ganzoo.build(recipe, device=args.device)
        trainer.steps = 3  # warm-up: first-call allocations, autograd graphs, lazy modules
        trainer.fit()
        trainers[name] = trainer
    times: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(args.rounds):
        for name, trainer in trainers.items():
            trainer.steps = trainer.step + args.steps
            if trainer.device.type == "cuda":
                torch.cuda.synchronize(trainer.device)
            started = time.perf_counter()
            trainer.fit()
            if trainer.device.type == "cuda":
                torch.cuda.synchronize(trainer.device)
            times[name].append((time.perf_counter() - started) / args.steps)
    reference = statistics.median(times["non-saturating"])
    print(f"\n{args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {args.rounds} rounds of {args.steps} steps\n")
    print("| configuration | ms / step | relative to non-saturating |")
    print("|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {1000 * median:.1f} | {median / reference:.2f}× |")


if __name__ == "__main__":
    main()
