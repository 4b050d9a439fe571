"""examples/ganzoo-lab: one third-party package that registers a dataset with a test
split and its own reference features, a metric, an optimizer, a callback, a command
and a recipe, pip-installed and used through ganzoo run, ganzoo eval and its own
command, with no line of ganzoo's core written for it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from test_third_party import install_example

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "ganzoo-lab"))
from ganzoo_lab.mmd import mmd2  # noqa: E402
from ganzoo_lab.optimistic import OptimisticAdam  # noqa: E402


def test_mmd2_is_the_unbiased_estimate_written_out(tmp_path):
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(7, 3, generator=gen, dtype=torch.float64), torch.randn(7, 3, generator=gen, dtype=torch.float64)

    def k(a, b):
        return (float(a @ b) / 3 + 1) ** 3

    m = len(x)
    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    across = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    assert mmd2(x, y) == pytest.approx(within - 2 * across, rel=1e-12)


def test_optimistic_adam_steps_twice_adam_then_corrects_by_the_last_step():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = OptimisticAdam([p], lr=0.1, betas=(0.5, 0.9), eps=0.0)
    grads = [torch.tensor([0.5, 1.0], dtype=torch.float64), torch.tensor([-1.0, 2.0], dtype=torch.float64)]
    expected, m, v, previous = p.detach().clone(), 0.0, 0.0, 0.0
    for t, g in enumerate(grads, 1):
        m, v = 0.5 * m + 0.5 * g, 0.9 * v + 0.1 * g * g
        u = (m / (1 - 0.5 ** t)) / (v / (1 - 0.9 ** t)).sqrt()
        expected = expected - 0.1 * (2 * u - previous)
        previous = u
        p.grad = g.clone()
        opt.step()
        torch.testing.assert_close(p.detach(), expected)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return install_example(tmp_path_factory.mktemp("lab"), "ganzoo-lab")


def ganzoo_cli(python, *args):
    return subprocess.run([str(python), "-m", "ganzoo.cli", *args], capture_output=True, text=True, timeout=600)


def test_every_registration_is_listed(lab):
    listed = ganzoo_cli(lab, "list")
    assert listed.returncode == 0 and listed.stderr.strip() == "", listed.stderr
    for name in ("spiral", "spiral-rff", "mmd", "optimistic-adam", "best-checkpoint", "gan-spiral"):
        assert name in listed.stdout, name
    assert "runs" in ganzoo_cli(lab, "--help").stdout


def test_its_recipe_trains_evaluates_keeps_its_best_and_is_listed_by_its_command(lab, tmp_path):
    run = tmp_path / "runs" / "spiral"
    trained = ganzoo_cli(lab, "run", "gan-spiral", "--set", "steps=60", "--set", "eval_every=30",
                         "--set", "eval_n=500", "--set", "log_every=30", "--out", str(run), "--device", "cpu")
    assert trained.returncode == 0, trained.stderr
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evaluations = [m for m in logged if "eval_mmd" in m]
    assert [m["step"] for m in evaluations] == [30, 60]
    assert all(m["eval_fd"] >= 0 and 0 <= m["eval_coverage"] <= 1 for m in evaluations)  # in spiral-rff features
    best = min(evaluations, key=lambda m: m["eval_mmd"])
    saved = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert saved["step"] == best["step"] and saved["callbacks"]["best-checkpoint"]["best"] == best["eval_mmd"]
    assert saved["recipe"]["d_optim"]["name"] == "optimistic-adam"
    assert all("u" in state for state in saved["d_optim"]["state"].values())  # optimistic Adam's last step

    out = tmp_path / "eval.json"
    evaluated = ganzoo_cli(lab, "eval", str(run / "checkpoints" / "last.pt"), "-n", "500", "--json", str(out))
    assert evaluated.returncode == 0, evaluated.stderr
    assert {"mmd", "mmd_se", "fd", "precision", "coverage"} <= set(json.loads(out.read_text())["metrics"])

    listed = ganzoo_cli(lab, "runs", str(tmp_path / "runs"))
    assert listed.returncode == 0, listed.stderr
    assert "spiral" in listed.stdout and "gan-spiral" in listed.stdout and "yes" in listed.stdout


def test_its_errors_are_one_line(lab, tmp_path):
    no_eval = ganzoo_cli(lab, "run", "gan-spiral", "--set", "eval_every=null", "--out", str(tmp_path / "r"))
    assert no_eval.returncode == 2 and "evaluates nothing" in no_eval.stderr
    assert len(no_eval.stderr.strip().splitlines()) == 1 and not (tmp_path / "r").exists()
    missing = ganzoo_cli(lab, "runs", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "is not a folder of runs" in missing.stderr
