"""Your own images: every image file under a folder, resized and centre-cropped.

PNG, JPEG, WebP, BMP and GIF files anywhere under ``root`` (nested folders
too) are decoded with Pillow, converted to grey or RGB, resized so the shorter
side is ``size`` and centre-cropped to ``size`` × ``size`` with torchvision.
With ``labels="folders"`` the first level of subfolders names the classes, so
a conditional recipe trains on them. Decoded folders are cached (keyed by every
file's path, size and modification time, and the options), so a second run,
an evaluation or a resume does not decode again.

A folder has no held-out split: ``split="test"``, which evaluation asks for,
is the same images.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Literal

import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torchvision.transforms.v2 import functional as TF

from ganzoo import DataFile, DataSpec, GanzooError, PositiveInt, TensorData
from ganzoo.files import atomic_write
from ganzoo.settings import cache_dir

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


def load_folder(root: Path, size: int, channels: int, bad: str) -> dict:
    """``{"x": uint8 images, "files": kept relative paths, "skipped": [(path, why)]}``,
    from the cache when the folder has not changed."""
    files = image_files(root)
    if not files:
        raise GanzooError(f"image-folder: no image files ({', '.join(EXTENSIONS)}) under {root}; "
                          "point dataset.root at a folder of images")
    cached = cache_dir() / "folders" / f"{folder_key(root, files, size, channels)}.pt"
    if cached.is_file():
        try:
            folder = torch.load(cached, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - a damaged cache file is decoded again, never trusted
            folder = None
        if folder is not None:
            if bad == "refuse" and folder["skipped"]:
                _refuse(root / folder["skipped"][0][0], folder["skipped"][0][1])
            return folder
    images, kept, skipped = [], [], []
    for path in files:
        try:
            images.append(decode(path, size, channels))
            kept.append(str(path.relative_to(root)))
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if bad == "refuse":
                _refuse(path, why)
            skipped.append((str(path.relative_to(root)), why))
    if not images:
        raise GanzooError(f"image-folder: none of the {len(files)} image files under {root} could be read "
                          f"(first: {skipped[0][0]}: {skipped[0][1]})")
    folder = {"x": torch.stack(images), "files": kept, "skipped": skipped}
    try:
        with atomic_write(cached) as f:
            torch.save(folder, f)
    except (GanzooError, OSError):
        pass  # a cache that cannot be written costs time, not the run
    return folder


def image_folder(data_dir: Path, root: str | None = None, size: PositiveInt = 64, channels: Literal[1, 3] = 3,
                 labels: Literal["none", "folders"] = "none", bad: Literal["skip", "refuse"] = "skip",
                 split: str = "train", value_range: tuple[float, float] = (-1.0, 1.0)) -> TensorData:
    """Every image under a folder of your own (``root``), ``size`` × ``size``, grey or RGB."""
    if root is None:
        raise GanzooError("image-folder: which folder? set dataset.root, e.g. --set dataset.root=~/photos")
    if split not in ("train", "test"):
        raise GanzooError(f"image-folder: unknown split {split!r}; use train or test (both are every image)")
    folder = Path(root).expanduser()
    if not folder.is_dir():
        raise GanzooError(f"image-folder: {folder} is not a folder; set dataset.root to a folder of images")
    loaded = load_folder(folder, size, channels, bad)
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
    x = loaded["x"].float().mul_((hi - lo) / 255.0).add_(lo)
    return TensorData(x, DataSpec((channels, size, size), num_classes=num_classes, value_range=(lo, hi)), y=y,
                      reference=reference)


def _locate(data_dir: Path) -> list[DataFile]:
    return []  # the folder is a recipe option (dataset.root), not a file under the data directory


image_folder.locate = _locate
image_folder.location = "the folder named by dataset.root (any folder of images); not under the data directory"
