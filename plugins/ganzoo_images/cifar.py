"""CIFAR-10 (Krizhevsky 2009): 32×32 colour images, ten classes, 50,000 + 10,000.

Read from the standard "CIFAR-10 python version" files, ``data_batch_1`` … ``_5``
and ``test_batch`` in ``cifar-10-batches-py/``, under ``<root>/cifar10/`` or
directly under ``<root>/`` (where torchvision puts them). When they are absent,
torchvision downloads and checks them; offline, the error says which files to
put where. The batches are pickles: they are read with an unpickler that only
rebuilds numpy arrays, so a file that asks to run code is refused.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
import torchvision.datasets

from ganzoo import DataFile, DataSpec, GanzooError, TensorData
from ganzoo.errors import first_line

FOLDER = "cifar-10-batches-py"
FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
           ("numpy._core.multiarray", "_reconstruct"), ("_codecs", "encode")}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it asks for {module}.{name}, which a CIFAR batch never holds")


def _folders(root: Path) -> list[Path]:
    return [root / "cifar10" / FOLDER, root / FOLDER]


def _find(root: Path, name: str) -> Path | None:
    return next((folder / name for folder in _folders(root) if (folder / name).is_file()), None)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(images (n, 3, 32, 32) uint8, labels (n,) int64)`` of one batch file (n is 10,000),
    or ``ValueError`` saying what is wrong with it."""
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnly(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, OSError, ValueError, TypeError) as exc:
        raise ValueError(f"not a CIFAR-10 batch ({first_line(exc) or type(exc).__name__})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"not a CIFAR-10 batch (a {type(batch).__name__}, not a dict)")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"its data is not rows of 3072 bytes (got {getattr(data, 'shape', type(data).__name__)})")
    if len(data) == 0:
        raise ValueError("it holds no images")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        labels = np.zeros(0, dtype=np.int64)
    if labels.shape != (len(data),) or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"its labels are not {len(data)} classes in 0..9")
    return data.reshape(len(data), 3, 32, 32), labels


def _download(root: Path, split: str) -> None:
    """torchvision's download, which also checks the archive's checksum. A failed one
    (offline) leaves no empty folder behind."""
    target = root / "cifar10"
    existed = target.exists()
    try:
        torchvision.datasets.CIFAR10(str(target), train=split == "train", download=True)
    except Exception:  # offline or blocked: the error below says what to do
        if not existed and target.is_dir() and not any(target.iterdir()):
            target.rmdir()


def cifar10(root: Path, split: str = "train", value_range: tuple[float, float] = (-1.0, 1.0),
            download: bool = True) -> TensorData:
    """CIFAR-10: 32×32 colour images of 10 classes (50k train / 10k test)."""
    if split not in FILES:
        raise GanzooError(f"cifar10: unknown split {split!r}; use train or test")
    root = Path(root)
    if download and any(_find(root, name) is None for name in FILES[split]):
        _download(root, split)
    images, labels = [], []
    for name in FILES[split]:
        path = _find(root, name)
        if path is None:
            raise GanzooError(
                f"cifar10: {name} not found in {_folders(root)[0]} or {_folders(root)[1]} and could not be "
                f"downloaded; put the CIFAR-10 python batches (data_batch_1..5, test_batch from "
                f"cifar-10-python.tar.gz) in {_folders(root)[0]}/, or point GANZOO_DATA_DIR (or --data-dir) at a "
                "folder that has them")
        try:
            x, y = read_batch(path)
        except ValueError as exc:
            raise GanzooError(f"cifar10: {path}: {exc}; download cifar-10-python.tar.gz again") from None
        images.append(x)
        labels.append(y)
    lo, hi = value_range
    x = torch.from_numpy(np.concatenate(images)).float().mul_((hi - lo) / 255.0).add_(lo)
    y = torch.from_numpy(np.concatenate(labels))
    return TensorData(x, DataSpec((3, 32, 32), num_classes=10, value_range=(lo, hi)), y=y, reference="cifar10")


def _locate(root: Path) -> list[DataFile]:
    files = []
    for names in FILES.values():
        for name in names:
            path = _find(Path(root), name)
            problem = ""
            if path is not None:
                try:
                    read_batch(path)
                except ValueError as exc:
                    problem = str(exc)
            files.append(DataFile(name, _folders(Path(root))[0], path, problem, downloads=True))
    return files


cifar10.locate = _locate
