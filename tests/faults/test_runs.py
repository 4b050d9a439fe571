"""Runs never destroy runs: an occupied --out, default directories, failures before
the first step, resume that would not continue exactly, a cut-off metrics log."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ganzoo import checkpoint
from ganzoo.cli import main

TINY = ["--set", "generator.hidden=[64,128]", "--set", "generator.latent_dim=32",
        "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=32", "--device", "cpu"]
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def finished_run(cli, tmp_path) -> Path:
    out = tmp_path / "run"
    result = cli("run", "vanilla-mnist", *TINY, "--set", "steps=20", "--set", "log_every=5", "--out", str(out),
                 env=ONE_THREAD)
    assert result.returncode == 0, result.stderr
    return out


def test_an_out_that_holds_a_run_is_refused_and_the_run_is_left_as_it_was(cli, finished_run):
    before = _files(finished_run)
    result = cli("run", "vanilla-mnist", *TINY, "--set", "steps=5", "--out", str(finished_run), env=ONE_THREAD)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert "already holds a run" in line and "--resume" in line and "--overwrite" in line
    assert _files(finished_run) == before
    assert checkpoint.load(finished_run / "checkpoints" / "last.pt")["step"] == 20


def test_overwrite_replaces_the_run_entirely(cli, finished_run):
    result = cli("run", "vanilla-mnist", *TINY, "--set", "steps=5", "--set", "log_every=5",
                 "--out", str(finished_run), "--overwrite", env=ONE_THREAD)
    assert result.returncode == 0, result.stderr
    assert checkpoint.load(finished_run / "checkpoints" / "last.pt")["step"] == 5
    steps = [json.loads(line)["step"] for line in (finished_run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [5]
    assert json.loads((finished_run / "recipe.json").read_text())["steps"] == 5


def test_runs_started_in_the_same_second_get_their_own_directories(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("ganzoo.cli.time.strftime", lambda fmt: "20260101-000000")
    for steps in (3, 4):
        assert main(["run", "vanilla-mnist", *TINY, "--set", f"steps={steps}"]) == 0
    capsys.readouterr()
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["vanilla-mnist-20260101-000000", "vanilla-mnist-20260101-000000-2"]
    for name, steps in zip(runs, (3, 4)):
        assert checkpoint.load(tmp_path / "runs" / name / "checkpoints" / "last.pt")["step"] == steps


def test_concurrent_processes_never_share_a_run_directory(tmp_path):
    """Three runs started at once from one folder: three directories, each one whole run."""
    command = [str(Path(sys.executable).with_name("ganzoo")), "run", "vanilla-mnist", *TINY,
               "--set", "steps=6", "--set", "log_every=3"]
    procs = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **ONE_THREAD}) for _ in range(3)]
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 3
    for run in runs:
        assert checkpoint.load(run / "checkpoints" / "last.pt")["step"] == 6
        steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert steps == [3, 6]


@pytest.mark.parametrize("bad", [
    ["--device", "foo"],
    ["--set", "eval_every=2", "--set", "eval_metrics=[\"modes\"]"],  # refused by the evaluation at the run's start
    ["--set", "generator.hidden=[64,-1]"],
])
@pytest.mark.parametrize("explicit_out", [False, True])
def test_a_run_that_fails_before_its_first_step_leaves_nothing_behind(tmp_path, monkeypatch, capsys, bad,
                                                                       explicit_out):
    monkeypatch.chdir(tmp_path)
    out = ["--out", str(tmp_path / "new-run")] if explicit_out else []
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=3", *bad, *out]) == 2
    _one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_resume_refuses_what_would_not_continue_the_same_run(cli, finished_run):
    last = str(finished_run / "checkpoints" / "last.pt")
    before = _files(finished_run)
    for change in ("batch_size=16", "amp=true", "loss=minimax", "g_optim.lr=0.001", "schedule=decay"):
        result = cli("run", "--resume", last, "--set", change, "--set", "steps=30", env=ONE_THREAD)
        assert result.returncode == 2, (change, result.stderr)
        line = _one_error_line(result.stderr)
        assert f"checkpoint's {change.split('=')[0].split('.')[0]}" in line, line
    assert _files(finished_run) == before


def test_resume_shorter_than_the_checkpoint_is_one_line(cli, finished_run):
    result = cli("run", "--resume", str(finished_run / "checkpoints" / "last.pt"), "--set", "steps=5",
                 env=ONE_THREAD)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert "at step 20" in line and "5 steps" in line and "steps=" in line


def test_resume_survives_a_metrics_line_cut_short(cli, finished_run):
    metrics = finished_run / "metrics.jsonl"
    with metrics.open("a") as f:
        f.write('{"d_loss": 0.69, "st')  # what a kill -9 or a full disk leaves
    result = cli("run", "--resume", str(finished_run / "checkpoints" / "last.pt"), "--set", "steps=30",
                 env=ONE_THREAD)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [m["step"] for m in lines] == [5, 10, 15, 20, 25, 30]
    assert json.loads((finished_run / "recipe.json").read_text())["steps"] == 30


def test_a_checkpoint_that_is_a_directory_is_named_as_one(capsys, finished_run):
    for argv in (["sample", str(finished_run)], ["eval", str(finished_run)], ["run", "--resume", str(finished_run)]):
        assert main(argv) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert "is a directory" in line and "checkpoints/last.pt" in line


def test_a_checkpoint_asking_to_run_code_is_refused_without_running_it(capsys, tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    import torch

    evil = tmp_path / "evil.pt"
    torch.save({"format": "ganzoo-checkpoint", "version": 1, "payload": Payload()}, evil)
    for argv in (["sample", str(evil)], ["eval", str(evil)], ["run", "--resume", str(evil)]):
        assert main(argv) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert "asks to run Python code" in line and "refused" in line and "corrupt" not in line
    assert not marker.exists()
