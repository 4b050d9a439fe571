"""Checkpoint files: written atomically, read without unpickling code.

A checkpoint is one ``torch.save`` file holding only tensors and plain data
(models, optimizers, step, RNG states, the recipe as a dict), so it loads with
``torch.load(weights_only=True)``: a file that would need arbitrary code to
load is refused, not executed.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Mapping

import torch

from .errors import GanzooError, first_line
from .files import atomic_write, os_error

FORMAT = "ganzoo-checkpoint"
VERSION = 1


def save(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically (see :mod:`ganzoo.files`): a crash, a
    kill or a full disk leaves the previous checkpoint as it was."""
    path = Path(path)
    try:
        with atomic_write(path) as f:
            torch.save(state, f)
    except GanzooError as exc:
        kept = " (the previous checkpoint there is intact)" if path.is_file() else ""
        raise GanzooError(f"{exc}{kept}") from None
    return path


def non_finite(tensors: Mapping[str, Any]) -> str | None:
    """The first key of a ``state_dict`` whose floating-point tensor holds NaN or
    infinities (weights and buffers such as BatchNorm statistics), or ``None``."""
    for key, tensor in tensors.items():
        if torch.is_tensor(tensor) and tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            return key
    return None


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ganzoo checkpoint onto the CPU, or raise a one-line :class:`GanzooError`
    saying whether it is missing, corrupt, unsafe or not a ganzoo checkpoint."""
    path = Path(path)
    if path.is_dir():
        inside = [p for p in (path / "checkpoints" / "last.pt", path / "last.pt") if p.is_file()]
        hint = f"; did you mean {inside[0]}?" if inside else "; pass the path of a .pt file in a run's checkpoints/"
        raise GanzooError(f"{path} is a directory, not a checkpoint file{hint}")
    if not path.is_file():
        raise GanzooError(f"checkpoint {path} does not exist; pass the path of a .pt file in a run's checkpoints/")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():
            # weights_only refuses to import anything but tensors and plain data:
            # the file asked for code (os.system, a class...), which never ran.
            raise GanzooError(
                f"checkpoint {path} asks to run Python code when loaded (untrusted or not written by ganzoo); "
                "refused without running it"
            ) from None
        raise GanzooError(f"checkpoint {path} is corrupt or not a checkpoint file; use an earlier checkpoint") from None
    except OSError as exc:
        raise os_error(exc, path, "read") from None
    except Exception as exc:  # noqa: BLE001 - parsing untrusted bytes can fail in any way
        # Random or damaged bytes reach the unpickler as anything: IndexError,
        # KeyError, struct.error, zipfile.BadZipFile, EOFError... all mean corrupt.
        first = first_line(exc) or type(exc).__name__
        raise GanzooError(f"checkpoint {path} is corrupt or truncated ({first}); use an earlier checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise GanzooError(f"{path} is not a ganzoo checkpoint (no {FORMAT!r} marker)")
    if state.get("version", 0) > VERSION:
        raise GanzooError(f"checkpoint {path} was written by a newer ganzoo (format {state['version']}); upgrade ganzoo")
    return state
