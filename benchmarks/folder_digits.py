"""dcgan-folder on a folder of real MNIST digits, streamed and held, from the command line.

Writes ``--images`` MNIST training digits (the first of each class, in equal
numbers) as PNG files into ten class folders, then trains ``dcgan-folder``
(28x28, grey, labels from the folders) for ``--steps`` steps twice with the
same seed, once streaming the folder from disk and once holding it in memory,
evaluates both with ``ganzoo eval`` (in the reference classifier ganzoo trains
on the folder's labels) and reports whether the two runs' weights are equal,
their step times and their metrics. The streamed run's last sample grid is
copied to ``--grid``.

Usage: GANZOO_DATA_DIR=... python benchmarks/folder_digits.py [--images 10000] [--steps 1500] [--grid PNG]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from PIL import Image

import ganzoo
from ganzoo import checkpoint

GANZOO = str(Path(sys.executable).with_name("ganzoo"))


def write_digits(root: Path, n: int) -> None:
    train = ganzoo.load_dataset("mnist")
    pixels = ((train.x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    for k in range(10):
        (root / str(k)).mkdir(parents=True)
        for i in torch.nonzero(train.y == k)[: n // 10, 0].tolist():
            Image.fromarray(pixels[i, 0].numpy()).save(root / str(k) / f"{i:05d}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--grid", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "digits"
        write_digits(folder, args.images)
        results = {}
        for mode in ("always", "never"):
            run = Path(tmp) / f"run-{mode}"
            subprocess.run([GANZOO, "run", "dcgan-folder", "--out", str(run), "--device", "cpu",
                            "--set", f"dataset.root={folder}", "--set", "dataset.size=28",
                            "--set", "dataset.channels=1", "--set", "dataset.labels=folders",
                            "--set", f"dataset.stream={mode}", "--set", f"steps={args.steps}"],
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run([GANZOO, "eval", str(run / "checkpoints" / "last.pt"), "--json", str(run / "eval.json")],
                           check=True, stdout=subprocess.DEVNULL)
            logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            step_times = [m["step_time"] for m in logs if "step_time" in m]
            results[mode] = {"run": run, "metrics": json.loads((run / "eval.json").read_text())["metrics"],
                             "step_ms": 1000 * sorted(step_times)[len(step_times) // 2]}
        weights = [checkpoint.load(results[m]["run"] / "checkpoints" / "last.pt")["generator"]
                   for m in ("always", "never")]
        equal = all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
        print(f"{args.images} MNIST digits as PNG in 10 class folders, dcgan-folder 28x28 grey, {args.steps} steps")
        print(f"generator weights of the streamed and the held run equal: {equal}")
        for mode, name in (("always", "streamed"), ("never", "held")):
            shown = ", ".join(f"{k} {v:.4g}" for k, v in results[mode]["metrics"].items() if isinstance(v, float))
            print(f"{name:<9} median step {results[mode]['step_ms']:.1f} ms; {shown}")
        if args.grid is not None:
            grids = sorted((results["always"]["run"] / "samples").glob("*.png"))
            shutil.copy(grids[-1], args.grid)
            print(f"grid: {args.grid} (from {grids[-1].name})")


if __name__ == "__main__":
    main()
