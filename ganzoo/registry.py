"""The plugin manager: loads ``ganzoo`` entry points and looks components up by name.

Entry points are loaded one by one (not with ``load_setuptools_entrypoints``) so
that a plugin that fails to import, or implements a misspelt hook, costs one
warning line naming it, and the rest of the library keeps working.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

import pluggy

from . import hookspecs
from .errors import GanzooError, did_you_mean
from .settings import DISABLE_PLUGINS_ENV, disabled_plugins

log = logging.getLogger("ganzoo")

KINDS = ("generators", "discriminators", "losses", "datasets", "recipes")
SINGULAR = {"generators": "generator", "discriminators": "discriminator", "losses": "loss",
            "datasets": "dataset", "recipes": "recipe", "optimizers": "optimizer"}



@dataclass(frozen=True)
class Entry:
    """One registered component: what it is called, what makes it, who registered it."""

    kind: str
    name: str
    obj: Any
    description: str
    plugin: str


@dataclass
class PluginInfo:
    """A plugin as ``ganzoo plugins`` shows it."""

    name: str
    distribution: str | None = None
    version: str | None = None
    registers: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


class Registry:
    """A pluggy ``PluginManager`` plus the name tables collected from its hooks."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("ganzoo")
        self.pm.add_hookspecs(hookspecs)
        self.failed: list[PluginInfo] = []
        self._dists: dict[str, tuple[str, str]] = {}
        self._tables: dict[str, dict[str, Entry]] | None = None

    # ------------------------------------------------------------------ loading
    def load_entrypoints(self) -> None:
        """Register every installed ``ganzoo`` entry point not disabled by
        ``GANZOO_DISABLE_PLUGINS``; record and warn about the ones that fail."""
        disabled = disabled_plugins()
        for ep in metadata.entry_points(group="ganzoo"):
            if ep.name in disabled or self.pm.has_plugin(ep.name):
                continue
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            try:
                module = ep.load()
                self.register(module, name=ep.name)
            except Exception as exc:  # a broken plugin must not break the library
                self._fail(ep.name, dist, version, exc)
                continue
            self._dists[ep.name] = (dist, version)

    def register(self, plugin: Any, name: str | None = None) -> str:
        """Register a plugin object (usually a module of hook implementations)."""
        registered = self.pm.register(plugin, name=name)
        if registered is None:
            raise GanzooError(f"plugin {name!r} is already registered")
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            raise GanzooError(f"plugin {registered!r} implements an unknown hook: {exc}") from None
        self._tables = None
        return registered

    def unregister(self, name: str) -> None:
        """Remove a plugin by name (tests use this to undo ``register``)."""
        self.pm.unregister(name=name)
        self._tables = None

    def _fail(self, name: str, dist: str, version: str, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        self.failed.append(PluginInfo(name, dist, version, error=error))
        log.warning(
            "ganzoo: plugin %r from %s %s failed to load and is skipped (%s); "
            "fix or uninstall it, or set %s=%s",
            name, dist, version, error, DISABLE_PLUGINS_ENV, name,
        )

    # ------------------------------------------------------------------ lookup
    def _collect(self) -> dict[str, dict[str, Entry]]:
        if self._tables is not None:
            return self._tables
        tables: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        for kind in KINDS:
            caller = getattr(self.pm.hook, f"register_{kind}")
            for impl in reversed(caller.get_hookimpls()):  # registration order
                register = functools.partial(self._add, tables[kind], kind, impl.plugin_name)
                try:
                    impl.function(**{arg: register for arg in impl.argnames})
                except GanzooError:
                    raise
                except Exception as exc:  # one plugin's bug must not break the others
                    dist, version = self._dists.get(impl.plugin_name, ("?", "?"))
                    self._fail(impl.plugin_name, dist, version, exc)
        self._tables = tables
        return tables

    @staticmethod
    def _add(table: dict[str, Entry], kind: str, plugin: str, name: str, obj: Any,
             description: str | None = None) -> None:
        if name in table:
            other = table[name].plugin
            raise GanzooError(
                f"{SINGULAR[kind]} {name!r} is registered by both plugins {other!r} and {plugin!r}; "
                f"uninstall one or set {DISABLE_PLUGINS_ENV}={plugin}"
            )
        if kind == "recipes":
            from .recipe import Recipe

            if not isinstance(obj, Recipe):
                raise GanzooError(f"plugin {plugin!r} registered recipe {name!r} as {type(obj).__name__}, not a Recipe")
            if obj.name != name:
                obj = obj.replace(name=name)
            description = description or obj.description
        table[name] = Entry(kind, name, obj, description or describe(obj), plugin)

    def entries(self, kind: str) -> dict[str, Entry]:
        """Every registered component of ``kind``, by name."""
        if kind == "optimizers":
            from .optimizers import OPTIMIZERS

            return {n: Entry(kind, n, f, describe(f), f.__module__.split(".")[0]) for n, f in OPTIMIZERS.items()}
        if kind not in KINDS:
            raise GanzooError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
        return dict(self._collect()[kind])

    def get(self, kind: str, name: str) -> Entry:
        """The entry ``name`` of ``kind``, or an error listing close matches."""
        table = self.entries(kind)
        if name in table:
            return table[name]
        hint = did_you_mean(name, table) or f" (available: {', '.join(sorted(table)) or 'none'})"
        raise GanzooError(f"unknown {SINGULAR[kind]} {name!r}{hint}; see `ganzoo list {kind}`")

    def factory(self, kind: str, name: str) -> Callable[..., Any]:
        return self.get(kind, name).obj

    def plugins(self) -> list[PluginInfo]:
        """Loaded plugins with what each registers, then the ones that failed."""
        tables = self._collect()
        infos = []
        for name, _plugin in self.pm.list_name_plugin():
            dist, version = self._dists.get(name, (None, None))
            registers = {
                kind: [e.name for e in tables[kind].values() if e.plugin == name] for kind in KINDS
            }
            infos.append(PluginInfo(name, dist, version, {k: v for k, v in registers.items() if v}))
        return infos + list(self.failed)


def describe(obj: Any) -> str:
    """First line of an object's docstring: the default description in listings."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry, with installed entry points loaded on first use."""
    global _default
    if _default is None:
        _default = Registry()
        _default.load_entrypoints()
    return _default


def get(kind: str, name: str) -> Entry:
    """Look up a registered component in the default registry."""
    return default_registry().get(kind, name)


def names(kind: str) -> list[str]:
    """Sorted names of every registered component of ``kind``."""
    return sorted(default_registry().entries(kind))
