"""Checkpoint files: written atomically, read without unpickling code.

A checkpoint is one ``torch.save`` file holding only tensors and plain data
(models, optimizers, step, RNG states, the recipe as a dict), so it loads with
``torch.load(weights_only=True)``: a file that would need arbitrary code to
load is refused, not executed.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import torch

from .errors import GanzooError

FORMAT = "ganzoo-checkpoint"
VERSION = 1


def save(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` through a temporary file in the same directory and
    an atomic rename, so a crash never leaves a half-written checkpoint behind."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise GanzooError(f"cannot write checkpoint to {path.parent}: {exc.strerror}; choose another --out") from None
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ganzoo checkpoint onto the CPU, or raise a one-line :class:`GanzooError`
    saying whether it is missing, corrupt, unsafe or not a ganzoo checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise GanzooError(f"checkpoint {path} does not exist; pass the path of a .pt file in a run's checkpoints/")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc) or "allowed global" in str(exc):
            raise GanzooError(
                f"checkpoint {path} contains Python objects that would run code when loaded; "
                "refusing it (only checkpoints written by ganzoo are accepted)"
            ) from None
        raise GanzooError(f"checkpoint {path} is corrupt or not a checkpoint file; use an earlier checkpoint") from None
    except Exception as exc:  # noqa: BLE001 - parsing untrusted bytes can fail in any way
        # Random or damaged bytes reach the unpickler as anything: IndexError,
        # KeyError, struct.error, zipfile.BadZipFile, EOFError... all mean corrupt.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanzooError(f"checkpoint {path} is corrupt or truncated ({first}); use an earlier checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise GanzooError(f"{path} is not a ganzoo checkpoint (no {FORMAT!r} marker)")
    if state.get("version", 0) > VERSION:
        raise GanzooError(f"checkpoint {path} was written by a newer ganzoo (format {state['version']}); upgrade ganzoo")
    return state
