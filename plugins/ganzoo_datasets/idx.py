"""Reading IDX files (the MNIST family's format), gzip-compressed or raw, with checks.

``read_idx`` loads a file and raises ``GanzooError`` if it is unusable;
``idx_problem`` makes the same checks for ``ganzoo data`` without keeping the
pixels: it reads the header and measures the rest (a gzip file is still
decompressed to the end, in chunks, so a damaged stream is caught).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ganzoo import GanzooError

# IDX magic numbers: 0x0000 08 NN, type ubyte (0x08), NN dimensions.
MAGIC = {1: 2049, 3: 2051}
GZIP_MAGIC = b"\x1f\x8b"
GZIP_ERRORS = (OSError, EOFError, zlib.error)  # BadGzipFile is an OSError; a bad deflate block raises zlib.error
CHUNK = 1 << 20


def _header_problem(head: bytes, size: int, dims: int, count: int) -> str:
    """What is wrong with an IDX file that starts with ``head`` and is ``size`` bytes long
    (decompressed), or '' if it holds ``count`` items of ``dims`` dimensions."""
    header = 4 * (1 + dims)
    if size < header:
        return f"truncated: {size} bytes, shorter than the {header}-byte IDX header"
    magic = int.from_bytes(head[:4], "big")
    if magic != MAGIC[dims]:
        return f"wrong magic number {magic}, expected {MAGIC[dims]} for a {dims}-d IDX file"
    shape = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    if shape[0] != count:
        return f"holds {shape[0]} items, expected {count} (the wrong split?)"
    expected = header + int(np.prod(shape))
    if size != expected:
        return f"{'truncated' if size < expected else 'padded'}: {size} bytes, expected {expected}"
    return ""


def _advice(problem: str) -> str:
    return "is it the right file?" if problem.startswith(("wrong magic", "holds")) else "replace it with an intact copy"


def read_idx(path: Path, dims: int, count: int) -> np.ndarray:
    """The uint8 array in ``path``, which must hold ``count`` items of ``dims`` dimensions."""
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except GZIP_ERRORS as exc:
            raise GanzooError(f"{path}: damaged gzip file ({exc}); replace it with an intact copy") from None
    problem = _header_problem(raw[: 4 * (1 + dims)], len(raw), dims, count)
    if problem:
        raise GanzooError(f"{path}: {problem}; {_advice(problem)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 * (1 + dims)).reshape(shape)


def idx_problem(path: Path, dims: int, count: int) -> str:
    """What ``read_idx(path, dims, count)`` would reject the file for, or '' if it is intact."""
    header = 4 * (1 + dims)
    try:
        with path.open("rb") as file:
            gzipped = file.read(2) == GZIP_MAGIC
            file.seek(0)
            if not gzipped:
                return _header_problem(file.read(header), path.stat().st_size, dims, count)
            try:
                with gzip.GzipFile(fileobj=file) as stream:
                    head = stream.read(header)
                    size = len(head)
                    while chunk := stream.read(CHUNK):
                        size += len(chunk)
            except GZIP_ERRORS as exc:
                return f"damaged gzip file ({exc})"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return _header_problem(head, size, dims, count)
