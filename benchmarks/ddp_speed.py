"""Several processes against one, side by side: ``ganzoo run RECIPE --nproc N``.

Each configuration is a real ``ganzoo run`` (process start, data, process group
and all); what is compared is the median step time rank 0 logs in
``metrics.jsonl`` after the first logging interval (the warm-up), at the same
global batch, so N ranks do the same work per step as one process. Rounds
interleave the configurations so drift hits all alike. On the CPU, one process
gets every core (``OMP_NUM_THREADS`` = cores) and each of N ranks cores / N, as
``--nproc`` gives them.

    python benchmarks/ddp_speed.py [--recipe vanilla-mnist] [--nproc 1,2] [--steps 300] [--rounds 3]
                                   [--device cpu] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run_once(recipe: str, nproc: int, steps: int, device: str, overrides: list[str], out: Path) -> float:
    """The median step time (s) rank 0 logged after its first interval."""
    every = max(1, steps // 10)
    sets = [arg for o in [*overrides, f"steps={steps}", f"log_every={every}", "sample_every=1000000",
                          "checkpoint_every=1000000"] for arg in ("--set", o)]
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // nproc))}
    result = subprocess.run([sys.executable, "-m", "ganzoo", "run", recipe, *sets, "--device", device,
                             "--out", str(out), "--nproc", str(nproc)], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{recipe} --nproc {nproc} failed:\n{result.stderr}")
    logs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return statistics.median(m["step_time"] for m in logs[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="vanilla-mnist")
    parser.add_argument("--nproc", default="1,2", help="comma-separated process counts")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    counts = [int(n) for n in args.nproc.split(",")]
    times: dict[int, list[float]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for n in counts:
                out = Path(tmp) / f"round{r}-n{n}"
                times[n].append(run_once(args.recipe, n, args.steps, args.device, args.overrides, out))
    base = statistics.median(times[counts[0]])
    print(f"{args.recipe} {' '.join(args.overrides)} on {args.device}, {args.steps} steps, "
          f"median of {args.rounds} rounds")
    print("| processes | ms / step | vs " + f"{counts[0]} | per-round ms |")
    print("|---|---|---|---|")
    for n in counts:
        ms = statistics.median(times[n]) * 1e3
        print(f"| {n} | {ms:.1f} | {base * 1e3 / ms:.2f}× | {', '.join(f'{t * 1e3:.1f}' for t in times[n])} |")


if __name__ == "__main__":
    main()
