"""Bad ``ganzoo run`` input is one ``error:`` line and exit status 2, never a traceback.

The cases are generated, not hand-picked: from every field of :class:`ganzoo.Recipe`
and its type, and from every keyword option of the generator and discriminator
factories of five recipes as ``inspect.signature`` shows them (through the
wrappers' ``**options`` to the wrapped base or trunk). Which values are invalid
is decided here, per field and per option name, from what the value means
(``RECIPE_RANGES``, ``OPTION_RANGES``), never from what ganzoo answers, so a
value that is accepted but should not be fails here.

Each case runs in-process through ``ganzoo.cli.main`` in an empty working
directory, after a prefix that shrinks the run to one tiny step in case the bad
value is accepted; a few run through the installed command too.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
import typing
from collections import abc
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
import torch

import ganzoo
from ganzoo import Recipe
from ganzoo.recipe import COMPONENT_KINDS
from ganzoo.cli import main

FIELD_RECIPE = "vanilla-mnist"  # recipe-field cases are applied to this one
RECIPES = ("vanilla-mnist", "dcgan-mnist", "cgan-mnist", "mbd-ring", "ssgan-mnist-100", "acgan-mnist",
           "sngan-fashion-mnist", "wgan-gp-mnist")
COMPONENT_FIELDS = tuple(COMPONENT_KINDS)  # every field naming registered components

# Put before each bad value: should it be accepted, the run is one step of tiny networks.
TINY = {
    "vanilla-mnist": ["steps=1", "generator.hidden=[8]", "discriminator.hidden=[8]"],
    "dcgan-mnist": ["steps=1", "generator.width=4", "discriminator.width=4"],
    "cgan-mnist": ["steps=1", "generator.hidden=[8]", "discriminator.hidden=[8]"],
    "mbd-ring": ["steps=1", "dataset.n=1000", "generator.hidden=[8]", "discriminator.hidden=[8]"],
    "ssgan-mnist-100": ["steps=1", "eval_every=null", "generator.hidden=[8]", "discriminator.hidden=[8]"],
    **{name: ["steps=1", "batch_size=8", "generator.width=4", "discriminator.width=4"]
       for name in ("acgan-mnist", "sngan-fashion-mnist", "wgan-gp-mnist")},
}

# --------------------------------------------------------------------------- what values mean
# Out-of-range values per recipe field, from the field's meaning (see Recipe's docstring and
# callbacks.Schedule): counts and periods are at least 1; d_ema is a rate in (0, 1];
# g_ema is a decay of at least 0.5 and below 1 (below 0.5 it is a rate mistaken for a decay);
# lr_decay divides the rate each step so is >= 1; min_lr is a floor >= 0; final_momentum
# is a momentum in [0, 1); momentum_saturate is an epoch >= momentum_start (1); the seed
# is in [0, 2**63 - 1] (0 is valid). NaN and infinities are never a valid float setting.
AT_LEAST_1 = [-1, 0]
RECIPE_RANGES: dict[str, list[Any]] = {
    **{name: AT_LEAST_1 for name in ("batch_size", "steps", "epochs", "n_critic", "g_steps", "log_every",
                                     "sample_every", "checkpoint_every", "eval_every", "eval_n")},
    "seed": [-1, 2**63, 99999999999999999999999],
    "d_ema": [-1, 0, 2],
    "g_ema": [-1, 0, 1e-4, 0.4, 1, 2],
}

# The decay schedule's options: lr_decay divides the rate each step so is >= 1; min_lr
# is a floor >= 0; final_momentum is a momentum in [0, 1); momentum_saturate is an epoch
# >= momentum_start (1); linear_decay is (first, last) epochs with 0 <= first < last.
SCHEDULE_VALUES = {
    "lr_decay": [-1, 0, 0.5, "x", "NaN"], "min_lr": [-1, "x"], "final_momentum": [-1, 1, "x"],
    "momentum_saturate": [-1, 0], "linear_decay": [[2, 1], [3, 3], [-1, 5], [1.5, 2], [1], "x"],
}

# Out-of-range values per component option name, from what the option is: widths and
# counts are at least 1; probabilities (dropout, BatchNorm momentum) are in [0, 1);
# init_range / init_std and noise levels are spreads, never negative; init_batch is a
# number of samples (0: no data-dependent init); an auxiliary classifier's class_weight
# is a weight above 0 (0 would be no AC-GAN at all). A numeric option not named here fails
# the generation, so a new option gets a decision rather than no cases.
COUNT, RATE, SPREAD, SAMPLES = AT_LEAST_1, [-1, 1, 1.5], [-1], [-1]
OPTION_RANGES: dict[str, list[Any]] = {
    **{name: COUNT for name in ("latent_dim", "width", "kernels", "kernel_dim", "pieces", "hidden",
                                "z_hidden", "y_hidden", "x_hidden")},
    **{name: RATE for name in ("bn_momentum", "dropout", "input_dropout")},
    **{name: SPREAD for name in ("init_range", "init_std", "input_noise", "noise")},
    "init_batch": SAMPLES,
    "class_weight": [-1, 0],
}
NAMED = {"base": "generators", "trunk": "discriminators"}  # str options that name a component

NOT_NUMBERS = ["x", [1], True]  # a bare string, a list, a boolean
NOT_FINITE = ["NaN", "Infinity", "-Infinity"]  # JSON that Python parses to floats


def _raw(value: Any) -> str:
    """``value`` as typed after ``KEY=`` (JSON, except bare words and NaN/Infinity)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """The type under ``Annotated`` and ``... | None``, and whether ``None`` is allowed."""
    optional = False
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if get_origin(tp) in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            optional = optional or len(args) < len(get_args(tp))
            if len(args) == 1:
                tp = args[0]
                continue
        return tp, optional


