"""Fault: `ganzoo eval` on a fresh machine, where the reference classifier is not cached yet.

It used to crash with a traceback ("element 0 of tensors does not require grad"):
evaluation trains the classifier on first use, inside ``torch.no_grad()``. And with
stderr not a terminal (CI, a log file) the training showed nothing for minutes.

The real CLI code path, in a subprocess, from an empty cache, with stderr a pipe. Only
the classifier's training is shortened (one epoch, and a floor it reaches), by setting
``SETTINGS`` before ``ganzoo.cli.main`` runs; everything else is the installed code on
real MNIST.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

EVAL = (
    "import sys, ganzoo.metrics.classifier as c; "
    "c.SETTINGS['mnist'].update(epochs=1, min_accuracy=0.9); "
    "from ganzoo.cli import main; sys.exit(main(sys.argv[1:]))"
)
TRAINING_LINE = re.compile(r"^training the mnist reference classifier \(once\): \d+% \(epoch \d+/\d+\), \d+ s",
                           re.MULTILINE)


def _eval(ckpt, cache, tmp_path, name):
    # Not a terminal, and nothing in the environment telling rich to pretend it is one.
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    result = subprocess.run(
        [sys.executable, "-c", EVAL, "eval", str(ckpt), "-n", "500", "--metrics", "fd,precision",
         "--cache-dir", str(cache), "--device", "cpu", "--json", str(tmp_path / f"{name}.json")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=900,
    )
    return result


def test_eval_on_a_cold_cache_trains_the_classifier_and_says_so(cli, tmp_path):
    run = tmp_path / "run"
    made = cli("run", "vanilla-mnist", "--set", "steps=3", "--set", "batch_size=32", "--set", "generator.hidden=[64]",
               "--set", "discriminator.hidden=[64]", "--set", "generator.latent_dim=16", "--out", str(run),
               "--device", "cpu")
    assert made.returncode == 0, made.stderr
    ckpt = run / "checkpoints" / "last.pt"
    cache = tmp_path / "cache"
    cache.mkdir()

    cold = _eval(ckpt, cache, tmp_path, "cold")
    assert cold.returncode == 0, cold.stderr
    assert "Traceback" not in cold.stderr, cold.stderr
    assert re.search(r"\bfd\b\s+\S*\s*\d+\.\d+", cold.stdout), cold.stdout
    lines = TRAINING_LINE.findall(cold.stderr)
    assert len(lines) >= 2, cold.stderr  # plain progress lines, not a rich bar that a pipe never shows
    assert "100% (epoch 1/1)" in cold.stderr
    assert re.search(r"trained the mnist reference classifier in \d+ s: \d+\.\d+% test accuracy", cold.stderr)
    assert sorted(p.name for p in (cache / "classifiers").iterdir()) == ["mnist-v1.json", "mnist-v1.pt"]

    warm = _eval(ckpt, cache, tmp_path, "warm")
    assert warm.returncode == 0, warm.stderr
    assert "training the mnist reference classifier" not in warm.stderr, warm.stderr
    assert "retraining" not in warm.stderr
    fd = {name: json.loads((tmp_path / f"{name}.json").read_text())["metrics"]["fd"] for name in ("cold", "warm")}
    assert fd["cold"] > 0 and fd["cold"] == fd["warm"]  # the same classifier, read back from the cache
