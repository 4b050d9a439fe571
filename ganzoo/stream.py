"""Data read batch by batch while training: for datasets larger than memory.

:class:`StreamData` draws the same batches as :class:`~ganzoo.data.TensorData`
would for the same seed (the order is :func:`ganzoo.data.epoch_permutation`),
but reads each sample when its batch comes: ``torch.utils.data`` worker
processes decode ahead of the training loop, batches land in pinned memory on
CUDA, and only the batches in flight are resident. A dataset plugin returns one
when the decoded data would not fit in :func:`memory_budget`.
"""

from __future__ import annotations

import copy
import os
import re
import signal
import threading
from typing import Any, Callable, Iterator, Sequence

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from .components import Batch, DataSpec
from .data import Data, batch_rows
from .errors import DataUnreadable, GanzooError
from .settings import MEMORY_BUDGET_ENV

PREFETCH = 4
"""Batches each worker decodes ahead of the one the loop is training on."""


class ReadFailed(str):
    """What an item returns instead of its tensor when it cannot be read: the reason,
    naming the file (a value, so the training process reports it as one line)."""


def default_workers() -> int:
    """Decoding processes: all cores but the one that trains, at most 8, at least 1."""
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def _parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*", text.lower())
    if match is None:
        raise GanzooError(f"{MEMORY_BUDGET_ENV}={text!r} is not a size; write e.g. 512MB, 4GiB or 1000000 (bytes)")
    number, unit = float(match.group(1)), match.group(2).rstrip("b").rstrip("i")
    return int(number * 1024 ** " kmgt".index(unit or " "))


def _available_host_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def format_bytes(n: int) -> str:
    """``n`` bytes for people: ``1.5 MiB``, ``3.2 GiB``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def memory_budget() -> int:
    """Bytes a dataset may take when held whole on the training device:
    ``GANZOO_MEMORY_BUDGET`` (e.g. ``4GiB``; K, M, G and T are powers of 1024,
    with or without a trailing ``B``), else half the memory available now
    (on the host, and on the GPU when CUDA is here, whichever is smaller)."""
    setting = os.environ.get(MEMORY_BUDGET_ENV)
    if setting:
        return _parse_size(setting)
    budget = _available_host_memory() // 2
    if torch.cuda.is_available():
        budget = min(budget, torch.cuda.mem_get_info()[0] // 2)
    return budget


def _quiet_worker(worker_id: int) -> None:
    """Workers leave Ctrl-C (which a terminal sends to every process of the job)
    to the training process, which finishes its step and saves; they end with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _collate(items: list[Any]) -> Tensor | ReadFailed:
    failed = next((item for item in items if isinstance(item, ReadFailed)), None)
    return failed if failed is not None else torch.stack(items)


class _EpochBatches:
    """Index batches from batch ``cursor`` of epoch ``epoch`` on, epoch after epoch
    (the sampler of the loader): the same rows :meth:`Data.batches` takes."""

    def __init__(self, data: Data, seed: int, batch_size: int, epoch: int, cursor: int, rank: int,
                 ranks: int) -> None:
        self.data, self.seed, self.batch_size, self.epoch, self.cursor = data, seed, batch_size, epoch, cursor
        self.rank, self.ranks = rank, ranks

    def __iter__(self) -> Iterator[list[int]]:
        for rows in batch_rows(self.data, self.seed, self.batch_size, self.epoch, self.cursor, rank=self.rank,
                               ranks=self.ranks, device="cpu"):
            yield rows.tolist()


def _started(loader: DataLoader) -> Iterator[Any]:
    """``iter(loader)``, without the SIGCHLD handler torch installs (once per
    process) when it first starts workers: that handler raises wherever the
    training process happens to be when a worker dies, half-way through a step.
    Without it, a dead worker is found when its batch is due (within seconds),
    inside :func:`read`, before the step that needs it."""
    it = iter(loader)
    if threading.current_thread() is threading.main_thread():
        handler = signal.getsignal(signal.SIGCHLD)
        if getattr(handler, "__module__", "").startswith("torch.utils.data"):
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    return it


