"""What the trainer draws batches from: a dataset and the order of its epochs.

:class:`Data` is the contract: a spec, optional labels, ``take(index)`` for the
samples at some indices, and :meth:`Data.batches`, the endless stream of
batches from a given epoch and position. The order is a function of the seed
and the epoch only, so a resumed run draws exactly the batches an uninterrupted
one would, whichever way the samples are held.

:class:`TensorData` holds them as tensors on the training device. MNIST-sized
data fits on any GPU and in any laptop's memory, so batches are drawn by
indexing resident tensors: no DataLoader workers, no host-to-device copy per
step. Data too large for that is read file by file through
:class:`ganzoo.stream.StreamData`, in the same order.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import torch
from torch import Tensor

from .components import Batch, DataSpec


def epoch_permutation(n: int, seed: int, epoch: int) -> Tensor:
    """The order of ``n`` samples in epoch ``epoch`` of a run with ``seed`` (on the CPU)."""
    gen = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**63)  # any valid seed fits
    return torch.randperm(n, generator=gen)


class Data:
    """Samples with their spec, optional labels ``y`` and labelled-mask, drawn in batches.

    ``reference`` names the registered reference (``register_references``) that
    evaluation measures these samples in; ``modes`` and ``mode_sigma`` describe
    a mixture with known modes. A subclass says how samples are held: it
    implements ``__len__``, ``device`` and ``take``, and may override
    :meth:`permutation` to draw batches differently.
    """

    spec: DataSpec
    y: Tensor | None = None
    labelled: Tensor | None = None
    reference: str | None = None
    modes: Tensor | None = None
    mode_sigma: float | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        raise NotImplementedError

    def to(self, device: torch.device | str) -> "Data":
        """This dataset delivering its batches on ``device``."""
        raise NotImplementedError

    def take(self, index: Tensor) -> Batch:
        """The batch of samples at ``index``, on :attr:`device`."""
        raise NotImplementedError

    @property
    def classifier(self) -> str | None:
        """The earlier name of :attr:`reference`."""
        return self.reference

    def batches_per_epoch(self, batch_size: int) -> int:
        """Full batches in one pass (the last partial batch is dropped)."""
        return len(self) // batch_size

    def permutation(self, seed: int, epoch: int) -> Tensor:
        """The order of epoch ``epoch``: a function of the seed and the epoch only."""
        return epoch_permutation(len(self), seed, epoch)

    def batches(self, seed: int, batch_size: int, epoch: int = 0, cursor: int = 0, *,
                rank: int = 0, ranks: int = 1) -> Iterator[Batch]:
        """Batch ``cursor`` of epoch ``epoch`` and every one after it, epoch after epoch:
        batch ``i`` of an epoch is ``take`` of rows ``i·b … (i+1)·b − 1`` of its permutation.
        Shared by ``ranks`` processes, rank ``rank`` takes the ``rank``-th of ``ranks``
        equal slices of each batch (``b`` is the global batch)."""
        for rows in batch_rows(self, seed, batch_size, epoch, cursor, rank=rank, ranks=ranks, device=self.device):
            yield self.take(rows)


def batch_rows(data: Data, seed: int, batch_size: int, epoch: int, cursor: int, *, rank: int, ranks: int,
               device: torch.device | str) -> Iterator[Tensor]:
    """The rows (on ``device``) that :meth:`Data.batches` takes, batch after batch,
    from batch ``cursor`` of epoch ``epoch`` on: for the data itself and for a
    loader that reads the same rows from disk."""
    per_epoch = data.batches_per_epoch(batch_size)
    device = torch.device(device)
    while True:  # to the CPU the copy must be done before the rows are read: blocking there
        order = data.permutation(seed, epoch).to(device, non_blocking=device.type == "cuda")
        for i in range(cursor, per_epoch):
            yield order[shard(i, batch_size, rank, ranks)]
        epoch, cursor = epoch + 1, 0


def shard(i: int, batch_size: int, rank: int = 0, ranks: int = 1) -> slice:
    """The rows of an epoch's permutation that batch ``i`` gives rank ``rank`` of ``ranks``."""
    part = batch_size // ranks
    start = i * batch_size + rank * part
    return slice(start, start + part)


class TensorData(Data):
    """Samples ``x`` with optional labels ``y`` and labelled-mask, plus their spec,
    held as tensors on one device.

    ``reference`` names the registered reference (``register_references``) that
    evaluation measures these samples in (``classifier`` is its earlier name);
    ``modes`` and ``mode_sigma`` describe a mixture with known modes.

    A dataset plugin's factory returns one of these (or a subclass that draws
    batches differently, e.g. mixing a fixed labelled subset into each batch).
    """

    def __init__(
        self,
        x: Tensor,
        spec: DataSpec,
        y: Tensor | None = None,
        labelled: Tensor | None = None,
        *,
        reference: str | None = None,
        classifier: str | None = None,
        modes: Tensor | None = None,
        mode_sigma: float | None = None,
    ) -> None:
        if y is not None and len(y) != len(x):
            raise ValueError(f"{len(x)} samples but {len(y)} labels")
        if labelled is not None and len(labelled) != len(x):
            raise ValueError(f"{len(x)} samples but a labelled-mask of {len(labelled)}")
        if tuple(x.shape[1:]) != tuple(spec.shape):
            raise ValueError(f"samples of shape {tuple(x.shape[1:])} but spec says {spec.shape}")
        self.x, self.y, self.labelled, self.spec = x, y, labelled, spec
        # What evaluation needs to know: the reference feature space of these
        # samples (applied per channel when they have more channels than it
        # takes), and the true modes of a synthetic mixture with their spread.
        self.reference = reference if reference is not None else classifier
        self.modes, self.mode_sigma = modes, mode_sigma

    def __len__(self) -> int:
        return len(self.x)

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device: torch.device | str) -> "TensorData":
        """A copy of this dataset on ``device`` (the same object if already there)."""
        device = torch.device(device)
        if self.x.device == device:
            return self
        new = copy.copy(self)  # keeps a subclass's own attributes
        new.x = self.x.to(device)
        new.y = None if self.y is None else self.y.to(device)
        new.labelled = None if self.labelled is None else self.labelled.to(device)
        return new

    def permutation(self, seed: int, epoch: int) -> Tensor:
        """The order of epoch ``epoch``, on this dataset's device."""
        return epoch_permutation(len(self), seed, epoch).to(self.device, non_blocking=True)

    def take(self, index: Tensor) -> Batch:
        """The batch of samples at ``index`` (a tensor on this dataset's device)."""
        return Batch(
            x=self.x[index],
            y=None if self.y is None else self.y[index],
            labelled=None if self.labelled is None else self.labelled[index],
        )


@dataclass(frozen=True)
class DataFile:
    """One file a dataset reads, as its factory's ``locate(root)`` reports it to ``ganzoo data``.

    ``name`` is the file as the dataset asks for it and ``folder`` where a copy
    belongs (the folder the dataset reads, also for a dataset that reads another
    dataset's files). ``path`` is the file the dataset would read, ``None`` if it
    finds none; ``problem`` says why that file is unusable ('' if it was checked
    and is intact). ``downloads`` says whether the dataset fetches it when
    missing and online.
    """

    name: str
    folder: Path
    path: Path | None = None
    problem: str = ""
    downloads: bool = False

    @property
    def status(self) -> Literal["present", "damaged", "missing"]:
        if self.path is None:
            return "missing"
        return "damaged" if self.problem else "present"
