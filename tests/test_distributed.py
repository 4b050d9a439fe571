"""Training on several processes: real torchrun jobs of 2 CPU ranks (gloo) on the
real MNIST, checked against one process with the same global batch."""

import copy
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn

from ganzoo import GanzooError, checkpoint, distributed

SMALL = ["--set", "generator.hidden=[64,128]", "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=64",
         "--device", "cpu"]
NO_BN = [*SMALL, "--set", "generator.batchnorm=false"]  # the MLP D has no BatchNorm either


def _run(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 240):
    return subprocess.run([sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def _weights(out: Path) -> dict[str, torch.Tensor]:
    state = checkpoint.load(out / "checkpoints" / "last.pt")
    return {f"{net}.{k}": v for net in ("generator", "discriminator") for k, v in state[net].items()
            if v.is_floating_point()}


def _largest_difference(a: Path, b: Path) -> float:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    return max(float((wa[k] - wb[k]).abs().max()) for k in wa)


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and "ChildFailedError" not in text, text


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """vanilla-mnist without BatchNorm on one process, batch 64, for 6 and for 10 steps."""
    root = tmp_path_factory.mktemp("one")
    for steps in (6, 10):
        result = _run("run", "vanilla-mnist", *NO_BN, "--set", f"steps={steps}", "--set", "log_every=2",
                      "--out", str(root / f"steps-{steps}"))
        assert result.returncode == 0, result.stderr
    return root


def test_two_ranks_of_32_train_as_one_process_of_64(one_process, tmp_path):
    out = tmp_path / "two"
    result = _run("run", "vanilla-mnist", *NO_BN, "--set", "steps=6", "--set", "log_every=2", "--out", str(out),
                  "--nproc", "2")
    assert result.returncode == 0, result.stderr
    _no_traceback(result.stderr)
    # Each rank trained on half of every batch of 64 with half of its latents; DDP
    # averaged the gradients. The weights moved ~1e-3 a step (Adam, lr 2e-4 ... their
    # first steps), so 1e-5 tells a different run from float rounding.
    assert _largest_difference(out, one_process / "steps-6") < 1e-5
    first = _weights(one_process / "steps-6")
    assert max(float((first[k] - _weights(one_process / "steps-10")[k]).abs().max()) for k in first) > 1e-4
    # The logged losses are the two ranks' average: the one process's losses.
    two, one = ([json.loads(line) for line in (d / "metrics.jsonl").read_text().splitlines()]
                for d in (out, one_process / "steps-6"))
    assert [m["step"] for m in two] == [m["step"] for m in one] == [2, 4, 6]
    for a, b in zip(two, one):
        assert a["d_loss"] == pytest.approx(b["d_loss"], abs=1e-5) and a["g_loss"] == pytest.approx(b["g_loss"], abs=1e-5)
    # Resumed on one process, the run goes on as if it had been one all along.
    result = _run("run", "--resume", str(out / "checkpoints" / "last.pt"), "--set", "steps=10")
    assert result.returncode == 0, result.stderr
    assert _largest_difference(out, one_process / "steps-10") < 1e-5


def test_sync_batchnorm_normalises_the_global_batch(tmp_path):
    def run(name, *args):
        result = _run("run", "vanilla-mnist", *SMALL, "--set", "steps=6", "--out", str(tmp_path / name), *args)
        assert result.returncode == 0, result.stderr
        return tmp_path / name

    one = run("one", "--set", "sync_batchnorm=true")  # on one process it is plain BatchNorm
    synced = run("synced", "--set", "sync_batchnorm=true", "--nproc", "2")
    per_rank = run("per-rank", "--nproc", "2")
    assert _largest_difference(synced, one) < 1e-5
    # Without it each rank's G normalises its own 32 samples: another run.
    assert _largest_difference(per_rank, one) > 1e-3


@pytest.mark.parametrize("recipe, args", [
    ("cgan-mnist", []),  # a wrapped D whose trunk's own head is never used: DDP must not wait for it
    ("mbd-grid", []),  # minibatch discrimination on each rank's slice
    ("wgan-gp-mnist", ["--set", "discriminator.width=8", "--set", "generator.width=8"]),  # a double backward
    ("ssgan-mnist-100", []),  # labelled and unlabelled rows in every batch
    ("vanilla-mnist", ["--set", "sync_batchnorm=true", "--set", "amp=true"]),  # synced BatchNorm under bf16 autocast
])
def test_built_in_recipes_train_on_two_ranks(tmp_path, recipe, args):
    out = tmp_path / "run"
    result = _run("run", recipe, *args, "--set", "steps=3", "--set", "epochs=null", "--set", "log_every=1",
                  "--set", "eval_every=null",
                  "--device", "cpu", "--out", str(out), "--nproc", "2")
    assert result.returncode == 0, result.stderr
    _no_traceback(result.stderr)
    logs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logs] == [1, 2, 3] and all(abs(m["d_loss"]) < 1e6 for m in logs)


def test_r1_through_synced_batchnorm_matches_one_process(tmp_path):
    # R1 differentiates D's gradient, here through BatchNorm statistics summed over
    # the ranks: the sum's backward must itself be differentiable for this to hold.
    args = ["--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "loss.r1_gamma=10",
            "--set", "sync_batchnorm=true", "--set", "steps=3", "--device", "cpu"]
    for name, more in (("one", []), ("two", ["--nproc", "2"])):
        result = _run("run", "dcgan-mnist", *args, "--out", str(tmp_path / name), *more)
        assert result.returncode == 0, result.stderr
    assert _largest_difference(tmp_path / "one", tmp_path / "two") < 1e-5


def test_compiled_ranks_resume_exactly(one_process, tmp_path):
    out = tmp_path / "run"
    for steps, more in ((6, []), (10, ["--resume", str(out / "checkpoints" / "last.pt")])):
        args = more or ["vanilla-mnist", *NO_BN, "--out", str(out)]
        result = _run("run", *args, "--set", f"steps={steps}", "--compile", "default", "--nproc", "2")
        assert result.returncode == 0, result.stderr
        assert "torch.compile" not in result.stderr  # it compiled, on both ranks
    # Compiling tried both phases on the ranks' first batches and undid it: the run
    # is the one process's, eager.
    assert _largest_difference(out, one_process / "steps-10") < 1e-4


def test_only_rank_0_writes_and_speaks_through_plain_torchrun(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "ganzoo",
         "run", "vanilla-mnist", *NO_BN, "--set", "steps=4", "--set", "log_every=2", "--set", "sample_every=2"],
        capture_output=True, text=True, cwd=tmp_path, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    (run,) = (tmp_path / "runs").iterdir()  # one run directory, the default one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*")) == [
        "checkpoints", "checkpoints/last.pt", "losses.png", "metrics.jsonl", "recipe.json",
        "samples", "samples/step-000002.png", "samples/step-000004.png"]
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [2, 4]
    assert result.stderr.count("final losses") == 1 and "rank 1" not in result.stderr
    assert checkpoint.load(run / "checkpoints" / "last.pt")["world_size"] == 2


