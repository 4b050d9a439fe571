"""Faults: a full disk, a full quota, and places that cannot be written.

A full disk during a checkpoint write is one line naming the file and saying
that no space is left (exit 2, no traceback), and the previous checkpoint is
intact; the same for the metrics log, a resumed run then reads it as one
continuous log. A real full disk comes from a 1-2 MB tmpfs where the machine
allows mounting one (those tests skip otherwise); the in-process tests inject
the operating system's error into the real write path instead: into the file
that the real ``torch.save`` writes to, into ``torch.save`` itself, into
``fsync`` (where delayed-allocation file systems report a full disk), and as a
full quota. Places that cannot be written (under a file, a directory named as
the output, the wrong suffix, /proc and /sys) are refused in one line, and
nothing is written.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError, checkpoint
from ganzoo.cli import main

GANZOO = str(Path(sys.executable).with_name("ganzoo"))
TINY = ["--set", "generator.hidden=[64,128]", "--set", "generator.latent_dim=32",
        "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=32", "--device", "cpu"]
NO_SPACE = "no space left on the device"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env.update(OMP_NUM_THREADS="1", COLUMNS="250", **extra)
    return env


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _one_error_line(err: str) -> str:
    """The only line of ``err``, which must be an ``error:`` line without a traceback."""
    assert "Traceback" not in err, err
    assert len(_lines(err)) == 1, err
    [line] = _lines(err)
    assert line.startswith("error: "), err
    return line


def _temps(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp")) if folder.is_dir() else []


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (``None`` for a folder)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


# --------------------------------------------------------------------------- a real full disk (tmpfs)
@pytest.fixture
def mount_tmpfs(tmp_path):
    """``mount_tmpfs(size)`` mounts a tmpfs of ``size`` (e.g. "2m") and returns its
    folder; skips where the machine does not allow it; unmounts afterwards."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        try:
            result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                                    capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"cannot mount a tmpfs here: {exc}")
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return filler


