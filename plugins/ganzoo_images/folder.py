"""Your own images: every image file under a folder, resized and centre-cropped.

PNG, JPEG, WebP, BMP and GIF files anywhere under ``root`` (nested folders
too) are decoded with Pillow, converted to grey or RGB, resized so the shorter
side is ``size`` and centre-cropped to ``size`` × ``size`` with torchvision.
With ``labels="folders"`` the first level of subfolders names the classes, so
a conditional recipe trains on them. Decoded folders are cached (keyed by every
file's path, size and modification time, and the options), so a second run,
an evaluation or a resume does not decode again. Reading is done by worker
processes (``workers``), in parallel.

A folder whose decoded images exceed ``ganzoo.memory_budget()`` is streamed:
it is read once to find the readable files (that list is cached), then
``StreamData`` reads each batch while the previous ones train.

A folder has no held-out split: ``split="test"``, which evaluation asks for,
is the same images.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import sys
from pathlib import Path
from typing import Literal

import torch
from PIL import Image, UnidentifiedImageError
from rich.console import Console
from rich.progress import track
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms.v2 import functional as TF

from ganzoo import (DataFile, DataSpec, GanzooError, NonNegativeInt, PositiveInt, ReadFailed, StreamData, TensorData,
                    memory_budget)
from ganzoo.errors import first_line
from ganzoo.files import atomic_write
from ganzoo.settings import MEMORY_BUDGET_ENV, cache_dir
from ganzoo.stream import default_workers, format_bytes, read

log = logging.getLogger("ganzoo")

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
CACHE_VERSION = 1


def image_files(root: Path) -> list[Path]:
    """Every file under ``root`` with an image extension, in a fixed (sorted) order."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())


def decode(path: Path, size: int, channels: int) -> Tensor:
    """One image as ``(channels, size, size)`` uint8: shorter side resized to ``size``
    (antialiased), centre-cropped. Raises ``OSError``/``ValueError`` for a bad file."""
    with Image.open(path) as image:
        image.load()  # a truncated file fails here, not later
        image = image.convert("L" if channels == 1 else "RGB")
        pixels = TF.pil_to_tensor(image)
    pixels = TF.resize(pixels, size, antialias=True)
    return TF.center_crop(pixels, [size, size])


def _classes(root: Path, files: list[Path]) -> tuple[list[str], list[int]]:
    outside = [f for f in files if f.parent == root]
    if outside:
        raise GanzooError(f"image-folder: labels=folders, but {len(outside)} images lie directly in {root} "
                          f"(e.g. {outside[0].name}), outside any class folder; move them into one, or drop labels")
    names = sorted({f.relative_to(root).parts[0] for f in files})
    if len(names) < 2:
        raise GanzooError(f"image-folder: labels=folders needs two or more class folders under {root}; found "
                          f"{len(names)} ({', '.join(names)}); add class folders, or drop labels")
    index = {name: i for i, name in enumerate(names)}
    return names, [index[f.relative_to(root).parts[0]] for f in files]


def folder_key(root: Path, files: list[Path], size: int, channels: int) -> str:
    """A key that changes when any file, its size or modification time, or the options do."""
    listing = [(str(f.relative_to(root)), stat.st_size, stat.st_mtime_ns) for f in files for stat in [f.stat()]]
    body = json.dumps([CACHE_VERSION, str(root.resolve()), size, channels, listing])
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _refuse(path: Path, why: str) -> None:
    raise GanzooError(f"image-folder: {path} is not a readable image ({why}); remove it, or set dataset.bad=skip "
                      "to leave such files out")


class FolderImages(Dataset):
    """Image ``i`` of ``files`` (paths relative to ``root``) as ``decode`` gives it,
    or a :class:`ganzoo.ReadFailed` naming the file and why (a value, so a reading
    process reports a bad file instead of dying)."""

    def __init__(self, root: Path, files: list[str], size: int, channels: int) -> None:
        self.root, self.files, self.size, self.channels = root, files, size, channels

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> Tensor | ReadFailed:
        path = self.root / self.files[i]
        try:
            return decode(path, self.size, self.channels)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            return ReadFailed(f"{self.files[i]}: {first_line(exc) or type(exc).__name__}")


def _as_list(items: list) -> list:
    return items


def _read_all(images: FolderImages, keep: bool, bad: str, workers: int) -> dict:
    """Every image read once by ``workers`` processes: ``{"x": uint8 images (if
    ``keep``), "files": the readable ones, "skipped": [(file, why)]}``."""
    loader = DataLoader(images, batch_size=64, num_workers=workers, collate_fn=_as_list,
                        prefetch_factor=4 if workers else None)
    pixels, kept, skipped = [], [], []
    console = Console(stderr=True)
    label = f"image-folder: reading {len(images)} images under {images.root} (once; cached)"
    if not console.is_terminal and len(images) >= 5000:
        print(label, file=sys.stderr, flush=True)
    chunks = track(read(loader), total=len(loader), description=label, console=console, transient=True,
                   disable=not console.is_terminal or len(images) < 1000)
    row = 0
    for chunk in chunks:
        for item in chunk:
            name = images.files[row]
            row += 1
            if isinstance(item, ReadFailed):
                why = item[len(name) + 2 :]  # the item names its file first
                if bad == "refuse":
                    _refuse(images.root / name, why)
                skipped.append((name, why))
                continue
            kept.append(name)
            if keep:
                pixels.append(item)
    if not kept:
        raise GanzooError(f"image-folder: none of the {len(images)} image files under {images.root} could be read "
                          f"(first: {skipped[0][0]}: {skipped[0][1]})")
    folder = {"files": kept, "skipped": skipped}
    if keep:
        folder["x"] = torch.stack(pixels)
    return folder


