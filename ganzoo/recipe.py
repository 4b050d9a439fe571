"""Recipes: a whole training run as plain, frozen, JSON-able data.

A :class:`Recipe` names its dataset, networks, loss and optimizers as
:class:`Component` values (a registered name plus keyword options) and carries
the schedule. ``--set KEY=VALUE`` overrides reach every field with a typed check.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping, Sequence

from .errors import GanzooError, did_you_mean
from .options import Seed, check_option, coerce
from .kinds import KINDS, singular


@dataclass(frozen=True, init=False)
class Component:
    """A registered name plus the keyword options its factory is called with.

    ``Component("mlp", hidden=(256, 512, 1024))``
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, name: str, /, **options: Any) -> None:
        if not isinstance(name, str) or not name:
            raise GanzooError(f"a Component is named by a non-empty string (a registered name), got {name!r}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "options", dict(options))

    def replace(self, **options: Any) -> "Component":
        """The same component with some options changed."""
        return Component(self.name, **{**self.options, **options})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "options": _plain(dict(self.options))}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Component":
        return cls(data["name"], **dict(data.get("options", {})))

    def __repr__(self) -> str:
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"Component({self.name!r}{opts})"


def _default_optim() -> Component:
    return Component("adam", lr=2e-4, betas=(0.5, 0.999))


def _names(kind: str, **spec: Any) -> Any:
    """A field whose value names registered components of ``kind``."""
    return field(metadata={"kind": kind}, **spec)