def _is_sequence(tp: Any) -> bool:
    return tp in (list, tuple) or get_origin(tp) in (list, tuple, abc.Sequence)


def bad_values(name: str, annotation: Any, ranges: dict[str, list[Any]]) -> list[Any]:
    """Invalid values for an option or field called ``name`` of type ``annotation``."""
    tp, optional = _unwrap(annotation)
    nulls = [] if optional else [None]
    out_of_range = ranges.get(name)
    if tp is bool:
        return [2, "yes", *nulls]
    if tp is int:
        assert out_of_range is not None, f"decide the valid range of integer {name!r} in the ranges table"
        return [*out_of_range, 2.5, *NOT_NUMBERS, 1e400, *nulls]
    if tp is float:
        assert out_of_range is not None, f"decide the valid range of number {name!r} in the ranges table"
        return [*out_of_range, *NOT_NUMBERS, *NOT_FINITE, *nulls]
    if tp is str:
        return [3, [1], *nulls]
    if get_origin(tp) is Literal:
        return ["nope", 3, *nulls]
    if _is_sequence(tp):
        args = get_args(tp)
        fixed = get_origin(tp) is tuple and args and args[-1] is not Ellipsis
        item, _ = _unwrap(args[0]) if args else (Any, False)
        values: list[Any] = ["x", 3, True, *nulls]
        if item is int:
            values += [[2.5], [True], ["a"], [[1]]]
            if out_of_range is not None:
                values += [[v] for v in out_of_range] + [[512, v] for v in out_of_range]
        if item is str:
            values += [[1], [[1]]]
        if fixed:
            values += [list(range(1, len(args))), list(range(1, len(args) + 2))]  # one short, one long
        elif item is int and name in ranges:
            values.append([])  # widths: one or more
        return values
    raise AssertionError(f"no bad values known for {name!r} of type {annotation!r}; add them to bad_values")


# Beyond their types: values of the structured fields that break their rules.
EXTRA_FIELD_VALUES = {
    "eval_metrics": [["nope"], []],  # metric names; an empty list names none
}
COMPONENT_VALUES = ["nope-xyz", "", 3, [1], True, None, {"name": "mlp"}]


