"""Typed options: what a factory's signature promises about its keyword options,
checked the same way for ``--set`` and for ``ganzoo.create``.

An option's annotation says its type (``int``, ``float``, ``Sequence[int]``,
``Literal[...]``, unions with ``None``); :data:`typing.Annotated` with a
:class:`Rule` adds a range. A plugin author annotates a factory's options with
the types below, and a bad value is refused with one line naming the option and
what it must be, before anything is built::

    def __init__(self, spec, latent_dim: PositiveInt = 100, hidden: Widths = (256, 512)): ...
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections import abc
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal, Mapping, Sequence, Union, get_args, get_origin

from .errors import GanzooError, did_you_mean


@dataclass(frozen=True)
class Rule:
    """``Annotated`` metadata: ``test(value)`` must hold; ``says`` completes
    "expected an integer ..." in the error (e.g. ``"at least 1"``)."""

    test: Callable[[Any], bool]
    says: str


PositiveInt = Annotated[int, Rule(lambda v: v >= 1, "at least 1")]
"""A count or a width: an integer of at least 1."""

PositiveFloat = Annotated[float, Rule(lambda v: v > 0, "above 0")]
"""A scale or a spread: a number above 0."""

NonNegativeInt = Annotated[int, Rule(lambda v: v >= 0, "at least 0")]
"""A count that may be zero (0 often means: off)."""

NonNegativeFloat = Annotated[float, Rule(lambda v: v >= 0, "at least 0")]
"""A noise level or a weight that may be off: a number of at least 0."""

Probability = Annotated[float, Rule(lambda v: 0 <= v < 1, "in [0, 1)")]
"""A rate such as dropout: a number from 0 up to (not including) 1."""

# The trainer derives its streams from the seed (seed + 1 for initialisation, one
# data order per epoch), and torch's generators take 64-bit seeds.
MAX_SEED = 2**63 - 1

Seed = Annotated[int, Rule(lambda v: 0 <= v <= MAX_SEED, f"between 0 and {MAX_SEED}")]
"""A random seed: an integer from 0 to 2**63 - 1."""

Widths = Annotated[Sequence[PositiveInt], Rule(lambda v: len(v) >= 1, "(one or more)")]
"""Layer widths: a non-empty list of integers of at least 1."""


def check_option(factory: Callable[..., Any], option: str, value: Any, where: str, what: str,
                 inputs: int = 0) -> Any:
    """``value`` checked against the annotation (else the default's type) of
    ``factory``'s keyword ``option``; an unknown option is an error listing the known.
    The first ``inputs`` parameters are what ganzoo passes positionally (the data
    spec, the data root...), whatever they are called, and are not options."""
    try:
        sig = inspect.signature(factory, eval_str=True)
    except (NameError, TypeError, ValueError):
        sig = inspect.signature(factory)
    params = {
        name: p
        for i, (name, p) in enumerate(sig.parameters.items())
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and not (i < inputs and p.kind is not p.KEYWORD_ONLY)
    }
    if option not in params:
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            return value
        choices = ", ".join(params) or "none"
        context = f"{where}: " if where != what else ""
        raise GanzooError(
            f"{context}{what} has no option {option!r}{did_you_mean(option, params)} (options: {choices})"
        )
    param = params[option]
    annotation = param.annotation
    if annotation is inspect.Parameter.empty and param.default is not inspect.Parameter.empty:
        annotation = type(param.default) if param.default is not None else Any
    return coerce(value, annotation, where if where != what else f"{what} option {option}")


def coerce(value: Any, annotation: Any, where: str) -> Any:
    """``value`` converted to ``annotation`` (ints widen to floats, lists to tuples),
    or a :class:`GanzooError` naming the expected type."""
    try:
        return _coerce(value, annotation)
    except (TypeError, ValueError):
        raise GanzooError(f"{where}: expected {_type_name(annotation)}, got {value!r}") from None


def _coerce(value: Any, tp: Any) -> Any:
    if get_origin(tp) is Annotated:
        value = _coerce(value, get_args(tp)[0])
        for rule in tp.__metadata__:
            if isinstance(rule, Rule) and not rule.test(value):
                raise ValueError
        return value
    if tp is Any or tp is inspect.Parameter.empty or isinstance(tp, (str, typing.TypeVar)):
        return value
    origin, args = get_origin(tp), get_args(tp)
    if origin is Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg)
            except (TypeError, ValueError):
                pass
        raise TypeError
    if origin is Literal:
        if value in args:
            return value
        raise ValueError
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise TypeError
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):  # JSON's NaN and Infinity: never a setting
                raise ValueError
            return float(value)
        raise TypeError
    if tp is str:
        if isinstance(value, str):
            return value
        raise TypeError
    if tp in (tuple, list) or origin in (tuple, list, abc.Sequence):
        if not isinstance(value, (list, tuple)):
            raise TypeError
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ValueError
            return tuple(_coerce(v, a) for v, a in zip(value, args))
        item = args[0] if args else Any
        items = [_coerce(v, item) for v in value]
        return tuple(items) if (tp is tuple or origin is tuple) else items
    if origin in (dict, Mapping) or tp is dict:
        if isinstance(value, dict):
            return value
        raise TypeError
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        raise TypeError
    return value


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "null"
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        rules = [r.says for r in tp.__metadata__ if isinstance(r, Rule)]
        return " ".join([_type_name(args[0]), *rules])
    if origin is Union or origin is types.UnionType:
        return " or ".join(_type_name(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (tuple, list, abc.Sequence) or tp in (tuple, list):
        return f"a list of {_plural(args[0]) if args else 'values'}"
    if tp is float:
        return "a finite number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    return getattr(tp, "__name__", str(tp))



def _plural(tp: Any) -> str:
    if get_origin(tp) is Annotated:
        rules = [r.says for r in tp.__metadata__ if isinstance(r, Rule)]
        return " ".join([_plural(get_args(tp)[0]), "each", *rules])
    return {int: "integers", float: "numbers", str: "strings", bool: "booleans"}.get(tp, "values")
