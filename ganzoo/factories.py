"""Registered components created by name: ``create("generators", Component("mlp"), spec)``.

Every option is checked against the factory's annotations before the factory
runs, as ``--set`` checks it, and a factory's own failure is one line naming
its plugin.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from .data import Data
from .errors import GanzooError, first_line
from .kinds import KINDS, singular
from .options import check_option
from .recipe import Component
from .registry import Registry, default_registry
from .settings import data_dir as resolve_data_dir


def create(kind: str, component: Component | str, *args: Any, registry: Registry | None = None) -> Any:
    """Instantiate one registered component: ``create("generators", Component("mlp"), spec)``.

    Generators and discriminators take the ``DataSpec``, datasets the data root,
    optimizers the parameters, the other kinds nothing but their options.
    """
    component = Component(component) if isinstance(component, str) else component
    if not isinstance(component, Component):
        raise GanzooError(f"a {singular(kind)} is named by a string or a Component, got {component!r}")
    registry = registry or default_registry()
    entry = registry.get(kind, component.name)
    what = f"{singular(kind)} {component.name!r}"
    inputs = KINDS[kind].inputs if kind in KINDS else len(args)
    options = {name: check_option(entry.obj, name, value, what, what, inputs)
               for name, value in component.options.items()}
    try:
        inspect.signature(entry.obj).bind(*args, **options)
    except TypeError as exc:
        raise GanzooError(f"{what}: {exc}; check the recipe's options for it") from None
    try:
        return entry.obj(*args, **options)
    except GanzooError:
        raise
    except Exception as exc:  # noqa: BLE001 - a factory is a plugin's code; its failure is one line
        first = first_line(exc)
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items()) or "no options"
        raise GanzooError(f"{what} (plugin {entry.plugin!r}) could not be built with {shown}: "
                          f"{type(exc).__name__}: {first}") from None


def load_dataset(component: Component | str, data_dir: str | os.PathLike | None = None,
                 registry: Registry | None = None, **options: Any) -> Data:
    """The dataset a component names, read from ``data_dir`` (else ``GANZOO_DATA_DIR``);
    ``options`` add to the component's (``load_dataset("mnist", split="test")``)."""
    component = Component(component) if isinstance(component, str) else component
    if options and isinstance(component, Component):
        component = component.replace(**options)
    return create("datasets", component, resolve_data_dir(data_dir), registry=registry)
