"""Reading IDX files (the MNIST family's format), gzip-compressed or raw, with checks."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ganzoo import GanzooError

# IDX magic numbers: 0x0000 08 NN, type ubyte (0x08), NN dimensions.
MAGIC = {1: 2049, 3: 2051}


def read_idx(path: Path, dims: int, count: int) -> np.ndarray:
    """The uint8 array in ``path``, which must hold ``count`` items of ``dims`` dimensions."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise GanzooError(f"{path} is a damaged gzip file ({exc}); replace it with an intact copy") from None
    header = 4 * (1 + dims)
    if len(raw) < header:
        raise GanzooError(f"{path} is truncated ({len(raw)} bytes); replace it with an intact copy")
    magic = int.from_bytes(raw[:4], "big")
    if magic != MAGIC[dims]:
        raise GanzooError(
            f"{path} has magic number {magic}, expected {MAGIC[dims]} for a {dims}-d IDX file; "
            "is it the right file?"
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    if shape[0] != count:
        raise GanzooError(f"{path} holds {shape[0]} items, expected {count}; is it the right split?")
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise GanzooError(
            f"{path} is truncated or padded: {len(raw)} bytes, expected {expected}; replace it with an intact copy"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
