"""Recipes as files: read a recipe from TOML (or a run's ``recipe.json``), write one as TOML.

A recipe file is the way to keep an experiment under version control without
writing Python. The TOML layout is the :class:`~ganzoo.recipe.Recipe`'s fields at
the top level and each component as a table with its name and its options side
by side, which reads far better than the JSON's nested ``options``::

    # ganzoo recipe wide-mnist: vanilla-mnist with a wider generator
    base = "vanilla-mnist"   # optional: start from a registered recipe
    name = "wide-mnist"
    steps = 2000

    [generator]              # same name as the base's (or none): options merge
    hidden = [512, 1024, 2048]

    [loss]                   # another name: the component is replaced
    name = "minimax"

Without ``base``, fields left out take the Recipe's defaults, and a component
table without a ``name`` merges into the field's default component (``[g_optim]
lr = 1e-3`` keeps Adam and its betas). The JSON form ``{name = ..., options =
{...}}`` is read as well, and so is a string naming a component with no options.
``callbacks`` is an array of tables (``[[callbacks]]``), each with a name, that
replaces the base's list; the n-th entry named like a callback of the base takes
the options of the base's n-th callback of that name as its defaults. With
``base``, setting ``epochs`` without mentioning ``steps`` makes epochs decide
the length, as ``--set epochs=N`` does.

Nulls: TOML has none. A field whose value is ``None`` and whose default is
``None`` is left out. Every other ``None`` -- ``epochs`` when ``steps`` decides
the length, a component option such as ``init_range`` -- is named by its key
path in the top-level array ``null``::

    null = ["epochs", "discriminator.init_range"]

A key path is a field (``schedule``), ``FIELD.OPTION`` for a component's option,
or ``callbacks[I].OPTION`` for the I-th callback's. A key both given a value and
listed in ``null`` is an error. In a derived recipe ``null`` also turns things
off (``null = ["schedule"]``). A ``None`` inside a list or an inline table cannot
be written. In JSON, ``null`` is JSON's own.

Every problem with a file is one :class:`~ganzoo.GanzooError` line that starts
with the file's path and names the key path.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any, Mapping

from .errors import GanzooError, did_you_mean
from .kinds import KINDS, singular
from .options import check_option, coerce
from .recipe import COMPONENT_KINDS, Component, Recipe, upgrade
from .registry import Registry, default_registry

SUFFIXES = (".toml", ".json")

# Top-level keys of a recipe file that are not Recipe fields.
BASE_KEY = "base"
NULL_KEY = "null"

_HINTS: dict[str, Any] = typing.get_type_hints(Recipe, include_extras=True)
_FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Recipe)}
_FIRST = ("name", "description")  # written first, after the header


# --------------------------------------------------------------------------- reading

def read_recipe(path: str | os.PathLike[str], registry: Registry | None = None) -> Recipe:
    """The recipe in the ``.toml`` or ``.json`` file ``path``; every problem is a
    one-line :class:`GanzooError` that starts with the path."""
    shown = os.fspath(path)
    try:
        data = _load(Path(path))
        return _build(data, registry if registry is not None else default_registry())
    except GanzooError as exc:
        raise GanzooError(f"{shown}: {_one_line(str(exc))}") from None
    except RecursionError:
        raise GanzooError(f"{shown}: the file is nested too deeply to be a recipe") from None


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")).replace("\r", " ")


def _load(path: Path) -> dict[str, Any]:
    """The file's top-level table (JSON: after upgrading an earlier ganzoo's fields)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise GanzooError(f"a recipe file ends in .toml or .json, not {suffix or 'no suffix'!r}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GanzooError("no such file") from None
    except IsADirectoryError:
        raise GanzooError("is a directory, not a recipe file") from None
    except OSError as exc:
        raise GanzooError(f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise GanzooError(f"line {line}: not UTF-8 text (byte {raw[exc.start]:#04x}); "
                          "save the file as UTF-8") from None
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise GanzooError(_located(str(exc))) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GanzooError(f"line {exc.lineno}: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise GanzooError(f"the top level must be an object of recipe fields, got {_type(data)}")
    return upgrade(data)


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _located(message: str) -> str:
    """tomllib's ``msg (at line L, column C)`` as ``line L: msg (column C)``."""
    if (match := _AT.search(message)) is not None:
        return f"line {match[1]}: {message[:match.start()]} (column {match[2]})"
    if (match := _AT_END.search(message)) is not None:
        return f"at the end of the file: {message[:match.start()]}"
    return message


def _type(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _build(data: dict[str, Any], registry: Registry) -> Recipe:
    known = [*_FIELDS, BASE_KEY, NULL_KEY]
    for key in data:
        if key not in known:
            raise GanzooError(f"unknown recipe field {key!r}{did_you_mean(key, known)}")
    given_null = {key for key, value in data.items() if value is None}  # JSON's own nulls
    data = {key: value for key, value in data.items() if value is not None}
    base = _base(data.get(BASE_KEY), registry)
    nulls, option_nulls = _nulls(data.get(NULL_KEY, []), data)
    nulls |= given_null - {BASE_KEY, NULL_KEY}
    changes: dict[str, Any] = {}
    for key in _FIELDS:
        if key in COMPONENT_KINDS:
            continue
        if key in nulls:
            if type(None) not in typing.get_args(_HINTS[key]):
                raise GanzooError(f"{NULL_KEY}: {key} cannot be null")
            changes[key] = None
        elif key in data:
            changes[key] = coerce(data[key], _HINTS[key], key)
    for key, kind in COMPONENT_KINDS.items():
        start = getattr(base, key) if base is not None else _default(key)
        if key in nulls:
            if type(None) not in typing.get_args(_HINTS[key]):
                raise GanzooError(f"{NULL_KEY}: {key} cannot be null")
            changes[key] = None
            nulled = [k for k in option_nulls if k == key or k.startswith(f"{key}[")]
            if nulled:
                raise GanzooError(f"{NULL_KEY}: {key} is null, so it has no options to set to null")
        elif typing.get_origin(_HINTS[key]) is tuple:
            if key in data or any(k.startswith(f"{key}[") for k in option_nulls):
                changes[key] = _component_list(key, kind, data.get(key, []), start, option_nulls, registry)
        elif key in data or key in option_nulls:
            changes[key] = _component(key, kind, data.get(key, {}), start, option_nulls.pop(key, {}), registry)
    if base is not None:
        if "epochs" in changes and changes["epochs"] is not None and "steps" not in changes:
            changes["steps"] = None  # as --set epochs=N: the unit asked for decides the length
        return base.replace(**changes)
    missing = [name for name, f in _FIELDS.items() if name not in changes
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        tables = ", ".join(f"[{name}]" for name in missing)
        raise GanzooError(f"the recipe lacks {tables} (each a table with name = \"...\"), "
                          f"or derive it from a registered recipe with {BASE_KEY} = \"NAME\"")
    return Recipe(**changes)


def _base(value: Any, registry: Registry) -> Recipe | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise GanzooError(f"{BASE_KEY}: expected the name of a registered recipe, got {value!r}")
    try:
        return registry.get("recipes", value).obj
    except GanzooError as exc:
        raise GanzooError(f"{BASE_KEY}: {exc}") from None


def _default(key: str) -> Any:
    f = _FIELDS[key]
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default


_PATH = re.compile(r"(?P<field>[^.\[]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<option>.+))?")


def _nulls(value: Any, data: Mapping[str, Any]) -> tuple[set[str], dict[str, dict[str, None]]]:
    """The ``null`` array: the fields set to None, and the options set to None by
    component key (``generator``, ``callbacks[0]``)."""
    if not isinstance(value, list):
        raise GanzooError(f"{NULL_KEY}: expected a list of key paths such as [\"epochs\"], got {value!r}")
    fields: set[str] = set()
    options: dict[str, dict[str, None]] = {}
    for i, item in enumerate(value):
        where = f"{NULL_KEY}[{i}]"
        match = _PATH.fullmatch(item) if isinstance(item, str) else None
        if match is None:
            raise GanzooError(f"{where}: expected a key path such as \"epochs\" or \"generator.init_range\", "
                              f"got {item!r}")
        field, index, option = match["field"], match["index"], match["option"]
        if field not in _FIELDS:
            raise GanzooError(f"{where}: unknown recipe field {field!r}{did_you_mean(field, _FIELDS)}")
        is_list = field in COMPONENT_KINDS and typing.get_origin(_HINTS[field]) is tuple
        if index is not None and not is_list:
            raise GanzooError(f"{where}: {item!r}: {field} is not a list of components, so takes no index")
        if index is not None and option is None:
            raise GanzooError(f"{where}: {item!r}: a listed {field} entry cannot be null; "
                              f"name one of its options, as in \"{field}[{index}].OPTION\"")
        if option is None:
            if field in data:
                raise GanzooError(f"{where}: {field} is both given a value and listed in {NULL_KEY}")
            fields.add(field)
            continue
        if field not in COMPONENT_KINDS:
            raise GanzooError(f"{where}: {field!r} is a plain field with no options; write {NULL_KEY} = [\"{field}\"]")
        if is_list and index is None:
            raise GanzooError(f"{where}: name the callback by its place in the list, as in \"{field}[0].{option}\"")
        key = f"{field}[{index}]" if is_list else field
        options.setdefault(key, {})[option] = None
    return fields, options


def _split(key: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    """A component table, flat or in the JSON form, or a name: its name (``None``
    when not given) and its options."""
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict):
        raise GanzooError(f"{key}: expected a table with name = \"...\" and its options, got {value!r}")
    name = value.get("name")
    rest = {k: v for k, v in value.items() if k != "name"}
    if isinstance(rest.get("options"), dict):
        if len(rest) > 1:
            others = ", ".join(k for k in rest if k != "options")
            raise GanzooError(f"{key}: give the options either beside the name or in {key}.options, "
                              f"not both (beside it: {others})")
        rest = rest["options"]
    return name, dict(rest)


def _component(key: str, kind: str, value: Any, start: Component | None, nulls: Mapping[str, None],
               registry: Registry) -> Component:
    """The component of field ``key`` from its table and the starting one (the
    base's, else the field's default): same name or none merges, another replaces."""
    name, options = _split(key, value)
    for option in nulls:
        if option in options:
            raise GanzooError(f"{key}.{option} is both given a value and listed in {NULL_KEY}")
        options[option] = None
    if name is None:
        if start is None:
            raise GanzooError(f"{key}: no name; write name = \"<{singular(kind)} name>\" in [{key}] "
                              f"(see `ganzoo list {kind}`)")
        name = start.name
    return _checked(key, kind, name, options, start, registry)


def _checked(key: str, kind: str, name: Any, options: dict[str, Any], start: Component | None,
             registry: Registry) -> Component:
    try:
        factory = registry.factory(kind, name)
    except GanzooError as exc:
        raise GanzooError(f"{key}.name: {exc}") from None
    what = f"{singular(kind)} {name!r}"
    checked = {option: check_option(factory, option, v, f"{key}.{option}", what, KINDS[kind].inputs)
               for option, v in options.items()}
    inherited = dict(start.options) if start is not None and start.name == name else {}
    return Component(name, **{**inherited, **checked})


def _component_list(key: str, kind: str, value: Any, start: tuple[Component, ...] | None,
                    nulls: dict[str, dict[str, None]], registry: Registry) -> tuple[Component, ...]:
    if not isinstance(value, list):
        raise GanzooError(f"{key}: expected a list of {singular(kind)} tables ([[{key}]] with name = \"...\"), "
                          f"got {value!r}")
    unused = list(start or ())  # the n-th entry named X takes the options of the base's n-th X
    for path in [p for p in nulls if p.startswith(f"{key}[")]:
        if int(path[len(key) + 1:-1]) >= len(value):
            raise GanzooError(f"{NULL_KEY}: {path}: {key} lists {len(value)} {singular(kind)}(s)")
    out = []
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        name, options = _split(where, item)
        for option in nulls.pop(where, {}):
            if option in options:
                raise GanzooError(f"{where}.{option} is both given a value and listed in {NULL_KEY}")
            options[option] = None
        if name is None:
            raise GanzooError(f"{where}: no name; write name = \"<{singular(kind)} name>\" "
                              f"(see `ganzoo list {kind}`)")
        match = next((c for c in unused if c.name == name), None)
        if match is not None:
            unused.remove(match)
        out.append(_checked(where, kind, name, options, match, registry))
    return tuple(out)


# --------------------------------------------------------------------------- writing

def recipe_toml(recipe: Recipe) -> str:
    """``recipe`` as a TOML recipe file that :func:`read_recipe` reads back equal."""
    plain = recipe.to_dict()
    lines: list[str] = []
    empty: list[str] = []  # empty lists of components, after the plain fields
    nulls: list[str] = []
    tables: list[str] = []
    order = [*_FIRST, *(k for k in plain if k not in _FIRST)]
    for key in order:
        value = plain[key]
        if key in COMPONENT_KINDS:
            if value is None:
                if _default(key) is not None:
                    nulls.append(key)
            elif isinstance(value, list):
                if not value:
                    empty.append(f"{key} = []")
                for i, item in enumerate(value):
                    tables.append(_table(f"[[{key}]]", f"{key}[{i}]", item, nulls))
            else:
                tables.append(_table(f"[{key}]", key, value, nulls))
        elif value is None:
            if _default(key) is not None:
                nulls.append(key)
        else:
            lines.append(f"{key} = {_value(value, key)}")
    lines.extend(empty)
    if nulls:  # fields first, then options, each in the order written
        nulls.sort(key=lambda path: "." in path)
        lines.append(f"{NULL_KEY} = {_value(nulls, NULL_KEY)}")
    return "\n".join([_header(recipe), *lines, *tables]) + "\n"


def _header(recipe: Recipe) -> str:
    """``# ganzoo recipe NAME: description`` on one line (a comment holds no control characters)."""
    line = f"{recipe.name}: {recipe.description}" if recipe.description else recipe.name
    text = "".join(" " if ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) < 0xE000 else c for c in line)
    return f"# ganzoo recipe {' '.join(text.split())}"


def _table(header: str, key: str, component: Mapping[str, Any], nulls: list[str]) -> str:
    lines = ["", header, f"name = {_value(component['name'], f'{key}.name')}"]
    options = component["options"]
    written = {k: v for k, v in options.items() if v is not None}
    nulls.extend(f"{key}.{k}" for k, v in options.items() if v is None)
    if "name" in options or "options" in options:  # the flat layout would misread them: the JSON form
        lines.append(f"options = {_value(written, f'{key}.options')}")
    else:
        lines.extend(f"{_key(k)} = {_value(v, f'{key}.{k}')}" for k, v in written.items())
    return "\n".join(lines)


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else _string(key, key)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text: str, where: str) -> str:
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04X}")
        elif 0xD800 <= ord(c) < 0xE000:
            raise GanzooError(f"{where}: a lone surrogate {c!r} cannot be written as TOML")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _value(value: Any, where: str) -> str:
    """One TOML value: a string, boolean, integer, float, array or inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value, where)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(str(k))} = {_value(v, f'{where}.{k}')}" for k, v in value.items())
        return "{" + (f" {items} " if items else "") + "}"
    if value is None:
        raise GanzooError(f"{where}: TOML has no null, and a null inside a list or table cannot be "
                          f"listed in {NULL_KEY}")
    raise GanzooError(f"{where}: a {type(value).__name__} cannot be written as TOML")
