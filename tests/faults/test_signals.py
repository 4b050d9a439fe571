"""Faults: signals and kills in the middle of a run or of a checkpoint write.

Real subprocesses get real signals: SIGTERM (what ``timeout``, batch schedulers,
``docker stop`` and systemd send) stops at the end of the step, saves and exits
143; a second Ctrl-C in the middle of a step stops at once, saves nothing and
says which checkpoint is the last one; ``kill -9`` during a checkpoint write
leaves the previous checkpoint whole, and the next write to the same path
cleans up the dead writer's temporary file (and only a dead writer's). The
in-process tests check that a signal during the final save does not cut it
short, and that wall-clock checkpoints are written during training.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from ganzoo import checkpoint
from ganzoo.callbacks import Callback, Checkpointer

GANZOO = str(Path(sys.executable).with_name("ganzoo"))
TINY = ["--set", "generator.hidden=[64,128]", "--set", "generator.latent_dim=32",
        "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=32", "--device", "cpu"]


def _env(**extra: str) -> dict[str, str]:
    """The test's environment for a ganzoo subprocess: one thread, stderr not a
    terminal, nothing telling rich to pretend it is one, wide lines."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env.update(OMP_NUM_THREADS="1", COLUMNS="250", GANZOO_DISABLE_PLUGINS="", **extra)
    return env