Case = tuple[str, str, list[str]]  # (id, recipe, arguments after the recipe and the tiny prefix)


def _set(recipe: str, item: str) -> Case:
    return (f"{recipe}:{item}", recipe, ["--set", item])


def field_cases() -> list[Case]:
    """A case for each bad value of each recipe field."""
    hints = typing.get_type_hints(Recipe, include_extras=True)
    cases = []
    for f in dataclasses.fields(Recipe):
        if f.name in COMPONENT_FIELDS:
            optional = type(None) in typing.get_args(hints[f.name])  # schedule=null: no schedule
            values = [v for v in COMPONENT_VALUES if not (optional and v is None)]
        else:
            values = bad_values(f.name, hints[f.name], RECIPE_RANGES) + EXTRA_FIELD_VALUES.get(f.name, [])
        cases += [_set(FIELD_RECIPE, f"{f.name}={_raw(value)}") for value in values]
    return cases


def _signature(factory) -> inspect.Signature:
    try:
        return inspect.signature(factory, eval_str=True)
    except (NameError, TypeError):
        return inspect.signature(factory)


def component_options(kind: str, component: ganzoo.Component) -> dict[str, Any]:
    """Keyword option -> annotation of ``component``'s factory; for a wrapper that passes
    ``**options`` on to the component its ``base``/``trunk`` names, that one's options too."""
    registry = ganzoo.default_registry()
    sig = _signature(registry.factory(kind, component.name))
    options = {n: p.annotation for n, p in sig.parameters.items()
               if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n not in ("spec", "self")}
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        for name, wrapped_kind in NAMED.items():
            if name in sig.parameters:
                inner = component.options.get(name, sig.parameters[name].default)
                for option, annotation in component_options(wrapped_kind, ganzoo.Component(inner)).items():
                    options.setdefault(option, annotation)
    return options


def option_cases() -> list[Case]:
    """A case for each bad value of each option of each recipe's generator and discriminator."""
    cases = []
    for recipe_name in RECIPES:
        recipe = ganzoo.get_recipe(recipe_name)
        for field, kind in (("generator", "generators"), ("discriminator", "discriminators")):
            for option, annotation in component_options(kind, getattr(recipe, field)).items():
                values = bad_values(option, annotation, OPTION_RANGES)
                if option in NAMED or option == "output":
                    values.append("nope")  # names no registered component / no output activation
                cases += [_set(recipe_name, f"{field}.{option}={_raw(value)}") for value in values]
            for option in ("widht", "hidden.x"):  # options the factory (and what it wraps) lacks
                cases.append(_set(recipe_name, f"{field}.{option}=3"))
    return cases


# The shapes of --set itself, a few component options beyond G and D, and the other
# arguments of `ganzoo run`.
SHAPES: list[Case] = [_set(FIELD_RECIPE, item) for item in (
    "steps", "=3", " =3", "", "stepz=3", "latent_dim=0", "STEPS=3", "steps.x=3", ".hidden=3",
    "generator.hidden=[512,-1]", "generator.hidden=[0]", "generator.hidden=[]", "generator.latent_dim=0",
    "steps=", "steps=1e2", "steps=10.0", 'steps="10"', "steps=[]", "steps={}", "steps=0x10",
    "generator.hidden=[512,", "dataset.split=nope", "dataset.stop=0", "dataset.start=-1", "dataset.value_range=[0]",
    "dataset.value_range=[1,0]", "dataset.download=2", "g_optim.lr=-1", "g_optim.lr=x", "g_optim.lr=NaN",
    "g_optim.betas=[0.5]", "g_optim.betas=[0.5,2]", "g_optim.momentum=0.9", "g_optim.foo=1",
    "d_optim.weight_decay=-1", "loss.nope=1", "batch_size=60001",
    # The losses' and the augmentation's options: R1's γ is a weight (≥ 0) and its interval a count (≥ 1);
    # DiffAugment's ratios are fractions of the side in [0, 1) and its policy names its transforms.
    "loss.r1_gamma=-1", "loss.r1_gamma=x", "loss.r1_every=0", "loss.r1_every=1.5", "augment.policy=color",
)]