@dataclass(frozen=True)
class Recipe:
    """Everything that defines a training run, and nothing about where it runs.

    Length is ``steps`` or, when ``steps`` is ``None``,
    ``epochs`` passes over the data. With ``eval_every`` set, ``eval_metrics``
    (default: those that apply to the dataset) are computed on ``eval_n``
    samples every that many steps and logged. Each step makes ``n_critic`` discriminator
    updates, each on a fresh real batch, then ``g_steps`` generator updates; with
    ``simultaneous``, one of each, both computed before either is applied. With ``d_ema``
    set, a moving average of D's weights (that rate per step) is kept, saved and
    used for evaluating a discriminator that classifies. With ``g_ema`` set (a
    decay, e.g. 0.999), a moving average of G's weights is kept on the device,
    saved, and sampled from by the sample grids, evaluation, ``ganzoo sample``
    and ``ganzoo eval`` (Karras et al. 2018; Yazıcı et al. 2019). ``schedule`` names a
    registered schedule that sets both optimisers' learning rates and momenta
    from the step count; ``augment`` a registered augmentation applied to every
    input of D in training (real and generated alike, e.g. DiffAugment);
    ``callbacks`` names registered callbacks that watch the run. ``batch_size``
    is the global batch: a run of several processes splits each batch between
    them, and with ``sync_batchnorm`` their BatchNorm layers normalise over the
    global batch rather than each process's slice.
    """

    dataset: Component = _names("datasets")
    generator: Component = _names("generators")
    discriminator: Component = _names("discriminators")
    loss: Component = _names("losses", default_factory=lambda: Component("non-saturating"))
    g_optim: Component = _names("optimizers", default_factory=_default_optim)
    d_optim: Component = _names("optimizers", default_factory=_default_optim)
    schedule: Component | None = _names("schedules", default=None)
    augment: Component | None = _names("augmentations", default=None)
    callbacks: tuple[Component, ...] = _names("callbacks", default=())
    batch_size: int = 64
    steps: int | None = None
    epochs: int | None = 1
    n_critic: int = 1
    g_steps: int = 1
    simultaneous: bool = False
    seed: Seed = 0
    amp: bool = False
    sync_batchnorm: bool = False
    log_every: int = 50
    sample_every: int = 1000
    checkpoint_every: int = 5000
    eval_every: int | None = None
    eval_metrics: tuple[str, ...] | None = None
    eval_n: int = 5000
    d_ema: float | None = None
    g_ema: float | None = None
    name: str = "custom"
    description: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in COMPONENT_KINDS:
                object.__setattr__(self, f.name, _components(f.name, value, _field_types()[f.name]))
                continue
            object.__setattr__(self, f.name, coerce(value, _field_types()[f.name], f"recipe field {f.name}"))
        for name in ("batch_size", "n_critic", "g_steps", "log_every", "sample_every", "checkpoint_every", "eval_n"):
            if getattr(self, name) < 1:
                raise GanzooError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.steps is None and self.epochs is None:
            raise GanzooError("a recipe needs a length: set steps=N or epochs=N")
        if not _NAME.fullmatch(self.name) or self.name in (".", ".."):
            raise GanzooError(f"recipe name {self.name!r} must be letters, digits and . _ + - only "
                              "(it names the run's directory)")
        if self.eval_metrics is not None and not self.eval_metrics:
            raise GanzooError("eval_metrics is empty; name some metrics, or null for those that apply to the data")
        for name in ("steps", "epochs", "eval_every"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise GanzooError(f"{name} must be at least 1, got {value}")
        if self.simultaneous and (self.n_critic, self.g_steps) != (1, 1):
            raise GanzooError(f"simultaneous updates make one D update per G update; "
                              f"set n_critic=1 and g_steps=1 (got {self.n_critic} and {self.g_steps})")
        if self.d_ema is not None and not 0 < self.d_ema <= 1:
            raise GanzooError(f"d_ema is a rate per step in (0, 1], e.g. 1e-4; got {self.d_ema}")
        if self.g_ema is not None and not 0.5 <= self.g_ema < 1:
            raise GanzooError(f"g_ema is the average's decay per step, e.g. 0.999 (from 0.5 to below 1; it is not a "
                              f"rate like d_ema's); got {self.g_ema}")

    def replace(self, **changes: Any) -> "Recipe":
        known = _field_types()
        for key in changes:
            if key not in known:
                raise GanzooError(f"unknown recipe field {key!r}{did_you_mean(key, known)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Component):
                out[f.name] = value.to_dict()
            elif f.name in COMPONENT_KINDS and value is not None:
                out[f.name] = [c.to_dict() for c in value]
            else:
                out[f.name] = _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Recipe":
        if not isinstance(data, Mapping):
            raise GanzooError(f"a recipe is a JSON object of fields, got {type(data).__name__}")
        data = upgrade(data)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise GanzooError(f"recipe has unknown fields {sorted(unknown)}")
        missing = [f.name for f in fields(cls) if f.name not in data
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise GanzooError(f"recipe lacks the fields {missing}")
        return cls(**data)  # component fields are read from their JSON form on construction

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


class Derived:
    """A recipe registered as changes to another registered recipe, which a
    register hook cannot look up itself: ``register("gan-spiral-adam",
    ganzoo.Derived("gan-spiral", g_optim=Component("adam"), steps=2000))``. The
    registry resolves it once every plugin has registered, with
    :meth:`Recipe.replace` (so a component given here replaces the base's whole
    component, options included)."""

    def __init__(self, base: str, **changes: Any) -> None:
        self.base, self.changes = base, changes

    def __repr__(self) -> str:
        return f"Derived({self.base!r}{''.join(f', {k}={v!r}' for k, v in self.changes.items())})"


# Which registry kind each component-valued field names (a Component, an optional
# Component, or a tuple of them).
COMPONENT_KINDS: dict[str, str] = {f.name: f.metadata["kind"] for f in fields(Recipe) if "kind" in f.metadata}

_NAME = re.compile(r"[\w.+-]+")

# Fields of recipes saved before schedules were components: one registered
# schedule, ``decay``, takes them as its options. Each is kept where it differs
# from the value that meant "no schedule"; momentum_saturate belongs to the
# momentum ramp and is kept whenever there is one.
_LEGACY_SCHEDULE = {"lr_decay": ("lr_decay", 1.0), "min_lr": ("min_lr", 0.0),
                    "final_momentum": ("final_momentum", None), "lr_linear_decay": ("linear_decay", None)}


def upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """A recipe dict of an earlier ganzoo in today's fields (checkpoints and
    ``recipe.json`` files keep loading)."""
    data = dict(data)
    saturate = data.pop("momentum_saturate", None)
    legacy = {key: data.pop(key) for key in list(data) if key in _LEGACY_SCHEDULE}
    options = {_LEGACY_SCHEDULE[k][0]: v for k, v in legacy.items() if v != _LEGACY_SCHEDULE[k][1]}
    if "final_momentum" in options and saturate is not None:
        options["momentum_saturate"] = saturate
    if options and data.get("schedule") is None:
        data["schedule"] = {"name": "decay", "options": options}
    return data


def _component(where: str, value: Any) -> Component:
    """A Component from itself, a name, or its JSON form ``{"name": ..., "options": {...}}``."""
    if isinstance(value, Component):
        return value
    if isinstance(value, str) and value:
        return Component(value)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str) and isinstance(value.get("options", {}), Mapping):
        return Component.from_dict(value)
    if isinstance(value, Mapping):
        raise GanzooError(f"{where} must be {{\"name\": ..., \"options\": {{...}}}}, got {value!r}")
    raise GanzooError(
        f"{where} must be a Component (a registered name and its options), got {type(value).__name__}; "
        "a recipe is plain data that a checkpoint can hold, so to train with a Python object pass it "
        "to the Trainer instead"
    )


def _components(name: str, value: Any, hint: Any) -> Any:
    """The value of component field ``name`` in its canonical form."""
    if hint is Component:
        return _component(f"recipe field {name}", value)
    if value is None and type(None) in typing.get_args(hint):
        return None
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)):
            raise GanzooError(f"recipe field {name} is a list of components, got {value!r}")
        return tuple(_component(f"recipe field {name}[{i}]", v) for i, v in enumerate(value))
    return _component(f"recipe field {name}", value)


