"""Where ganzoo looks for data and keeps its cache, from an option or the environment.

No path is written into library code: the data directory is the ``--data-dir``
option, else ``GANZOO_DATA_DIR``, else ``~/.cache/ganzoo/data`` (where torchvision
downloads land on an online machine).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "GANZOO_DATA_DIR"
CACHE_DIR_ENV = "GANZOO_CACHE_DIR"
DISABLE_PLUGINS_ENV = "GANZOO_DISABLE_PLUGINS"
MEMORY_BUDGET_ENV = "GANZOO_MEMORY_BUDGET"  # bytes a dataset may take in memory (e.g. 4GiB)
DEBUG_ENV = "GANZOO_DEBUG"  # set: the command line shows the traceback of an internal error


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The directory that holds (or will hold) the datasets."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "ganzoo" / "data"


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Where ganzoo keeps what it computes once (reference classifiers):
    ``explicit``, else ``GANZOO_CACHE_DIR``, else ``~/.cache/ganzoo``."""
    if explicit is not None:
        return Path(explicit).expanduser()
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ganzoo"


def disabled_plugins() -> set[str]:
    """Plugin names listed in ``GANZOO_DISABLE_PLUGINS`` (comma separated)."""
    raw = os.environ.get(DISABLE_PLUGINS_ENV, "")
    return {name.strip() for name in raw.split(",") if name.strip()}