def test_a_real_full_disk_during_a_run_is_one_line(mount_tmpfs):
    disk = mount_tmpfs("2m")
    out = disk / "run"
    # A generator of 1.3 M weights: one checkpoint (with Adam's moments) is over 15 MB.
    args = ["run", "vanilla-mnist", *TINY, "--set", "generator.hidden=[512,1024]", "--set", "steps=20",
            "--set", "checkpoint_every=5", "--set", "log_every=1000", "--out", str(out)]
    result = subprocess.run([GANZOO, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env=_env(), timeout=120)
    assert result.returncode == 2, result.stderr
    line = _one_error_line(result.stderr)
    assert NO_SPACE in line and str(out / "checkpoints" / "last.pt") in line, line
    assert list((out / "checkpoints").iterdir()) == []  # no half-written checkpoint, no temporary file


def test_a_real_full_disk_keeps_the_previous_checkpoint(mount_tmpfs):
    disk = mount_tmpfs("2m")
    path = disk / "last.pt"
    checkpoint.save({"format": "ganzoo-checkpoint", "version": 1, "step": 1, "x": torch.zeros(10)}, path)
    with pytest.raises(GanzooError) as caught:
        checkpoint.save({"format": "ganzoo-checkpoint", "version": 1, "step": 2, "x": torch.zeros(1_000_000)}, path)
    message = str(caught.value)
    assert "\n" not in message
    assert NO_SPACE in message and str(path) in message, message
    assert "(the previous checkpoint there is intact)" in message, message
    assert checkpoint.load(path)["step"] == 1
    assert sorted(p.name for p in disk.iterdir()) == ["last.pt"]


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """A checkpoint of a two-step tiny run."""
    out = tmp_path_factory.mktemp("saved") / "run"
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=2", "--out", str(out)]) == 0
    return out / "checkpoints" / "last.pt"


def test_sample_on_a_full_disk_keeps_the_previous_png(mount_tmpfs, saved_run, capsys):
    disk = mount_tmpfs("1m")
    png = disk / "grid.png"
    assert main(["sample", str(saved_run), "-n", "4", "-o", str(png), "--device", "cpu"]) == 0
    before = png.read_bytes()
    _fill(disk)
    capsys.readouterr()
    assert main(["sample", str(saved_run), "-n", "64", "-o", str(png), "--device", "cpu"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert NO_SPACE in line and str(png) in line, line
    assert png.read_bytes() == before  # the grid that was there is not replaced by half a new one
    assert _temps(disk) == []


# --------------------------------------------------------------------------- injected: a checkpoint write
class FullFile:
    """A file that takes ``room`` more bytes, then fails as a full disk (or quota) does:
    what fits is written, then ``OSError(errno)``."""

    def __init__(self, f, room: int, error: int = errno.ENOSPC) -> None:
        self._f, self.room, self.error = f, room, error

    def write(self, data) -> int:
        if not isinstance(data, str):
            data = memoryview(data).cast("B")
        if len(data) > self.room:
            self._f.write(data[: self.room])
            self.room = 0
            raise OSError(self.error, os.strerror(self.error))
        self.room -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self) -> "FullFile":
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()


def _inject(monkeypatch, how: str) -> None:
    """Make the next checkpoint write fail the way ``how`` says."""
    real_save = torch.save
    if how == "the disk fills under torch.save":
        # The real torch.save, into a file that is full after 4 kB.
        monkeypatch.setattr(torch, "save", lambda obj, f, *a, **kw: real_save(obj, FullFile(f, 4096), *a, **kw))
    elif how in ("torch.save raises ENOSPC", "torch.save raises EDQUOT"):
        code = errno.ENOSPC if how.endswith("ENOSPC") else errno.EDQUOT

        def failing_save(obj, f, *args, **kwargs):
            f.write(b"PK\x03\x04" + b"\0" * 1000)
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(torch, "save", failing_save)
    elif how == "fsync reports ENOSPC":  # delayed allocation (ext4, XFS, NFS): the write succeeds, fsync fails
        def failing_fsync(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(os, "fsync", failing_fsync)
    else:
        raise AssertionError(how)


INJECTIONS = ["the disk fills under torch.save", "torch.save raises ENOSPC", "torch.save raises EDQUOT",
              "fsync reports ENOSPC"]


def _trainer(data, steps):
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", latent_dim=16, hidden=(32,)), data.spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(32,)), data.spec)
    return ganzoo.Trainer(G, D, ganzoo.create("losses", "non-saturating"), data, batch_size=32,
                          steps=steps, device="cpu", log_every=2)


@pytest.mark.parametrize("how", INJECTIONS)
def test_a_full_disk_at_a_save_is_one_line_and_the_previous_checkpoint_is_intact(small_mnist, tmp_path,
                                                                               monkeypatch, how):
    folder = tmp_path / "ckpt"
    path = folder / "last.pt"
    trainer = _trainer(small_mnist, 2).fit()
    assert trainer.save(path) == path
    trainer.steps = 4
    trainer.fit()
    with monkeypatch.context() as m:
        _inject(m, how)
        with pytest.raises(GanzooError) as caught:
            trainer.save(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot write {path}: {NO_SPACE}"), message
    assert message.endswith("(the previous checkpoint there is intact)"), message
    assert checkpoint.load(path)["step"] == 2
    assert trainer.last_saved == (path, 2)
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt"]  # no temporary file left
    assert trainer.save(path) == path and checkpoint.load(path)["step"] == 4  # space again: saves


@pytest.mark.parametrize("how", ["the disk fills under torch.save", "torch.save raises ENOSPC"])
def test_a_full_disk_at_a_run_checkpoint_is_one_line(tmp_path, monkeypatch, capsys, how):
    out = tmp_path / "run"
    _inject(monkeypatch, how)
    code = main(["run", "vanilla-mnist", *TINY, "--set", "steps=20", "--set", "checkpoint_every=5",
                 "--set", "log_every=1000", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    line = _one_error_line(err)
    assert NO_SPACE in line and str(out / "checkpoints" / "last.pt") in line, line
    assert list((out / "checkpoints").iterdir()) == []


# --------------------------------------------------------------------------- injected: the metrics log
def test_a_full_disk_at_the_metrics_log_is_one_line_and_the_resumed_log_is_whole(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    metrics = out / "metrics.jsonl"
    real_open = pathlib.Path.open

    def open_full_metrics(self, mode="r", *args, **kwargs):
        f = real_open(self, mode, *args, **kwargs)
        if self == metrics and "a" in mode:
            return FullFile(f, 20)  # a line cut short, then the disk is full
        return f

    with monkeypatch.context() as m:
        m.setattr(pathlib.Path, "open", open_full_metrics)
        code = main(["run", "vanilla-mnist", *TINY, "--set", "steps=20", "--set", "checkpoint_every=5",
                     "--set", "log_every=10", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    errors = [line for line in _lines(err) if line.startswith("error:")]
    assert len(errors) == 1, err
    # Besides the error, only the progress line of the log that could not be written.
    assert all(re.match(r"step 10/20 ", line) for line in _lines(err) if not line.startswith("error:")), err
    assert errors[0].startswith(f"error: cannot write {metrics}: {NO_SPACE}"), errors[0]
    assert metrics.read_text() and "\n" not in metrics.read_text()  # half a line
    last = out / "checkpoints" / "last.pt"
    assert checkpoint.load(last)["step"] == 5  # the logs of step 10 come before its checkpoint

    # Space again: the resumed run drops the half line and logs as one continuous run.
    assert main(["run", "--resume", str(last)]) == 0
    assert "resuming vanilla-mnist from step 5" in capsys.readouterr().err
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [10, 20]


# --------------------------------------------------------------------------- places that cannot be written
@pytest.mark.parametrize("target, expected", [
    ("/dev/null/x.png", "/dev/null is a file, not a folder"),
    ("{tmp}/grid.png", "-o {tmp}/grid.png is a directory; name a file inside it"),
    ("{tmp}/grids", "-o {tmp}/grids is a directory; name a file inside it"),
    ("out.txt", "-o out.txt: the file must end in .png"),
], ids=["under a file", "a directory", "a directory without a suffix", "not a png"])
def test_sample_to_an_unwritable_place_is_one_line_and_writes_nothing(saved_run, tmp_path, monkeypatch, capsys,
                                                                      target, expected):
    (tmp_path / "grid.png").mkdir()
    (tmp_path / "grids").mkdir()
    monkeypatch.chdir(tmp_path)
    target, expected = target.format(tmp=tmp_path), expected.format(tmp=tmp_path)
    before = _tree(tmp_path)
    assert main(["sample", str(saved_run), "-o", target, "--device", "cpu"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert expected in line, line
    assert _tree(tmp_path) == before


def test_the_installed_command_refuses_an_unwritable_sample_place_in_one_line(saved_run):
    result = subprocess.run([GANZOO, "sample", str(saved_run), "-o", "/dev/null/x.png", "--device", "cpu"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, env=_env(), timeout=120)
    assert result.returncode == 2, result.stderr
    assert "/dev/null is a file, not a folder" in _one_error_line(result.stderr)
    assert result.stdout == ""


@pytest.mark.parametrize("where, expected", [
    ("/proc/ganzoo-test", "/proc/ganzoo-test"),
    ("/sys/ganzoo-test", "/sys/ganzoo-test"),
    ("{file}/run", "--out {file}/run: {file} is a file, not a folder"),
    ("{file}", "--out {file} is a file, not a directory"),
], ids=["in /proc", "in /sys", "under a file", "a file"])
def test_run_into_an_unwritable_place_is_one_line_and_creates_nothing(tmp_path, capsys, where, expected):
    file = tmp_path / "a-file"
    file.write_text("not a folder\n")
    where, expected = where.format(file=file), expected.format(file=file)
    before = _tree(tmp_path)
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=2", "--out", where]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert expected in line, line
    assert _tree(tmp_path) == before
    assert not Path(where).exists() or Path(where) == file
