"""A labelled subset of a dataset, chosen honestly, mixed into every batch.

``semi-supervised(base="mnist", labels=100)`` keeps exactly ``labels`` labels of
the base dataset's *training* split (an equal number per class, chosen by
``label_seed``) and replaces every other label by −1 before any batch is drawn,
so no loss can see them. Each batch holds ``batch_size`` samples of the whole
training split (unlabelled) followed by ``batch_size`` samples of the labelled
subset, as in the reference code (openai/improved-gan). With
``second_unlabelled=True`` a third block follows: ``batch_size`` more
unlabelled samples from a second permutation of the training split, which the
semi-supervised loss gives G's feature matching (the reference's
``trainx_unl2``) instead of the block D has just trained on. The test split is
returned whole: it is only ever used for evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

import ganzoo
from ganzoo import Batch, Component, GanzooError, TensorData

HIDDEN = -1  # the label every sample outside the chosen subset carries


def choose_labelled(y: Tensor, labels: int, num_classes: int, seed: int) -> Tensor:
    """Indices of ``labels`` samples, ``labels / num_classes`` of each class: the first
    of each class in a permutation drawn from ``seed``."""
    if labels < num_classes or labels % num_classes:
        raise GanzooError(f"labels={labels} must be a positive multiple of the {num_classes} classes "
                          f"(e.g. {num_classes * max(1, labels // num_classes)}), so every class has as many")
    if labels > len(y):
        raise GanzooError(f"labels={labels} is more than the {len(y)} training samples; use at most {len(y)}")
    per_class = labels // num_classes
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    chosen = []
    for k in range(num_classes):
        of_class = order[y[order] == k][:per_class]
        if len(of_class) < per_class:
            raise GanzooError(f"class {k} has only {len(of_class)} training samples; labels={labels} needs "
                              f"{per_class} of each")
        chosen.append(of_class)
    return torch.cat(chosen).sort().values


class SemiSupervisedData(TensorData):
    """Training data whose labels are hidden (−1) outside ``labelled_index``.

    A batch of ``b`` is ``b`` samples of the whole set with no labels, then ``b``
    of the labelled subset with theirs (``labelled`` marks them), then, with
    ``second_unlabelled``, ``b`` more unlabelled samples from a second permutation.
    """

    def __init__(self, x: Tensor, y: Tensor, labelled_index: Tensor, spec, second_unlabelled: bool = False,
                 **kwargs: Any) -> None:
        visible = torch.full_like(y, HIDDEN)
        visible[labelled_index] = y[labelled_index]
        super().__init__(x, spec, visible, visible != HIDDEN, **kwargs)
        self.labelled_index = labelled_index
        self.second_unlabelled = second_unlabelled

    def permutation(self, seed: int, epoch: int) -> Tensor:
        """``(N, 2)``: a permutation of all N samples beside the labelled subset
        repeated, each repetition in its own order (both from seed and epoch);
        ``(N, 3)`` with a second permutation of all N samples."""
        gen = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**63)
        everyone = torch.randperm(len(self), generator=gen)
        repeats = -(-len(self) // len(self.labelled_index))
        labelled = torch.cat([self.labelled_index[torch.randperm(len(self.labelled_index), generator=gen)]
                              for _ in range(repeats)])[: len(self)]
        columns = [everyone, labelled]
        if self.second_unlabelled:
            columns.append(torch.randperm(len(self), generator=gen))
        return torch.stack(columns, 1).to(self.device)

    def take(self, index: Tensor) -> Batch:
        if index.dim() == 1:  # a plain index (e.g. from code that draws its own samples)
            return super().take(index)
        rows = index.T.reshape(-1)  # the columns one after the other
        labelled = torch.zeros(len(rows), dtype=torch.bool, device=self.device)
        labelled[len(index):2 * len(index)] = True
        y = self.y[rows].masked_fill(~labelled, HIDDEN)
        return Batch(x=self.x[rows], y=y, labelled=labelled)


def semi_supervised(root: Path, base: str = "mnist", labels: int = 100, label_seed: int = 0,
                    split: str = "train", second_unlabelled: bool = False, **options: Any) -> TensorData:
    """A dataset with only ``labels`` labels kept (equal per class, chosen by ``label_seed``);
    ``second_unlabelled`` adds a block of unlabelled samples for G to each batch."""
    data = ganzoo.load_dataset(Component(base, split=split, **options), root)
    if split != "train":
        return data  # evaluation data keeps its labels; only training labels are scarce
    if data.y is None or data.spec.num_classes is None:
        raise GanzooError(f"dataset {base!r} has no labels to keep some of; use a labelled dataset such as mnist")
    if not isinstance(data, TensorData):
        raise GanzooError(f"semi-supervised: dataset {base!r} is streamed from disk ({type(data).__name__}); the "
                          "labelled subset is mixed into batches from memory, so set its stream option to never "
                          f"(--set dataset.stream=never) or use a smaller {base}")
    index = choose_labelled(data.y, labels, data.spec.num_classes, label_seed)
    return SemiSupervisedData(data.x, data.y, index, data.spec, second_unlabelled=second_unlabelled,
                              reference=data.reference)


def _locate_default_base(root: Path) -> list[ganzoo.DataFile]:
    """The files of the default base dataset, mnist, in mnist's folders (this dataset
    reads its base's files and has none of its own), for `ganzoo data`."""
    return ganzoo.default_registry().factory("datasets", "mnist").locate(root)


semi_supervised.locate = _locate_default_base