@functools.cache
def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(Recipe, include_extras=True)


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so recipes compare equal after a JSON round trip."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- overrides

FactoryLookup = Callable[[str, str], Callable[..., Any]]


def apply_overrides(recipe: Recipe, overrides: Sequence[str], lookup: FactoryLookup) -> Recipe:
    """``recipe`` with each ``KEY=VALUE`` applied, checked against field and option types.

    ``lookup(kind, name)`` returns a component's factory, whose signature says
    which options it takes and of what type.
    """
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GanzooError(f"--set {item!r}: expected KEY=VALUE, e.g. --set steps=200")
        recipe = _apply_one(recipe, key, parse_value(raw), lookup)
    return recipe


def parse_value(raw: str) -> Any:
    """A ``--set`` value: JSON (``200``, ``[512,512]``, ``true``, ``null``), else a bare string."""
    raw = raw.strip()
    if raw in ("None", "none"):
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _apply_one(recipe: Recipe, key: str, value: Any, lookup: FactoryLookup) -> Recipe:
    head, _, option = key.partition(".")
    hints = _field_types()
    if head not in hints:
        raise GanzooError(f"--set {key}: unknown recipe field {head!r}{did_you_mean(head, hints)}")
    if head in COMPONENT_KINDS:
        return _apply_component(recipe, key, head, option, value, lookup)
    if option:
        raise GanzooError(f"--set {key}: {head!r} is a plain field with no options; use --set {head}=VALUE")
    checked = coerce(value, hints[head], f"--set {key}")
    changes: dict[str, Any] = {head: checked}
    # Asking for a length in one unit means that unit decides the length.
    if head == "epochs" and checked is not None:
        changes["steps"] = None
    return recipe.replace(**changes)


def _apply_component(recipe: Recipe, key: str, head: str, option: str, value: Any, lookup: FactoryLookup) -> Recipe:
    """``--set`` of a component field: a new name (``loss=minimax``), one option of
    the named component (``generator.hidden=[512]``), or, for a list of components,
    the whole list (``callbacks=[tensorboard]``) or one option of a listed one
    (``callbacks.tensorboard.every=10``)."""
    kind, current = COMPONENT_KINDS[head], getattr(recipe, head)
    what = singular(kind)
    if isinstance(current, tuple):  # a list of components, each addressed by its name
        if not option:
            if isinstance(value, str) and value.startswith("[") and value.endswith("]"):  # [a, b] unquoted
                value = [item.strip() for item in value[1:-1].split(",") if item.strip()]
            items = value if isinstance(value, list) else [value] if isinstance(value, str) else None
            if items is None:
                raise GanzooError(f"--set {key}: expected a list of {what} names, e.g. [{what}-name], got {value!r}")
            chosen = tuple(_component(f"--set {key}", v) for v in items)
            for c in chosen:
                lookup(kind, c.name)  # raises with close matches if unknown
            return recipe.replace(**{head: chosen})
        name, _, option = option.partition(".")
        index = [c.name for c in current].index(name) if name in [c.name for c in current] else None
        if index is None or not option:
            listed = ", ".join(c.name for c in current) or "none"
            raise GanzooError(f"--set {key}: expected {head}.NAME.OPTION=VALUE naming a listed {what} "
                              f"(listed: {listed}); add one with --set {head}=[...]")
        checked = check_option(lookup(kind, name), option, value, f"--set {key}", f"{what} {name!r}",
                               KINDS[kind].inputs)
        items = list(current)
        items[index] = items[index].replace(**{option: checked})
        return recipe.replace(**{head: tuple(items)})
    if not option:
        if value is None and type(None) in typing.get_args(_field_types()[head]):  # schedule=null: off
            return recipe.replace(**{head: None})
        if not isinstance(value, str):
            raise GanzooError(f"--set {key}: expected a {what} name, got {value!r}")
        lookup(kind, value)  # raises with close matches if unknown
        return recipe.replace(**{head: Component(value)})
    if current is None:
        raise GanzooError(f"--set {key}: the recipe has no {what}; choose one first, e.g. --set {head}=NAME "
                          f"(see `ganzoo list {kind}`)")
    checked = check_option(lookup(kind, current.name), option, value, f"--set {key}", f"{what} {current.name!r}",
                           KINDS[kind].inputs)
    return recipe.replace(**{head: current.replace(**{option: checked})})
