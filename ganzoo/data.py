"""Datasets held as tensors on the training device.

MNIST-sized data fits on any GPU and in any laptop's memory, so the trainer draws
batches by indexing resident tensors with one permutation per epoch: no
DataLoader workers, no host-to-device copy per step.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor

from .components import Batch, DataSpec


class TensorData:
    """Samples ``x`` with optional labels ``y`` and labelled-mask, plus their spec.

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
    def classifier(self) -> str | None:
        """The earlier name of :attr:`reference`."""
        return self.reference

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

    def batches_per_epoch(self, batch_size: int) -> int:
        """Full batches in one pass (the last partial batch is dropped)."""
        return len(self) // batch_size

    def permutation(self, seed: int, epoch: int) -> Tensor:
        """The order of epoch ``epoch``: a function of the seed and the epoch only,
        so a resumed run draws exactly the batches an uninterrupted one would."""
        gen = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**63)  # any valid seed fits
        return torch.randperm(len(self), generator=gen).to(self.device, non_blocking=True)

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