def _arg(recipe: str, *args: str) -> Case:
    return (f"{recipe} {' '.join(args)}", recipe, list(args))


ARGS: list[Case] = [
    _arg(FIELD_RECIPE, "--seed", "99999999999999999999999"),
    _arg(FIELD_RECIPE, "--seed", str(2**63)),
    _arg(FIELD_RECIPE, "--seed", "-1"),
    _arg(FIELD_RECIPE, "--seed", "abc"),
    _arg(FIELD_RECIPE, "--seed", "1.5"),
    _arg(FIELD_RECIPE, "--device", "foo"),
    _arg(FIELD_RECIPE, "--device", "cuda:99"),
    _arg(FIELD_RECIPE, "--device", "cuda:-1"),
    _arg(FIELD_RECIPE, "--device", ""),
    _arg(FIELD_RECIPE, "--device", "CPU"),
    _arg(FIELD_RECIPE, "--device", "meta"),
    _arg(FIELD_RECIPE, "--device", "mps"),
    _arg(FIELD_RECIPE, "--device", "xpu"),
    _arg(FIELD_RECIPE, "--device", "ipu"),
    *[_arg(FIELD_RECIPE, "--nproc", value) for value in ("0", "-1", "x", "1.5", "")],
    *[_arg(FIELD_RECIPE, "--compile", value) for value in ("fast", "", "none", "DEFAULT")],
    _arg(FIELD_RECIPE, "--set", "eval_every=1", "--set", 'eval_metrics=["nope"]'),
    _arg(FIELD_RECIPE, "--set", "eval_every=1", "--set", "eval_metrics=[]"),
    _arg(FIELD_RECIPE, "--set", "eval_every=1", "--set", 'eval_metrics=["test-error"]'),
    _arg(FIELD_RECIPE, "--data-dir", "nodata", "--set", "dataset.download=false"),
    *[_arg(FIELD_RECIPE, "--set", "schedule=decay", "--set", f"schedule.{option}={_raw(value)}")
      for option, values in SCHEDULE_VALUES.items() for value in values],
    _arg(FIELD_RECIPE, "--set", "schedule.lr_decay=2"),  # no schedule to set an option of
    _arg(FIELD_RECIPE, "--set", "callbacks.nope.x=2"),
    *[_arg(FIELD_RECIPE, "--set", "loss=wgan-gp", "--set", f"loss.gp_weight={v}") for v in ("-1", "x", "NaN")],
    *[_arg(FIELD_RECIPE, "--set", "augment=diffaugment", "--set", item)
      for item in ("augment.policy=zoom", "augment.policy=", "augment.translation=1", "augment.cutout=-0.5",
                   "augment.cutout=x")],
    _arg("mbd-ring", "--set", "augment=diffaugment"),  # 2-d points are not images
    ("unknown recipe", "vanila-mnist", []),
    ("empty recipe name", "", []),
    ("empty recipe name with --set", "", ["--set", "steps=1"]),
]

GENERATED = field_cases() + option_cases()

# Devices this torch may support on another machine: there the case is not bad input.
UNSUPPORTED_HERE = {
    f"{FIELD_RECIPE} --device mps": not torch.backends.mps.is_available(),
    f"{FIELD_RECIPE} --device xpu": not (hasattr(torch, "xpu") and torch.xpu.is_available()),
}


def _params(cases: list[Case]):
    params = []
    for case_id, recipe, args in cases:
        marks = []
        if case_id in UNSUPPORTED_HERE:
            marks.append(pytest.mark.skipif(not UNSUPPORTED_HERE[case_id], reason="this device works here"))
        params.append(pytest.param(recipe, args, id=case_id, marks=marks))
    return params


