"""MNIST and Fashion-MNIST: 28×28 grey images, ten classes, read from IDX files.

Files are looked for under the data root in ``<root>/<name>/`` (the layout of a
hand-made data folder) and ``<root>/<TorchvisionName>/raw/`` (where torchvision
downloads to). When none are there, torchvision downloads them; offline, the
error says which files to put where. ``locate`` reports, for ``ganzoo data``,
which file each split would be read from and whether it passes ``read_idx``'s
checks.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torchvision.datasets

from ganzoo import DataFile, DataSpec, GanzooError, TensorData

from .idx import idx_problem, read_idx

SPLITS = {"train": ("train", 60_000), "test": ("t10k", 10_000)}


def _find(folders: list[Path], stem: str) -> Path | None:
    for folder in folders:
        for name in (f"{stem}.gz", stem):
            if (folder / name).is_file():
                return folder / name
    return None


def _folders(root: Path, name: str, torchvision_name: str) -> list[Path]:
    return [root / name, root / torchvision_name / "raw"]


def _locate(root: Path, name: str, torchvision_name: str) -> list[DataFile]:
    """Every file of both splits: the one ``load_idx_pair`` would read, checked as it checks it."""
    folders = _folders(Path(root), name, torchvision_name)
    files = []
    for prefix, count in SPLITS.values():
        for kind, dims in (("images-idx3-ubyte", 3), ("labels-idx1-ubyte", 1)):
            stem = f"{prefix}-{kind}"
            path = _find(folders, stem)
            problem = "" if path is None else idx_problem(path, dims, count)
            files.append(DataFile(f"{stem}.gz", folders[0], path, problem, downloads=True))
    return files


def load_idx_pair(root: Path, name: str, torchvision_name: str, split: str, download: bool):
    """Images and labels of ``split``, downloading through torchvision if allowed and needed."""
    if split not in SPLITS:
        raise GanzooError(f"{name}: unknown split {split!r}; use train or test")
    prefix, count = SPLITS[split]
    folders = _folders(root, name, torchvision_name)
    stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    paths = [_find(folders, stem) for stem in stems]
    if None in paths and download:
        try:
            getattr(torchvision.datasets, torchvision_name)(str(root), train=split == "train", download=True)
        except Exception:  # offline or blocked: fall through to the clear error below
            pass
        paths = [_find(folders, stem) for stem in stems]
    for stem, path in zip(stems, paths):
        if path is None:
            raise GanzooError(
                f"{name}: {stem}.gz not found in {folders[0]} or {folders[1]} and could not be downloaded; "
                f"put the four {name} IDX files in {folders[0]}/ or point GANZOO_DATA_DIR (or --data-dir) at a folder that has them"
            )
    images = read_idx(paths[0], 3, count)
    labels = read_idx(paths[1], 1, count)
    return images, labels


def _dataset(root: Path, name: str, torchvision_name: str, split: str,
             value_range: tuple[float, float], download: bool, start: int = 0, stop: int | None = None) -> TensorData:
    images, labels = load_idx_pair(Path(root), name, torchvision_name, split, download)
    if not 0 <= start < (len(images) if stop is None else min(stop, len(images))):
        raise GanzooError(f"{name}: start={start}, stop={stop} select no images of the {len(images)} in {split}")
    images, labels = images[start:stop], labels[start:stop]
    lo, hi = value_range
    x = torch.from_numpy(images.copy()).unsqueeze(1).float().mul_((hi - lo) / 255.0).add_(lo)
    y = torch.from_numpy(labels.astype("int64"))
    return TensorData(x, DataSpec(shape=(1, 28, 28), num_classes=10, value_range=(lo, hi)), y=y, reference=name)


def mnist(root: Path, split: str = "train", value_range: tuple[float, float] = (-1.0, 1.0),
          download: bool = True, start: int = 0, stop: int | None = None) -> TensorData:
    """MNIST handwritten digits, 28×28 grey, 10 classes (60k train / 10k test).

    ``start``/``stop`` keep a slice of the split (the 2014 paper trained on the
    first 50,000 training images and validated on the rest).
    """
    return _dataset(root, "mnist", "MNIST", split, tuple(value_range), download, start, stop)


mnist.locate = lambda root: _locate(root, "mnist", "MNIST")  # for `ganzoo data`


def fashion_mnist(root: Path, split: str = "train", value_range: tuple[float, float] = (-1.0, 1.0),
                  download: bool = True, start: int = 0, stop: int | None = None) -> TensorData:
    """Fashion-MNIST clothing images, 28×28 grey, 10 classes (60k train / 10k test)."""
    return _dataset(root, "fashion-mnist", "FashionMNIST", split, tuple(value_range), download, start, stop)


fashion_mnist.locate = lambda root: _locate(root, "fashion-mnist", "FashionMNIST")
