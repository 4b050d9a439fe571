"""The plugin manager: loads ``ganzoo`` entry points and looks components up by name.

A plugin can only break itself. Entry points are loaded one by one (not with
``load_setuptools_entrypoints``), each hook is called plugin by plugin, and each
registration is checked, so that anything going wrong inside one plugin -- at
import, in a hook (``SystemExit`` and ``GanzooError`` included), a registration
that is not what the hook asks for -- drops that whole plugin with one warning
line naming its distribution and ``GANZOO_DISABLE_PLUGINS=<it>``, and the rest
of the library keeps working. A name taken twice in one kind is kept by the
built-in (distribution ``ganzoo``), else by the plugin registered first; the
other plugin loses only that entry, with one warning.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable, Iterator

import pluggy

from . import hookspecs
from .errors import GanzooError, did_you_mean
from .kinds import KINDS, singular
from .recipe import Derived, Recipe
from .settings import DISABLE_PLUGINS_ENV, disabled_plugins

log = logging.getLogger("ganzoo")

BUILTIN_DISTRIBUTION = "ganzoo"


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


class PluginFailure(Exception):
    """A plugin registered something the hook does not accept (internal)."""


def _error_text(exc: BaseException) -> str:
    """``Type: message`` on one line (``Type`` alone when there is no message)."""
    text = str(exc).strip()
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__).splitlines()[0]


class Registry:
    """A pluggy ``PluginManager`` plus the name tables collected from its hooks."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("ganzoo")
        self.pm.add_hookspecs(hookspecs)
        self.failed: list[PluginInfo] = []
        self._dists: dict[str, tuple[str, str]] = {}
        self._tables: dict[str, dict[str, Entry]] | None = None
        self._broken: set[str] = set()  # registered plugins whose hooks failed: skipped until unregistered
        self._warned: set[tuple[str, str]] = set()  # each warning once per registry (per process)
        self._collecting = False

    # ------------------------------------------------------------------ loading
    def load_entrypoints(self) -> None:
        """Register every installed ``ganzoo`` entry point not disabled by
        ``GANZOO_DISABLE_PLUGINS``; record and warn about the ones that fail.

        Built-in entry points (distribution ``ganzoo``) load first, so that a
        third-party entry point reusing a built-in plugin name cannot replace it.
        """
        disabled = disabled_plugins()
        eps = sorted(metadata.entry_points(group="ganzoo"), key=lambda ep: not _is_builtin_ep(ep))
        for ep in eps:
            if ep.name in disabled:
                continue
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
            if self.pm.has_plugin(ep.name):
                owner = self._dists.get(ep.name)
                if owner is not None and owner[0] != dist:
                    self._warn(
                        ep.name,
                        f"ganzoo: plugin {ep.name!r} from {dist} {version} is skipped: the plugin name "
                        f"{ep.name!r} is already taken by {owner[0]} {owner[1]}, which keeps it; "
                        f"rename the entry point of {dist} or uninstall it "
                        "(disabling it by name would disable both)",
                    )
                continue
            try:
                module = ep.load()
                self.register(module, name=ep.name)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit too: a broken plugin must not break the library
                self._fail(ep.name, dist, version, _error_text(exc))
                continue
            self._dists[ep.name] = (dist, version)

    def register(self, plugin: Any, name: str | None = None) -> str:
        """Register a plugin object (usually a module of hook implementations)."""
        if self.pm.is_registered(plugin):
            raise GanzooError(f"plugin {self.pm.get_name(plugin)!r} is already registered (it is installed, or was "
                              "registered before); use `with registry.registered(plugin):` in tests")
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

    @contextmanager
    def registered(self, plugin: Any, name: str | None = None) -> Iterator[str]:
        """Register ``plugin`` for the length of a ``with`` block (its name is the
        value), unless it already is (installed through its entry point): then
        leave it as it is, before and after."""
        if self.pm.is_registered(plugin):
            yield self.pm.get_name(plugin)
            return
        registered = self.register(plugin, name)
        try:
            yield registered
        finally:
            self.unregister(registered)

    def unregister(self, name: str) -> None:
        """Remove a plugin by name (tests use this to undo ``register``)."""
        self.pm.unregister(name=name)
        if name in self._broken:
            self._broken.discard(name)
            self.failed = [info for info in self.failed if info.name != name]
        self._tables = None

    # ------------------------------------------------------------------ failures
    def _origin(self, name: str) -> str:
        dist = self._dists.get(name)
        return f"from {dist[0]} {dist[1]}" if dist else "(registered in code)"

    def _hint(self, name: str) -> str:
        dist = self._dists.get(name)
        if dist:
            return f"rename it, uninstall {dist[0]}, or set {DISABLE_PLUGINS_ENV}={name}"
        return "rename it or unregister the plugin"

    def _warn(self, name: str, message: str) -> None:
        if (name, message) not in self._warned:
            self._warned.add((name, message))
            log.warning("%s", message)

    def _fail(self, name: str, dist: str, version: str, error: str, stage: str = "failed to load") -> None:
        """Record and warn (once) that plugin ``name`` failed and is skipped."""
        if not any(info.name == name and info.distribution == dist for info in self.failed):
            self.failed.append(PluginInfo(name, dist, version, error=error))
        hint = (f"fix or uninstall it, or set {DISABLE_PLUGINS_ENV}={name}" if dist is not None
                else "fix or unregister it")
        origin = f"from {dist} {version}" if dist is not None else "(registered in code)"
        self._warn(name, f"ganzoo: plugin {name!r} {origin} {stage} and is skipped ({error}); {hint}")

    # ------------------------------------------------------------------ lookup
    def _collect(self) -> dict[str, dict[str, Entry]]:
        if self._tables is not None:
            return self._tables
        if self._collecting:
            raise GanzooError("components cannot be looked up inside a register hook; "
                              "name them in a Component instead")
        self._collecting = True
        try:
            staged = {}
            for name, plugin in self.pm.list_name_plugin():
                if plugin is None or name in self._broken:
                    continue
                entries = self._stage(name)
                if entries is not None:
                    staged[name] = entries
            self._tables = self._merge(staged)
            self._resolve_derived(self._tables["recipes"])
        finally:
            self._collecting = False
        return self._tables

    def _stage(self, plugin: str) -> list[Entry] | None:
        """Everything ``plugin``'s hooks register, checked; ``None`` (and one
        warning) if any hook raises or registers something invalid."""
        entries: list[Entry] = []
        seen: set[tuple[str, str]] = set()
        invalid: list[str] = []  # kept even if the hook catches the PluginFailure itself
        for kind in KINDS:
            impls = [i for i in getattr(self.pm.hook, KINDS[kind].hook).get_hookimpls()
                     if i.plugin_name == plugin]
            for impl in impls:
                def register(name: Any, obj: Any, description: Any = None, _kind: str = kind) -> None:
                    try:
                        entry = _entry(_kind, plugin, name, obj, description)
                        if (_kind, entry.name) in seen:
                            raise PluginFailure(f"registered {singular(_kind)} {entry.name!r} twice")
                    except PluginFailure as exc:
                        invalid.append(str(exc))
                        raise
                    seen.add((_kind, entry.name))
                    entries.append(entry)

                try:
                    impl.function(**{arg: register for arg in impl.argnames})
                    if invalid:
                        raise PluginFailure(invalid[0])
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # SystemExit, GanzooError, anything: only this plugin fails
                    error = invalid[0] if invalid else _error_text(exc)
                    dist, version = self._dists.get(plugin, (None, None))
                    self._broken.add(plugin)
                    self._fail(plugin, dist, version, error, stage=f"failed in its register_{kind} hook")
                    return None
        return entries

    def _merge(self, staged: dict[str, list[Entry]]) -> dict[str, dict[str, Entry]]:
        """The name tables: in a clash the built-in keeps the name, else the
        plugin registered first; each loser gets one warning and loses only that entry."""
        def builtin(plugin: str) -> bool:
            return self._dists.get(plugin, (None,))[0] == BUILTIN_DISTRIBUTION

        owner: dict[tuple[str, str], str] = {}
        for plugin in sorted(staged, key=lambda p: not builtin(p)):  # stable: registration order otherwise
            for entry in staged[plugin]:
                owner.setdefault((entry.kind, entry.name), plugin)
        tables: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        for plugin, entries in staged.items():
            lost = []
            for entry in entries:
                keeper = owner[(entry.kind, entry.name)]
                if keeper == plugin:
                    tables[entry.kind][entry.name] = entry
                else:
                    lost.append(f"{singular(entry.kind)} {entry.name!r} (kept by plugin {keeper!r} "
                                f"{self._origin(keeper)})")
            if lost:
                what = "a name already taken, so only that entry is" if len(lost) == 1 else \
                    "names already taken, so only those entries are"
                self._warn(plugin, (
                    f"ganzoo: plugin {plugin!r} {self._origin(plugin)} registers {what} ignored and "
                    f"its other components still work: {'; '.join(lost)}; {self._hint(plugin)}"
                ))
        return tables

    def _resolve_derived(self, recipes: dict[str, Entry]) -> None:
        """Replace each :class:`Derived` recipe by the recipe it describes; one that
        cannot be made (unknown base, a cycle, an invalid change) is dropped with one
        warning, and its plugin's other entries stay."""
        dropped: set[str] = set()

        def resolve(name: str, chain: tuple[str, ...]) -> Entry:
            entry = recipes[name]
            if not isinstance(entry.obj, Derived):
                return entry
            derived, chain = entry.obj, chain + (name,)
            if derived.base in chain:
                raise GanzooError(f"derived from itself through {' -> '.join(chain[chain.index(derived.base):])} "
                                  f"-> {derived.base}")
            if derived.base in dropped:
                raise GanzooError(f"derived from {derived.base!r}, which was dropped")
            if derived.base not in recipes:
                raise GanzooError(f"derived from {derived.base!r}, which no plugin registers"
                                  f"{did_you_mean(derived.base, recipes)}")
            try:
                base = resolve(derived.base, chain).obj
            except GanzooError as exc:
                drop(derived.base, exc)
                raise GanzooError(f"derived from {derived.base!r}, which was dropped") from None
            recipe = base.replace(**derived.changes).replace(name=name)
            if "description" not in derived.changes:
                recipe = recipe.replace(description=entry.description or
                                        f"{base.name} with {', '.join(derived.changes) or 'nothing'} changed")
            recipes[name] = Entry(entry.kind, name, recipe, recipe.description, entry.plugin)
            return recipes[name]

        def drop(name: str, exc: GanzooError) -> None:
            if name in dropped:
                return
            dropped.add(name)
            plugin = recipes.pop(name).plugin
            self._warn(plugin, f"ganzoo: plugin {plugin!r} {self._origin(plugin)} registers recipe {name!r} "
                               f"{exc}; only that recipe is ignored (set {DISABLE_PLUGINS_ENV}={plugin} to "
                               "silence this)")

        for name in list(recipes):
            if name not in recipes:
                continue
            try:
                resolve(name, ())
            except GanzooError as exc:
                drop(name, exc)

    def entries(self, kind: str) -> dict[str, Entry]:
        """Every registered component of ``kind``, by name."""
        if kind not in KINDS:
            raise GanzooError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
        return dict(self._collect()[kind])

    def get(self, kind: str, name: str) -> Entry:
        """The entry ``name`` of ``kind``, or an error listing close matches."""
        table = self.entries(kind)
        if not isinstance(name, str):
            raise GanzooError(f"a {singular(kind)} is named by a string, got {name!r}; see `ganzoo list {kind}`")
        if name in table:
            return table[name]
        hint = did_you_mean(name, table) or f" (available: {', '.join(sorted(table)) or 'none'})"
        raise GanzooError(f"unknown {singular(kind)} {name!r}{hint}; see `ganzoo list {kind}`")

    def factory(self, kind: str, name: str) -> Callable[..., Any]:
        return self.get(kind, name).obj

    def plugins(self) -> list[PluginInfo]:
        """Loaded plugins with what each registers, then the ones that failed."""
        tables = self._collect()
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None or name in self._broken:
                continue
            dist, version = self._dists.get(name, (None, None))
            registers = {
                kind: [e.name for e in tables[kind].values() if e.plugin == name] for kind in KINDS
            }
            infos.append(PluginInfo(name, dist, version, {k: v for k, v in registers.items() if v}))
        return infos + list(self.failed)


