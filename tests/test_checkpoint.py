"""Checkpoints are written atomically and loaded without unpickling code."""

import collections
import os
import random

import pytest
import torch

from ganzoo import GanzooError, checkpoint


def state(**extra):
    return {"format": checkpoint.FORMAT, "version": checkpoint.VERSION, "w": torch.arange(3), **extra}


def test_round_trip(tmp_path):
    path = checkpoint.save(state(step=7), tmp_path / "sub" / "c.pt")
    loaded = checkpoint.load(path)
    assert loaded["step"] == 7 and torch.equal(loaded["w"], torch.arange(3))


def test_save_leaves_no_temporary_files_and_replaces_atomically(tmp_path):
    path = tmp_path / "c.pt"
    checkpoint.save(state(step=1), path)
    checkpoint.save(state(step=2), path)
    assert os.listdir(tmp_path) == ["c.pt"]
    assert checkpoint.load(path)["step"] == 2


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path):
    path = checkpoint.save(state(step=1), tmp_path / "c.pt")

    class Unsaveable:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        checkpoint.save(state(bad=Unsaveable()), path)
    assert checkpoint.load(path)["step"] == 1
    assert os.listdir(tmp_path) == ["c.pt"]


def test_missing_file(tmp_path):
    with pytest.raises(GanzooError, match="does not exist"):
        checkpoint.load(tmp_path / "nope.pt")


@pytest.mark.parametrize("seed", range(200))
def test_corrupt_file(tmp_path, seed):
    # Random bytes make torch's unpickler fail in many different ways (one seed in
    # CI once raised IndexError); every one of them must be the same clear error.
    path = tmp_path / "c.pt"
    path.write_bytes(random.Random(seed).randbytes(1000))
    with pytest.raises(GanzooError, match="corrupt"):
        checkpoint.load(path)


def test_truncated_file(tmp_path):
    path = checkpoint.save(state(), tmp_path / "c.pt")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(GanzooError, match="corrupt or truncated"):
        checkpoint.load(path)


def test_not_a_ganzoo_checkpoint(tmp_path):
    torch.save({"model": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(GanzooError, match="not a ganzoo checkpoint"):
        checkpoint.load(tmp_path / "other.pt")


Evil = collections.namedtuple("Evil", "x")  # any non-allowlisted class needs unpickling code


def test_file_that_needs_unpickling_code_is_refused(tmp_path):
    torch.save(state(payload=Evil(1)), tmp_path / "evil.pt")
    with pytest.raises(GanzooError, match="asks to run Python code.*refused without running it"):
        checkpoint.load(tmp_path / "evil.pt")


def test_newer_format_is_refused(tmp_path):
    checkpoint.save(state(version=99), tmp_path / "c.pt")
    with pytest.raises(GanzooError, match="newer ganzoo"):
        checkpoint.load(tmp_path / "c.pt")


def test_unwritable_directory(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(GanzooError, match="cannot write .*c.pt"):
        checkpoint.save(state(), tmp_path / "file" / "c.pt")