@pytest.mark.parametrize("how", ["SIGTERM to the launcher", "Ctrl-C to the terminal's process group"])
def test_a_signal_saves_once_and_the_job_resumes_exactly(one_process, tmp_path, how):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganzoo", "run", "vanilla-mnist", *NO_BN, "--set", "steps=100000",
         "--set", "log_every=1", "--set", "checkpoint_every=100000", "--out", str(out), "--nproc", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    metrics = out / "metrics.jsonl"
    deadline = time.time() + 120
    while not (metrics.exists() and metrics.read_text().count("\n") >= 2):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.05)
    if how.startswith("SIGTERM"):
        proc.send_signal(signal.SIGTERM)  # what `timeout`, schedulers and `docker stop` send
    else:  # every rank gets SIGINT from the terminal, and again from the launcher: still one save
        os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == (143 if how.startswith("SIGTERM") else 130), stderr
    _no_traceback(stderr)
    assert stderr.count("checkpoint saved to") == 1 and "rank 1" not in stderr, stderr
    assert not re.search(r"^[IWE]\d{4} ", stderr, re.M) and "death signal" not in stderr  # the launcher is quiet
    last = out / "checkpoints" / "last.pt"
    step = checkpoint.load(last)["step"]
    said = "SIGTERM" if how.startswith("SIGTERM") else "interrupted"
    assert 2 <= step < 10 and f"{said} at step {step}" in stderr, stderr
    assert f"resume with: ganzoo run --resume {last} --nproc 2" in stderr
    # Resumed on two ranks, it reaches step 10 as the one process did without a stop.
    result = _run("run", "--resume", str(last), "--set", "steps=10", "--nproc", "2")
    assert result.returncode == 0, result.stderr
    assert _largest_difference(out, one_process / "steps-10") < 1e-5


FAILING = '''
import os

import ganzoo
from ganzoo import hookimpl


class FailOnRank1:
    """Non-saturating, but its generator phase raises on rank 1 at the third step."""

    def __init__(self):
        self.inner, self.calls = ganzoo.create("losses", "non-saturating"), 0

    def discriminator_loss(self, batch, G, D):
        return self.inner.discriminator_loss(batch, G, D)

    def generator_loss(self, batch, G, D):
        self.calls += 1
        if self.calls == 3 and os.environ.get("RANK") == "1":
            raise ValueError("the disk of rank 1 is on fire")
        return self.inner.generator_loss(batch, G, D)


@hookimpl
def register_losses(register):
    register("fail-on-rank-1", FailOnRank1)
'''