def _entry(kind: str, plugin: str, name: Any, obj: Any, description: Any) -> Entry:
    """The entry for one ``register(name, obj, description)`` call, or
    ``PluginFailure`` saying what is wrong with it."""
    what = singular(kind)
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise PluginFailure(f"registered a {what} named {name!r}; a name is a non-empty string without spaces")
    if description is not None and not isinstance(description, str):
        raise PluginFailure(f"registered {what} {name!r} with a {type(description).__name__} "
                            "description, not a string")
    if kind == "recipes" and isinstance(obj, Derived):
        if not isinstance(obj.base, str):
            raise PluginFailure(f"registered recipe {name!r} as derived from {obj.base!r}; name the base recipe")
    elif kind == "recipes":
        if not isinstance(obj, Recipe):
            raise PluginFailure(f"registered recipe {name!r} as {type(obj).__name__}, not a ganzoo.Recipe "
                                "or a ganzoo.Derived")
        if obj.name != name:
            obj = obj.replace(name=name)
        description = description or obj.description
    elif kind == "metrics" and not (callable(obj) and callable(getattr(obj, "unusable", None))):
        raise PluginFailure(f"registered metric {name!r} as {type(obj).__name__}, which is not a metric: "
                            "subclass ganzoo.Metric (a __call__ and an unusable method)")
    elif not callable(obj):
        raise PluginFailure(f"registered {what} {name!r} as {type(obj).__name__}, which is not callable")
    if isinstance(obj, Derived):
        return Entry(kind, name, obj, description or "", plugin)  # described once resolved
    return Entry(kind, name, obj, description or describe(obj), plugin)


def _is_builtin_ep(ep: metadata.EntryPoint) -> bool:
    return ep.dist is not None and ep.dist.name == BUILTIN_DISTRIBUTION


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