def _run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([GANZOO, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=env or _env(), timeout=timeout)


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


# --------------------------------------------------------------------------- SIGTERM
def test_sigterm_saves_exits_143_and_the_run_resumes(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [GANZOO, "run", "vanilla-mnist", *TINY, "--set", "steps=100000", "--set", "log_every=5", "--out", str(out)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )
    try:
        metrics = out / "metrics.jsonl"
        deadline = time.monotonic() + 60
        while not (metrics.exists() and metrics.read_text().count("\n") >= 2):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no two log lines within 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, stderr
    _no_traceback(stderr)
    last = out / "checkpoints" / "last.pt"
    stopped = re.search(r"SIGTERM at step (\d+)", stderr)
    assert stopped, stderr
    step = int(stopped.group(1))
    assert f"checkpoint saved to {last}" in stderr, stderr
    assert f"resume with: ganzoo run --resume {last}" in stderr, stderr
    state = checkpoint.load(last)
    assert state["step"] == step >= 10

    resumed = _run("run", "--resume", str(last), "--set", f"steps={step + 5}")
    assert resumed.returncode == 0, resumed.stderr
    _no_traceback(resumed.stderr)
    assert f"resuming vanilla-mnist from step {step}" in resumed.stderr
    assert checkpoint.load(last)["step"] == step + 5


# --------------------------------------------------------------------------- interrupts from inside a step
SELFKILL = '''
"""A third-party loss that interrupts its own run: the non-saturating loss, which on
its ``at``-th generator phase sends its process SIGINT ``kills`` times."""

import os
import signal

import ganzoo
from ganzoo import GANLoss, hookimpl


class SelfKill(GANLoss):
    def __init__(self, inner, at, kills):
        self.inner, self.at, self.kills, self.calls = inner, at, kills, 0

    def discriminator_loss(self, batch, generator, discriminator):
        return self.inner.discriminator_loss(batch, generator, discriminator)

    def generator_loss(self, batch, generator, discriminator):
        self.calls += 1
        if self.calls == self.at:
            for _ in range(self.kills):
                # os.kill runs the handler before it returns: the first sets the stop
                # flag, the second raises KeyboardInterrupt here, in the middle of the step.
                os.kill(os.getpid(), signal.SIGINT)
        return self.inner.generator_loss(batch, generator, discriminator)


def selfkill(at: int = 8, kills: int = 2):
    """Non-saturating, but interrupts itself on the at-th generator phase."""
    return SelfKill(ganzoo.create("losses", "non-saturating"), at, kills)


@hookimpl
def register_losses(register):
    register("selfkill", selfkill)
'''


@pytest.fixture
def selfkill_site(tmp_path) -> Path:
    """A real distribution ``ganzoo-selfkill`` 0.1 on a folder for PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "ganzoo_selfkill.py").write_text(textwrap.dedent(SELFKILL))
    info = site / "ganzoo_selfkill-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ganzoo-selfkill\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ganzoo]\nselfkill = ganzoo_selfkill\n")
    return site


def _selfkill_run(site: Path, out: Path, kills: int) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(site), *[p for p in [os.environ.get("PYTHONPATH")] if p]])
    # Checkpoints at steps 5 and 10 (and 15...); the loss interrupts step 8.
    return _run("run", "vanilla-mnist", *TINY, "--set", "loss=selfkill", "--set", "loss.at=8",
                "--set", f"loss.kills={kills}", "--set", "steps=1000", "--set", "checkpoint_every=5",
                "--set", "log_every=1000", "--out", str(out), env=_env(PYTHONPATH=path))


def test_a_second_interrupt_mid_step_saves_nothing_and_names_the_last_checkpoint(selfkill_site, tmp_path):
    out = tmp_path / "run"
    result = _selfkill_run(selfkill_site, out, kills=2)
    assert result.returncode == 130, result.stderr
    _no_traceback(result.stderr)
    last = out / "checkpoints" / "last.pt"
    # The 8th step was under way: 7 were complete, the last checkpoint is step 5's.
    assert "stopped at once by a second interrupt at step 7" in result.stderr, result.stderr
    assert "nothing was saved" in result.stderr
    assert f"the last checkpoint is {last} (step 5)" in result.stderr, result.stderr
    assert f"resume with: ganzoo run --resume {last}" in result.stderr, result.stderr
    assert checkpoint.load(last)["step"] == 5
    assert sorted(p.name for p in last.parent.iterdir()) == ["last.pt", "step-0000005.pt"]


def test_one_interrupt_mid_step_finishes_the_step_and_saves_it(selfkill_site, tmp_path):
    out = tmp_path / "run"
    result = _selfkill_run(selfkill_site, out, kills=1)
    assert result.returncode == 130, result.stderr
    _no_traceback(result.stderr)
    last = out / "checkpoints" / "last.pt"
    assert f"interrupted at step 8; checkpoint saved to {last}" in result.stderr, result.stderr
    assert "nothing was saved" not in result.stderr
    assert checkpoint.load(last)["step"] == 8


# --------------------------------------------------------------------------- in-process: the final save
class InterruptAt(Callback):
    """Sends this process SIGINT at the end of step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer) -> None:
        if trainer.step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


class SignalAtEnd(Callback):
    """Sends this process ``sig`` from ``on_train_end``, before the checkpointer's save."""

    def __init__(self, sig: int) -> None:
        self.sig, self.sent = sig, False

    def on_train_end(self, trainer) -> None:
        os.kill(os.getpid(), self.sig)
        self.sent = True  # reached: the handler did not raise


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("when", ["before the save", "during the write"])
def test_a_second_signal_during_the_final_save_does_not_stop_it(small_mnist, trainer_for, tmp_path, monkeypatch,
                                                                 second, when):
    folder = tmp_path / "ckpt"
    late = SignalAtEnd(second)
    callbacks = [InterruptAt(3), *([late] if when == "before the save" else []),
                 Checkpointer(folder, every=10**9, every_seconds=None)]
    if when == "during the write":
        real_save = torch.save
        sent = []

        def save_with_a_signal(obj, f, *args, **kwargs):
            # The temporary file is open and empty; the signal arrives before any byte is written.
            os.kill(os.getpid(), second)
            sent.append(second)
            return real_save(obj, f, *args, **kwargs)

        monkeypatch.setattr(torch, "save", save_with_a_signal)
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    trainer = trainer_for(small_mnist, 10, callbacks)
    assert trainer.fit() is trainer
    assert trainer.interrupted and trainer.stop_signal == signal.SIGINT and trainer.step == 3
    assert late.sent if when == "before the save" else sent == [second]
    assert checkpoint.load(folder / "last.pt")["step"] == 3
    assert trainer.last_saved == (folder / "last.pt", 3)
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt"]  # no temporary file left
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_second_interrupt_during_a_step_raises_and_skips_the_final_save(small_mnist, trainer_for, tmp_path):
    class TwoInterrupts(Callback):
        def on_step_end(self, trainer):
            if trainer.step == 3:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)

    folder = tmp_path / "ckpt"
    trainer = trainer_for(small_mnist, 10, [TwoInterrupts(), Checkpointer(folder, every=2, every_seconds=None)])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert trainer.step == 3 and trainer.last_saved == (folder / "last.pt", 2)
    assert checkpoint.load(folder / "last.pt")["step"] == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# --------------------------------------------------------------------------- kill -9 during a write
WRITER = """
import sys, torch
from ganzoo import checkpoint
path = sys.argv[1]
checkpoint.save({"format": "ganzoo-checkpoint", "version": 1, "step": 1, "x": torch.zeros(10)}, path)
print("ready", flush=True)
checkpoint.save({"format": "ganzoo-checkpoint", "version": 1, "step": 2, "x": torch.zeros(200_000_000)}, path)
print("done", flush=True)
"""


def _temps(folder: Path, name: str = "last.pt") -> list[Path]:
    return sorted(folder.glob(f".{name}.*.tmp"))