def test_a_failing_rank_ends_the_job_with_one_line_naming_it(tmp_path):
    site = tmp_path / "site"
    (site / "ganzoo_failing-0.1.dist-info").mkdir(parents=True)
    (site / "ganzoo_failing.py").write_text(textwrap.dedent(FAILING))
    (site / "ganzoo_failing-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ganzoo-failing\nVersion: 0.1\n")
    (site / "ganzoo_failing-0.1.dist-info" / "entry_points.txt").write_text("[ganzoo]\nfailing = ganzoo_failing\n")
    path = os.pathsep.join([str(site), *[p for p in [os.environ.get("PYTHONPATH")] if p]])
    started = time.time()
    result = _run("run", "vanilla-mnist", *NO_BN, "--set", "loss=fail-on-rank-1", "--set", "steps=50",
                  "--out", str(tmp_path / "run"), "--nproc", "2", env={"PYTHONPATH": path})
    assert result.returncode == 1, result.stderr
    assert time.time() - started < 60  # rank 0, left waiting for rank 1's gradients, is not left hanging
    _no_traceback(result.stderr)
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [line for line in errors if "rank 1: ValueError: the disk of rank 1 is on fire" in line], \
        result.stderr
    assert len(errors) == 1


@pytest.mark.parametrize("args, says", [
    (["--set", "batch_size=63"], "batch_size 63 is the global batch, split evenly over the 2 processes"),
    (["--set", "generator.hidden=[0]"], "--set generator.hidden: "),
])
def test_bad_input_is_one_line_from_rank_0(tmp_path, args, says):
    result = _run("run", "vanilla-mnist", *SMALL, *args, "--set", "steps=2", "--out", str(tmp_path / "run"),
                  "--nproc", "2")
    assert result.returncode == 2, result.stderr
    _no_traceback(result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {says}"), result.stderr
    assert not (tmp_path / "run").exists()


def synced_batchnorm_matches_batchnorm(device: str, backend: str, store: Path) -> None:
    """On a one-rank group, ``SyncedBatchNorm`` is BatchNorm: the same output, running
    statistics and R1-style gradients (a gradient of a gradient through the batch
    statistics, which torch's ``SyncBatchNorm`` cannot take)."""
    dist.init_process_group(backend, store=dist.FileStore(str(store), 1), rank=0, world_size=1,
                            **({"device_id": torch.device(device)} if backend == "nccl" else {}))
    try:
        torch.manual_seed(0)
        plain = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.LeakyReLU(0.2)).to(device)
        synced = distributed.sync_batchnorm(copy.deepcopy(plain))
        assert type(synced[1]).__name__ == "SyncedBatchNorm"
        x = torch.randn(8, 1, 6, 6, device=device)
        results = []
        for net in (plain, synced):
            real = x.clone().requires_grad_(True)
            out = net(real)
            (grad,) = torch.autograd.grad(out.square().sum(), real, create_graph=True)
            (out.sum() + grad.square().sum()).backward()
            results.append([out.detach(), net[1].running_mean, net[1].running_var,
                            *(p.grad for p in net.parameters())])
        for a, b in zip(*results):  # to rounding (the conv's bias, which BatchNorm cancels, has gradient ~0)
            assert float((a - b).abs().max()) < 1e-4 * (1 + float(b.abs().max())), (a, b)
    finally:
        dist.destroy_process_group()


def test_synced_batchnorm_is_batchnorm_on_one_rank_to_second_order(tmp_path):
    synced_batchnorm_matches_batchnorm("cpu", "gloo", tmp_path / "store")


@pytest.mark.parametrize("gpus, ranks_here, local_rank, expected", [
    (4, 4, 3, "cuda:3"),    # torchrun, one GPU per rank
    (1, 1, 3, "cuda:0"),    # a scheduler gave each rank one GPU of its own
    (1, 2, 0, "2 ranks on this machine need a GPU each, and 1 is visible"),  # every rank says so, rank 0 too
    (1, 2, 1, "2 ranks on this machine need a GPU each, and 1 is visible"),
    (2, 1, 3, "4 ranks on this machine need a GPU each, and 2 are visible"),
])
def test_each_rank_takes_its_own_gpu_or_all_say_why_not(monkeypatch, gpus, ranks_here, local_rank, expected):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    for name, value in (("WORLD_SIZE", "8"), ("RANK", "0"), ("LOCAL_WORLD_SIZE", str(ranks_here)),
                        ("LOCAL_RANK", str(local_rank))):
        monkeypatch.setenv(name, value)
    if expected.startswith("cuda"):
        assert distributed.local_device(torch.device("cuda")) == torch.device(expected)
    else:
        with pytest.raises(GanzooError, match=expected):
            distributed.local_device(torch.device("cuda"))
