"""Files ganzoo writes: checked before the work that fills them, written atomically,
and every operating-system failure turned into one line that names the path.

An atomic write goes to a temporary file beside the target
(``.<name>.<pid>.<random>.tmp``), is flushed to disk and renamed over the
target, so a crash, a kill or a full disk leaves either the old file or the new
one, never half of one. The temporary file of a write that was killed outright
(``kill -9``) cannot clean itself up; the next write to the same target removes
it, once the process that made it is gone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator, Sequence

from .errors import GanzooError


def os_error(exc: OSError, path: str | os.PathLike, doing: str = "write") -> GanzooError:
    """A one-line :class:`GanzooError` for ``exc`` raised while ``doing`` ``path``."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = "no space left on the device (the disk or quota is full); free some space"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = f"{reason.lower()}; choose a writable place"
    return GanzooError(f"cannot {doing} {path}: {reason}")


def check_output(path: str | os.PathLike, suffixes: Sequence[str], option: str) -> Path:
    """``path`` if a file can be written there, checked before any work is done:
    its suffix is one of ``suffixes``, it is not a directory, and its folder exists
    (or can be made) and is writable. Otherwise a one-line error naming ``option``."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise GanzooError(f"{option} {path} is a directory; name a file inside it, e.g. {path / ('out' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        raise GanzooError(f"{option} {path}: the file must end in {' or '.join(suffixes)}")
    check_folder(path.parent, option)
    if path.exists() and not os.access(path, os.W_OK):
        raise GanzooError(f"{option} {path}: permission denied; choose a writable place")
    return path


def check_folder(path: str | os.PathLike, option: str) -> Path:
    """``path`` if a folder can be made or written there, checked before any work:
    it is not a file, and it (or the nearest folder above it that exists) is writable."""
    path = Path(path).expanduser()
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise GanzooError(f"{option} {path}: {existing} is a file, not a folder; choose another place")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GanzooError(f"{option} {path}: permission denied in {existing}; choose a writable place")
    return path


def _stale(target: Path) -> Iterator[Path]:
    """Temporary files of earlier writes to ``target`` whose process has ended."""
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        pid = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
        if not pid.isdigit():
            continue
        if int(pid) == os.getpid():
            yield tmp
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            yield tmp
        except OSError:  # alive, under another user
            pass


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` when the block ends without an
    error; on any error (or interrupt) the target is untouched and the temporary
    file is removed. ``OSError`` becomes a one-line :class:`GanzooError`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for tmp in _stale(path):
            tmp.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise os_error(exc, path) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; these are ordinary files
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise os_error(exc, path) from None
    except RuntimeError as exc:
        tmp.unlink(missing_ok=True)
        # torch.save reports a failed write (a full disk) as a RuntimeError of its
        # zip writer, raised while the OSError that caused it propagates.
        if isinstance(exc.__context__, OSError):
            raise os_error(exc.__context__, path) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write(path, "w") as f:
        f.write(text)
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path) as f:
        f.write(data)
    return Path(path)


def write_png(image, path: str | os.PathLike) -> Path:
    """Save a Pillow ``image`` to ``path`` as PNG, atomically."""
    with atomic_write(path) as f:
        image.save(f, format="PNG")
    return Path(path)


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def json_text(value, indent: int | None = 2) -> str:
    """Strict JSON for ``value``, NaN and infinities written as ``null`` (the bare
    ``NaN`` of Python's json module is rejected by strict readers)."""
    return json.dumps(_finite_or_none(value), indent=indent, allow_nan=False)