def test_kill_9_during_a_checkpoint_write_keeps_the_old_one_and_the_next_write_cleans_up(tmp_path):
    if shutil.disk_usage(tmp_path).free < 4 * 2**30:
        pytest.skip("needs 4 GB free for an 800 MB checkpoint write")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    target = folder / "last.pt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env())
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        assert writer.stdout.readline().strip() == "ready", writer.communicate()
        # Wait for the big write's temporary file, and for it to grow: the write is under way.
        pattern = f".last.pt.{writer.pid}.*.tmp"
        sizes: list[int] = []
        deadline = time.monotonic() + 60
        while not (len(sizes) >= 2 and 0 < sizes[-2] < sizes[-1]):
            assert writer.poll() is None, f"the writer ended before it was killed: {writer.communicate()}"
            assert time.monotonic() < deadline, f"no growing {pattern} within 60 s: {sizes}"
            found = list(folder.glob(pattern))
            if found:
                try:
                    sizes.append(found[0].stat().st_size)
                except FileNotFoundError:
                    pass
            time.sleep(0.002)
        writer.kill()
        writer.communicate(timeout=30)  # reaped: a zombie would still look alive to the next writer
        assert writer.returncode == -signal.SIGKILL
        assert checkpoint.load(target)["step"] == 1  # the old checkpoint is whole
        [stale] = _temps(folder)
        assert stale.name.startswith(f".last.pt.{writer.pid}.")
        assert 0 < stale.stat().st_size < 800_000_000

        # Temporary files of writers that are still alive must survive the next write,
        # while one named with this very pid is a leftover of an earlier process
        # that had the same pid (a container restarted): it is removed.
        live = [folder / f".last.pt.{sleeper.pid}.abcd1234.tmp", folder / f".last.pt.{os.getppid()}.efgh5678.tmp"]
        reused = folder / f".last.pt.{os.getpid()}.ijkl9012.tmp"
        other = folder / f".other.pt.{writer.pid}.mnop3456.tmp"  # another target's: not this write's business
        for path in [*live, reused, other]:
            path.write_bytes(b"partial")
        saved = checkpoint.save({"format": "ganzoo-checkpoint", "version": 1, "step": 3, "x": torch.ones(4)}, target)
        assert saved == target
        assert _temps(folder) == sorted(live)
        assert other.exists()
        state = checkpoint.load(target)
        assert state["step"] == 3 and torch.equal(state["x"], torch.ones(4))
    finally:
        for proc in (writer, sleeper):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


# --------------------------------------------------------------------------- wall-clock checkpoints
class Watch(Callback):
    """Records ``trainer.last_saved`` at each step end (placed after the checkpointer),
    optionally sleeping at the end of some steps first (placed before it)."""

    def __init__(self, sleep_at: dict[int, float] | None = None) -> None:
        self.sleep_at = sleep_at or {}
        self.seen: dict[int, tuple[Path, int] | None] = {}

    def on_step_end(self, trainer) -> None:
        if trainer.step in self.sleep_at:
            time.sleep(self.sleep_at[trainer.step])
        self.seen[trainer.step] = trainer.last_saved


def test_every_seconds_zero_saves_last_pt_at_every_step(small_mnist, trainer_for, tmp_path):
    folder = tmp_path / "ckpt"
    watch = Watch()
    trainer = trainer_for(small_mnist, 5, [Checkpointer(folder, every=10**9, every_seconds=0.0), watch])
    trainer.fit()
    last = folder / "last.pt"
    assert watch.seen == {step: (last, step) for step in range(1, 6)}
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt"]  # no numbered copies: not a multiple of every
    assert checkpoint.load(last)["step"] == 5


def test_every_seconds_saves_once_that_much_wall_time_has_passed(small_mnist, trainer_for, tmp_path):
    folder = tmp_path / "ckpt"
    slow, watch = Watch(sleep_at={3: 1.2}), Watch()
    trainer = trainer_for(small_mnist, 6, [slow, Checkpointer(folder, every=10**9, every_seconds=1.0), watch])
    trainer.fit()
    last = folder / "last.pt"
    # Steps take milliseconds: nothing is saved until step 3 has taken over a second.
    assert watch.seen[1] is None and watch.seen[2] is None
    assert watch.seen[3] == (last, 3)
    assert watch.seen[4] == (last, 3) and watch.seen[5] == (last, 3)
    assert checkpoint.load(last)["step"] == 6  # and the final save at the end


def test_without_every_seconds_nothing_is_saved_before_the_end(small_mnist, trainer_for, tmp_path):
    folder = tmp_path / "ckpt"
    watch = Watch()
    trainer = trainer_for(small_mnist, 5, [Checkpointer(folder, every=10**9, every_seconds=None), watch])
    trainer.fit()
    assert set(watch.seen.values()) == {None}
    assert trainer.last_saved == (folder / "last.pt", 5)