def load_folder(root: Path, size: int, channels: int, bad: str, keep: bool = True,
                workers: int | None = None, files: list[Path] | None = None) -> dict:
    """``{"x": uint8 images (only if ``keep``), "files": kept relative paths,
    "skipped": [(path, why)]}``, from the cache when the folder has not changed.
    Without ``keep`` only the list of readable files is kept (for streaming).
    ``files`` is :func:`image_files` of ``root`` when already listed."""
    files = image_files(root) if files is None else files
    if not files:
        raise GanzooError(f"image-folder: no image files ({', '.join(EXTENSIONS)}) under {root}; "
                          "point dataset.root at a folder of images")
    key = folder_key(root, files, size, channels)
    cached = cache_dir() / "folders" / (f"{key}.pt" if keep else f"{key}-files.pt")
    folder = None
    if cached.is_file():
        try:
            folder = torch.load(cached, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - a damaged cache file is decoded again, never trusted
            folder = None
    if folder is not None:
        if bad == "refuse" and folder["skipped"]:
            _refuse(root / folder["skipped"][0][0], folder["skipped"][0][1])
        return folder
    images = FolderImages(root, [str(f.relative_to(root)) for f in files], size, channels)
    folder = _read_all(images, keep, bad, default_workers() if workers is None else workers)
    try:
        with atomic_write(cached) as f:
            torch.save(folder, f)
    except (GanzooError, OSError):
        pass  # a cache that cannot be written costs time, not the run
    return folder


def _to_range(pixels: Tensor, lo: float, hi: float) -> Tensor:
    """uint8 pixels to floats in ``[lo, hi]``: elementwise, so a batch converted
    alone equals the same rows of the whole folder converted at once."""
    return pixels.float().mul_((hi - lo) / 255.0).add_(lo)


def image_folder(data_dir: Path, root: str | None = None, size: PositiveInt = 64, channels: Literal[1, 3] = 3,
                 labels: Literal["none", "folders"] = "none", bad: Literal["skip", "refuse"] = "skip",
                 split: str = "train", value_range: tuple[float, float] = (-1.0, 1.0),
                 stream: Literal["auto", "always", "never"] = "auto",
                 workers: NonNegativeInt | None = None) -> TensorData | StreamData:
    """Every image under a folder of your own (``root``), ``size`` × ``size``, grey or RGB.

    Held in memory when the decoded images fit ``ganzoo.memory_budget()``, else
    (or with ``stream="always"``) read from disk batch by batch by ``workers``
    processes, in the same order; ``stream="never"`` holds them in memory anyway.
    """
    if root is None:
        raise GanzooError("image-folder: which folder? set dataset.root, e.g. --set dataset.root=~/photos")
    if split not in ("train", "test"):
        raise GanzooError(f"image-folder: unknown split {split!r}; use train or test (both are every image)")
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise GanzooError(f"image-folder: {folder} is not a folder; set dataset.root to a folder of images")
    files = image_files(folder)
    streaming = stream == "always"
    if stream == "auto":
        count = len(files)
        need, budget = count * channels * size * size * 4, memory_budget()
        streaming = need > budget
        if streaming:
            log.warning("ganzoo: image-folder: %d image files of %d×%d×%d would take %s decoded, more than the "
                        "memory budget of %s (%s); reading them from disk while training (set "
                        "dataset.stream=never to hold them anyway)", count, channels, size, size, format_bytes(need),
                        format_bytes(budget), MEMORY_BUDGET_ENV)
    loaded = load_folder(folder, size, channels, bad, keep=not streaming, workers=workers, files=files)
    if loaded["skipped"]:
        first, why = loaded["skipped"][0]
        log.warning("ganzoo: image-folder skipped %d of %d files under %s that are not readable images (first: "
                    "%s: %s); set dataset.bad=refuse to stop instead", len(loaded["skipped"]),
                    len(loaded["skipped"]) + len(loaded["files"]), folder, first, why)
    y, num_classes, reference = None, None, None
    if labels == "folders":
        names, index = _classes(folder, [folder / f for f in loaded["files"]])
        y, num_classes = torch.tensor(index), len(names)
        reference = "image-folder"  # a classifier trained on these labels (see references.py)
    lo, hi = value_range
    spec = DataSpec((channels, size, size), num_classes=num_classes, value_range=(lo, hi))
    if streaming:
        data = StreamData(FolderImages(folder, loaded["files"], size, channels), spec, y,
                          convert=functools.partial(_to_range, lo=lo, hi=hi), reference=reference, workers=workers)
    else:
        data = TensorData(_to_range(loaded["x"], lo, hi), spec, y=y, reference=reference)
    data.skipped, data.location = loaded["skipped"], folder  # what `ganzoo data image-folder` reports
    return data


def _locate(data_dir: Path) -> list[DataFile]:
    return []  # the folder is a recipe option (dataset.root), not a file under the data directory


image_folder.locate = _locate
image_folder.location = "the folder named by dataset.root (any folder of images); not under the data directory"