def argv_for(recipe: str, args: list[str]) -> list[str]:
    """``ganzoo run`` for a case: its recipe, the tiny prefix, then the bad input."""
    argv = ["run", recipe]
    for item in TINY.get(recipe, []):
        argv += ["--set", item]
    return argv + args


def assert_one_error_line(code, out: str, err: str, tmp_path) -> None:
    lines = err.splitlines()
    assert "Traceback" not in err + out
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error:") and lines[0][len("error:"):].strip(), err
    assert list(tmp_path.iterdir()) == [], "bad input must leave nothing behind"


def _in_process(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_batch_is_generated():
    """The generation reaches every field and every recipe's G and D options."""
    assert len(GENERATED) > 500
    assert len({case_id for case_id, _, _ in GENERATED}) == len(GENERATED)
    fields = {case_id.split(":", 1)[1].split("=", 1)[0] for case_id, _, _ in field_cases()}
    assert fields == {f.name for f in dataclasses.fields(Recipe)}
    for recipe in RECIPES:
        for field in ("generator", "discriminator"):
            options = {cid.split(".", 1)[1].split("=")[0] for cid, r, _ in option_cases()
                       if r == recipe and cid.startswith(f"{recipe}:{field}.")}
            assert {"widht", "hidden.x"} < options, (recipe, field)
    # Through the wrappers' **options: the options of what they wrap.
    assert any(cid.startswith("cgan-mnist:generator.bn_momentum=") for cid, _, _ in GENERATED)
    assert any(cid.startswith("mbd-ring:discriminator.pieces=") for cid, _, _ in GENERATED)


@pytest.mark.parametrize("recipe, args", _params(GENERATED))
def test_generated_bad_value(recipe, args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_error_line(*_in_process(argv_for(recipe, args), capsys), tmp_path)


@pytest.mark.parametrize("recipe, args", _params(SHAPES + ARGS))
def test_bad_shape_or_argument(recipe, args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_error_line(*_in_process(argv_for(recipe, args), capsys), tmp_path)


def test_the_largest_seed_trains(capsys, tmp_path, monkeypatch):
    """Not bad input: the largest seed ``Seed`` accepts must train like any other."""
    monkeypatch.chdir(tmp_path)
    code, out, err = _in_process(argv_for(FIELD_RECIPE, ["--seed", str(2**63 - 1)]), capsys)
    assert code == 0, err


SUBPROCESS = [
    f"{FIELD_RECIPE}:steps=0",
    f"{FIELD_RECIPE}:seed=-1",
    "cgan-mnist:generator.hidden=[512,-1]",
    f"{FIELD_RECIPE} --set schedule=decay --set schedule.linear_decay=[2,1]",
    f"{FIELD_RECIPE} --seed 99999999999999999999999",
    f"{FIELD_RECIPE} --device foo",
]


@pytest.mark.parametrize("case_id", SUBPROCESS)
def test_installed_command(case_id, cli, tmp_path):
    cases = {cid: (recipe, args) for cid, recipe, args in GENERATED + SHAPES + ARGS}
    result = cli(*argv_for(*cases[case_id]), cwd=tmp_path, timeout=120)
    assert_one_error_line(result.returncode, result.stdout, result.stderr, tmp_path)


# Other commands, given a path that is not a checkpoint.
OTHER = [
    (["sample", "."], None),
    (["sample", "missing.pt"], None),
    (["eval", "missing.pt"], None),
    (["eval", "."], None),
    (["eval", "/"], None),
    (["run", "--resume", "."], None),
    (["sample", "missing.pt", "-n", "0"], None),
]


@pytest.mark.parametrize("argv", [pytest.param(a, id=" ".join(a), marks=[pytest.mark.xfail(strict=True, reason=r)]
                                               if r else []) for a, r in OTHER])
def test_other_commands(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_error_line(*_in_process(argv, capsys), tmp_path)
