"""Streamed data: read batch by batch in worker processes, yet the same batches as
the data held in memory, an exact resume mid-stream, and reading failures as one
line with the last finished step saved."""

import os
import signal

import pytest
import torch
from torch.utils.data import Dataset

import ganzoo
from ganzoo import DataSpec, GanzooError, ReadFailed, StreamData, TensorData
from ganzoo.callbacks import Checkpointer
from ganzoo.errors import DataUnreadable
from ganzoo.stream import memory_budget

from test_trainer import make_trainer


class Pixels(Dataset):
    """Real MNIST digits as uint8, one at a time; ``bad`` rows fail to read, ``die``
    kills the reading process, ``raises`` raises inside it."""

    def __init__(self, pixels, bad=(), die=(), raises=()):
        self.pixels, self.bad, self.die, self.raises = pixels, set(bad), set(die), set(raises)

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, i):
        if i in self.bad:
            return ReadFailed(f"digit-{i}.png: image file is truncated")
        if i in self.die:
            os.kill(os.getpid(), signal.SIGKILL)
        if i in self.raises:
            raise KeyError(f"no digit {i}")
        return self.pixels[i]


def to_unit(pixels):
    return pixels.float().div_(255.0)


@pytest.fixture
def digits(small_mnist):
    """The 640 digits of ``small_mnist`` as uint8 pixels, their labels, and both datasets."""
    pixels = ((small_mnist.x + 1) * 127.5).round().to(torch.uint8)
    spec = DataSpec((1, 28, 28), num_classes=10, value_range=(0.0, 1.0))
    memory = TensorData(to_unit(pixels), spec, y=small_mnist.y)
    return pixels, memory, spec


def stream_of(digits, workers=2, **faults):
    pixels, memory, spec = digits
    return StreamData(Pixels(pixels, **faults), spec, memory.y, convert=to_unit, workers=workers)


def first(iterator, n):
    return [next(iterator) for _ in range(n)]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stream_gives_the_batches_of_the_same_data_in_memory(digits, workers):
    memory, stream = digits[1], stream_of(digits, workers)
    # 20 batches of 32 per epoch: 45 batches cross two epoch boundaries.
    for a, b in zip(first(memory.batches(7, 32), 45), first(stream.batches(7, 32), 45), strict=True):
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    other_seed = next(stream.batches(8, 32))
    assert not torch.equal(other_seed.x, next(memory.batches(7, 32)).x)


def test_a_stream_started_mid_epoch_continues_where_a_whole_one_is(digits):
    stream = stream_of(digits)
    whole = first(stream.batches(3, 32), 30)
    for a, b in zip(whole[23:], first(stream.batches(3, 32, epoch=1, cursor=3), 7)):
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)


def test_take_reads_any_rows(digits):
    memory, stream = digits[1], stream_of(digits)
    rows = torch.tensor([639, 0, 5, 5, 300] + list(range(400, 700 - 60)))
    assert torch.equal(stream.take(rows).x, memory.take(rows).x)
    assert torch.equal(stream.take(rows).y, memory.take(rows).y)


def test_training_on_a_stream_equals_training_in_memory_and_resumes_exactly(digits, tmp_path):
    memory, stream = digits[1], stream_of(digits)
    held = make_trainer(memory, steps=30).fit()
    streamed = make_trainer(stream, steps=30).fit()
    for a, b in zip(held.generator.state_dict().values(), streamed.generator.state_dict().values(), strict=True):
        assert torch.equal(a, b)

    half = make_trainer(stream, steps=13).fit()  # stops mid-epoch, between two read-ahead batches
    half.save(tmp_path / "half.pt")
    resumed = make_trainer(stream, steps=30)
    resumed.resume(tmp_path / "half.pt")
    resumed.fit()
    for a, b in zip(streamed.discriminator.state_dict().values(), resumed.discriminator.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("fault, message", [
    ({"bad": [100]}, "a sample could not be read: digit-100.png: image file is truncated"),
    ({"raises": [100]}, "reading the data failed: KeyError: 'no digit 100'"),
    ({"die": [100]}, "reading the data failed: DataLoader worker .* (exited unexpectedly|is killed by signal)"),
])
def test_a_read_that_fails_mid_run_is_one_line_and_the_last_finished_step_is_saved(digits, tmp_path, fault,
                                                                                    message):
    # Sample 100 comes in the first epoch of seed 0 (one of its 20 batches); each step draws one batch.
    step_of = int((torch.randperm(640, generator=torch.Generator().manual_seed(0)) == 100).nonzero()) // 32
    trainer = make_trainer(stream_of(digits, **fault), steps=40, callbacks=[Checkpointer(tmp_path, every=1000)])
    with pytest.raises(DataUnreadable, match=message) as info:
        trainer.fit()
    assert "\n" not in str(info.value)
    if "die" in fault:  # a killed reader may take batches it had read but not yet sent with it
        assert trainer.step <= step_of
    else:
        assert trainer.step == step_of  # the failing step left no trace
    saved = torch.load(tmp_path / "last.pt", weights_only=True)
    assert (saved["step"], saved["epoch"], saved["cursor"]) == (trainer.step, 0, trainer.step)


def test_the_memory_budget_is_a_setting_with_units(monkeypatch):
    monkeypatch.setenv("GANZOO_MEMORY_BUDGET", "1.5GiB")
    assert memory_budget() == int(1.5 * 2**30)
    monkeypatch.setenv("GANZOO_MEMORY_BUDGET", "300MB")
    assert memory_budget() == 300 * 2**20
    monkeypatch.setenv("GANZOO_MEMORY_BUDGET", "lots")
    with pytest.raises(GanzooError, match="GANZOO_MEMORY_BUDGET='lots' is not a size"):
        memory_budget()
    monkeypatch.delenv("GANZOO_MEMORY_BUDGET")
    assert 0 < memory_budget() < os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