def read(loader: DataLoader) -> Iterator[Any]:
    """The batches of ``loader``; a reading process that raised or died is one
    line (:class:`~ganzoo.errors.DataUnreadable`), and however reading ends (an
    error, Ctrl-C, the consumer stopping) the reading processes are shut down."""
    it = _started(loader)
    failure = None
    try:
        while True:
            try:
                batch = next(it)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - the items are a plugin's code, run in another process
                # A worker's exception arrives with its traceback as text; its last line is the error itself.
                lines = [line for line in str(exc).strip().splitlines() if line.strip()] or [type(exc).__name__]
                failure = lines[-1].strip()
                break
            yield batch
    finally:
        # Explicitly: a traceback that keeps the iterator alive would keep its workers alive.
        getattr(it, "_shutdown_workers", lambda: None)()
        del it
    # Raised outside the handler, so that no chained exception holds the loader's frames.
    raise DataUnreadable(f"reading the data failed: {failure}; set dataset.workers=0 to read in the training "
                         "process and see where")


class StreamData(Data):
    """Samples read one at a time from ``items`` (a map-style dataset whose item
    ``i`` is sample ``i`` as a tensor, typically uint8 pixels, or a
    :class:`ReadFailed`), turned into training values by ``convert`` on the
    device, a batch at a time.

    ``y`` (labels) is held whole: it is small. ``workers`` processes read ahead
    (0: read in the training process). ``convert`` must be elementwise, so that a
    batch equals the same rows of the whole dataset converted at once.
    """

    def __init__(self, items: Dataset, spec: DataSpec, y: Tensor | None = None, *,
                 convert: Callable[[Tensor], Tensor] = lambda x: x.float(), reference: str | None = None,
                 workers: int | None = None, device: torch.device | str = "cpu") -> None:
        if y is not None and len(y) != len(items):
            raise ValueError(f"{len(items)} samples but {len(y)} labels")
        self.items, self.spec, self.y, self.convert = items, spec, y, convert
        self.reference = reference
        self.workers = default_workers() if workers is None else workers
        self._device = torch.device(device)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def nbytes(self) -> int:
        """Bytes the converted samples would take held whole (float32)."""
        return len(self) * int(torch.Size(self.spec.shape).numel()) * 4

    def to(self, device: torch.device | str) -> "StreamData":
        """This dataset delivering its batches on ``device``."""
        new = copy.copy(self)
        new._device = torch.device(device)
        new.y = None if self.y is None else self.y.to(new._device)
        return new

    def _loader(self, batch_sampler: Any, workers: int) -> DataLoader:
        # A loader of its own generator: starting one draws a seed for its workers,
        # which must not move the global stream that G's latents come from.
        return DataLoader(self.items, batch_sampler=batch_sampler, num_workers=workers, collate_fn=_collate,
                          generator=torch.Generator().manual_seed(0),
                          pin_memory=self._device.type == "cuda", worker_init_fn=_quiet_worker if workers else None,
                          prefetch_factor=PREFETCH if workers else None)

    def _batch(self, pixels: Tensor | ReadFailed, index: Sequence[int]) -> Batch:
        if isinstance(pixels, ReadFailed):
            raise DataUnreadable(f"a sample could not be read: {pixels}; fix or remove the file (a run stops "
                                 "at its last finished step, saved, and resumes from there)")
        x = self.convert(pixels.to(self._device, non_blocking=True))
        y = None if self.y is None else self.y[torch.as_tensor(index, device=self._device)]
        return Batch(x=x, y=y)

    def take(self, index: Tensor) -> Batch:
        """The samples at ``index``, read now (by the workers, in batches of 256)."""
        rows = index.cpu().tolist()
        chunks = [rows[i : i + 256] for i in range(0, len(rows), 256)]
        parts = [self._batch(pixels, chunk)
                 for pixels, chunk in zip(read(self._loader(chunks, min(self.workers, len(chunks)))), chunks)]
        if not parts:
            return Batch(x=torch.empty(0, *self.spec.shape, device=self._device),
                         y=None if self.y is None else self.y[:0])
        return Batch(x=torch.cat([p.x for p in parts]),
                     y=None if self.y is None else torch.cat([p.y for p in parts]))

    def batches(self, seed: int, batch_size: int, epoch: int = 0, cursor: int = 0, *,
                rank: int = 0, ranks: int = 1) -> Iterator[Batch]:
        """The batches :meth:`Data.batches` would give, read ahead by the workers."""
        sampler = _EpochBatches(self, seed, batch_size, epoch, cursor, rank, ranks)
        indices = iter(_EpochBatches(self, seed, batch_size, epoch, cursor, rank, ranks))
        for pixels in read(self._loader(sampler, self.workers)):
            yield self._batch(pixels, next(indices))
