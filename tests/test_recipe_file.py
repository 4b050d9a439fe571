"""Recipe files: TOML (flat component tables, ``base =`` derivation, ``null``) and a run's
``recipe.json``; every malformed file is one GanzooError line naming the path and key."""

from __future__ import annotations

import json
import math
import random
import tomllib
import types
from pathlib import Path

import pytest

import ganzoo
from ganzoo import Component, GanzooError, Recipe, hookimpl
from ganzoo.recipe_file import read_recipe, recipe_toml
from ganzoo.registry import Registry, default_registry


def write(tmp_path: Path, text: str | bytes, name: str = "my.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def fails(path: Path, registry=None) -> str:
    """The one-line message read_recipe raises for ``path``."""
    with pytest.raises(GanzooError) as info:
        read_recipe(path, registry)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(f"{path}: "), message
    return message


MINIMAL = """
[dataset]
name = "ring"
[generator]
name = "mlp"
latent_dim = 2
[discriminator]
name = "mlp"
"""


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("name", sorted(default_registry().entries("recipes")))
def test_every_registered_recipe_round_trips(tmp_path, name):
    recipe = ganzoo.get_recipe(name)
    text = recipe_toml(recipe)
    assert text.splitlines()[0] == f"# ganzoo recipe {name}: {recipe.description}"
    again = read_recipe(write(tmp_path, text, f"{name}.toml"))
    assert again.to_dict() == recipe.to_dict()


def test_emitted_toml_is_the_flat_layout(tmp_path):
    recipe = ganzoo.get_recipe("vanilla-mnist")
    parsed = tomllib.loads(recipe_toml(recipe))
    assert parsed == {
        "name": "vanilla-mnist",
        "description": "MLP GAN on MNIST (Keras tutorial model), a few minutes on a CPU",
        "batch_size": 64, "steps": 10000, "n_critic": 1, "g_steps": 1, "simultaneous": False, "seed": 0,
        "amp": False, "sync_batchnorm": False, "log_every": 50, "sample_every": 1000, "checkpoint_every": 5000, "eval_n": 5000,
        "callbacks": [],
        "null": ["epochs"],  # epochs' default is 1; steps decides the length here
        "dataset": {"name": "mnist"},
        "generator": {"name": "mlp", "latent_dim": 100, "hidden": [256, 512, 1024]},
        "discriminator": {"name": "mlp", "hidden": [512, 256]},
        "loss": {"name": "non-saturating"},
        "g_optim": {"name": "adam", "lr": 0.0002, "betas": [0.5, 0.999]},
        "d_optim": {"name": "adam", "lr": 0.0002, "betas": [0.5, 0.999]},
    }


def test_a_none_option_is_listed_in_null(tmp_path):
    recipe = ganzoo.get_recipe("gan-ring")
    parsed = tomllib.loads(recipe_toml(recipe))
    assert parsed["null"] == ["discriminator.init_range"]  # maxout's default is 0.005
    assert "init_range" not in parsed["discriminator"]
    assert "schedule" not in parsed and "eval_every" not in parsed and "steps" not in parsed  # None by default
    assert read_recipe(write(tmp_path, recipe_toml(recipe))).discriminator.options["init_range"] is None


@pytest.mark.parametrize("steps, epochs", [(500, None), (None, 3), (500, 7)])
def test_length_round_trips_in_either_unit(tmp_path, steps, epochs):
    recipe = ganzoo.get_recipe("vanilla-mnist").replace(steps=steps, epochs=epochs)
    again = read_recipe(write(tmp_path, recipe_toml(recipe)))
    assert (again.steps, again.epochs) == (steps, epochs)
    assert again.to_dict() == recipe.to_dict()


def test_strings_are_escaped(tmp_path):
    text = 'say "hi" \\ back\\slash\nnew line\ttab \x01\x7f ünïcødé ✓ 日本 \U0001f600 \'single\' """'
    recipe = ganzoo.get_recipe("vanilla-mnist").replace(description=text, name="odd.name+1")
    toml = recipe_toml(recipe)
    assert tomllib.loads(toml)["description"] == text
    header = toml.splitlines()[0]
    assert header.startswith("# ganzoo recipe odd.name+1: say \"hi\"") and "\x01" not in header
    assert read_recipe(write(tmp_path, toml)).to_dict() == recipe.to_dict()


def test_floats_round_trip_exactly(tmp_path):
    lrs = [0.1 + 0.2, 1 / 3, 1e-300, 5e-324, 1.7976931348623157e308, 2e-4, 123456789.123456789, 1e16]
    recipe = ganzoo.get_recipe("vanilla-mnist")
    for lr in lrs:
        r = recipe.replace(g_optim=recipe.g_optim.replace(lr=lr), d_ema=lr if 0 < lr <= 1 else None)
        again = read_recipe(write(tmp_path, recipe_toml(r)))
        assert again.g_optim.options["lr"] == lr and again.d_ema == r.d_ema
    # A component's options are checked only when it is built, so a recipe can hold
    # infinities and NaN: they are written as TOML's inf and nan.
    odd = recipe.replace(generator=recipe.generator.replace(up=math.inf, down=-math.inf, gone=math.nan))
    options = tomllib.loads(recipe_toml(odd))["generator"]
    assert options["up"] == math.inf and options["down"] == -math.inf and math.isnan(options["gone"])


def test_schedule_round_trips_and_a_none_in_a_list_cannot_be_written(tmp_path):
    recipe = ganzoo.get_recipe("goodfellow-mnist")
    assert tomllib.loads(recipe_toml(recipe))["schedule"]["name"] == "decay"
    bad = recipe.replace(generator=Component("mlp", hidden=[1, None]))
    with pytest.raises(GanzooError, match=r"generator\.hidden\[1\]"):
        recipe_toml(bad)


# A registry of the installed plugins plus a callback and a generator whose options the
# flat layout cannot hold (``name``, ``options``).
class Every:
    def __init__(self, every: int = 100, tag: str = "x", limit: float | None = 1.0) -> None: ...


def odd_generator(spec, name: str = "n", options: dict | None = None, width: int = 1): ...


@pytest.fixture(scope="module")
def registry() -> Registry:
    reg = Registry()
    reg.load_entrypoints()
    plugin = types.SimpleNamespace(
        register_callbacks=hookimpl(lambda register: register("every", Every)),
        register_generators=hookimpl(lambda register: register("odd", odd_generator)),
        register_recipes=hookimpl(lambda register: register("with-every", ganzoo.get_recipe("vanilla-mnist").replace(
            callbacks=(Component("every", every=5, tag="t"), Component("every", tag="u"))))),
    )
    reg.register(plugin, name="recipe-file-test")
    return reg


def test_callbacks_and_options_named_name_round_trip(tmp_path, registry):
    recipe = ganzoo.get_recipe("vanilla-mnist").replace(
        callbacks=(Component("every", every=5, limit=None), Component("every", tag="b")),
        generator=Component("odd", name="inner", options={"a": [1, 2], "b": "c"}, width=3),
    )
    text = recipe_toml(recipe)
    parsed = tomllib.loads(text)
    assert parsed["callbacks"] == [{"name": "every", "every": 5}, {"name": "every", "tag": "b"}]
    assert parsed["null"] == ["epochs", "callbacks[0].limit"]
    assert parsed["generator"] == {"name": "odd",
                                   "options": {"name": "inner", "options": {"a": [1, 2], "b": "c"}, "width": 3}}
    assert read_recipe(write(tmp_path, text), registry).to_dict() == recipe.to_dict()


# --------------------------------------------------------------------------- reading

def test_minimal_file_takes_the_defaults(tmp_path):
    recipe = read_recipe(str(write(tmp_path, MINIMAL + '[g_optim]\nlr = 1e-3\n')))
    assert recipe.generator == Component("mlp", latent_dim=2)
    assert recipe.epochs == 1 and recipe.batch_size == 64 and recipe.name == "custom"
    assert recipe.g_optim == Component("adam", lr=1e-3, betas=(0.5, 0.999))  # merged into the default
    assert recipe.d_optim == Recipe.__dataclass_fields__["d_optim"].default_factory()


def test_json_form_in_toml_and_names_as_strings(tmp_path):
    text = """
dataset = "ring"
loss = "minimax"
generator = {name = "mlp", options = {latent_dim = 2, hidden = [8]}}
[discriminator]
name = "mlp"
options = {hidden = [4]}
"""
    recipe = read_recipe(write(tmp_path, text))
    assert recipe.dataset == Component("ring") and recipe.loss == Component("minimax")
    assert recipe.generator == Component("mlp", latent_dim=2, hidden=[8])
    assert list(recipe.discriminator.options["hidden"]) == [4]


def test_options_are_typed_by_the_factory(tmp_path):
    recipe = read_recipe(write(tmp_path, MINIMAL + '[g_optim]\nlr = 1\n'))
    assert recipe.g_optim.options["lr"] == 1.0 and isinstance(recipe.g_optim.options["lr"], float)


def test_base_merges_same_name_options(tmp_path):
    text = """
base = "vanilla-mnist"
name = "wide"
batch_size = 32
[generator]
hidden = [512, 1024]
[d_optim]
name = "adam"
lr = 1e-3
"""
    base = ganzoo.get_recipe("vanilla-mnist")
    recipe = read_recipe(write(tmp_path, text))
    assert recipe.name == "wide" and recipe.batch_size == 32 and recipe.steps == base.steps
    assert recipe.generator == Component("mlp", latent_dim=100, hidden=[512, 1024])
    assert recipe.d_optim == Component("adam", lr=1e-3, betas=(0.5, 0.999))
    assert recipe.discriminator == base.discriminator and recipe.g_optim == base.g_optim
    assert recipe.replace(name=base.name, batch_size=64, generator=base.generator,
                          d_optim=base.d_optim).to_dict() == base.to_dict()


def test_base_component_with_another_name_is_replaced(tmp_path):
    text = 'base = "gan-ring"\nloss = "minimax"\n[discriminator]\nname = "mlp"\nhidden = [64]\n'
    recipe = read_recipe(write(tmp_path, text))
    assert recipe.discriminator == Component("mlp", hidden=[64])  # none of maxout's options
    assert recipe.loss == Component("minimax")
    assert recipe.generator == ganzoo.get_recipe("gan-ring").generator


def test_base_dotted_keys_and_null_turn_things_off(tmp_path):
    text = 'base = "goodfellow-mnist"\ngenerator.hidden = [100]\nnull = ["schedule", "generator.init_range"]\n'
    recipe = read_recipe(write(tmp_path, text))
    assert recipe.schedule is None
    assert recipe.generator.options["hidden"] == [100] and recipe.generator.options["init_range"] is None
    assert recipe.generator.options["prior"] == "uniform"


def test_base_epochs_alone_decide_the_length(tmp_path):
    assert ganzoo.get_recipe("vanilla-mnist").steps == 10000
    recipe = read_recipe(write(tmp_path, 'base = "vanilla-mnist"\nepochs = 2\n'))
    assert (recipe.steps, recipe.epochs) == (None, 2)
    recipe = read_recipe(write(tmp_path, 'base = "vanilla-mnist"\nepochs = 2\nsteps = 5\n'))
    assert (recipe.steps, recipe.epochs) == (5, 2)
    recipe = read_recipe(write(tmp_path, 'base = "dcgan-mnist"\nsteps = 5\n'))
    assert (recipe.steps, recipe.epochs) == (5, 25)


def test_base_callbacks_merge_by_name(tmp_path, registry):
    text = 'base = "with-every"\n[[callbacks]]\nname = "every"\nevery = 9\n'
    assert read_recipe(write(tmp_path, text), registry).callbacks == (Component("every", every=9, tag="t"),)
    text = 'base = "with-every"\ncallbacks = []\n'
    assert read_recipe(write(tmp_path, text), registry).callbacks == ()
    text = 'base = "with-every"\nnull = ["callbacks[0].limit"]\ncallbacks = ["every", {name = "every", tag = "v"}]\n'
    assert read_recipe(write(tmp_path, text), registry).callbacks == (
        Component("every", every=5, tag="t", limit=None), Component("every", tag="v"))  # the 2nd takes the 2nd


def test_run_recipe_json(tmp_path):
    for name in ("vanilla-mnist", "gan-ring", "goodfellow-mnist"):
        recipe = ganzoo.get_recipe(name)
        path = write(tmp_path, recipe.to_json(), "recipe.json")
        assert read_recipe(path).to_dict() == recipe.to_dict()
    legacy = json.loads(ganzoo.get_recipe("vanilla-mnist").to_json())
    del legacy["schedule"], legacy["callbacks"]
    legacy["lr_decay"] = 0.99
    recipe = read_recipe(write(tmp_path, json.dumps(legacy), "recipe.json"))
    assert recipe.schedule == Component("decay", lr_decay=0.99)


def test_uppercase_suffix_and_a_byte_order_mark(tmp_path):
    assert read_recipe(write(tmp_path, b"\xef\xbb\xbf" + MINIMAL.encode(), "R.TOML")).dataset.name == "ring"


# --------------------------------------------------------------------------- errors

ERRORS = [
    # (file text, substrings of the message after the path)
    ("stepz = 3\n" + MINIMAL, ["unknown recipe field 'stepz' (did you mean steps"]),
    (MINIMAL + "stepz = 3\n", ["discriminator.stepz: discriminator 'mlp' has no option 'stepz'"]),  # in the table
    (MINIMAL + "[generator.x]\n", ["generator.x", "has no option 'x'"]),
    (MINIMAL.replace("latent_dim = 2", "hidden = [512, -1]"),
     ["generator.hidden: expected a list of integers each at least 1", "[512, -1]"]),
    (MINIMAL.replace("latent_dim = 2", "hiden = [5]"), ["generator.hiden", "no option 'hiden'", "hidden"]),
    (MINIMAL.replace("latent_dim = 2", "latent_dim = true"), ["generator.latent_dim: expected an integer"]),
    (MINIMAL.replace('"ring"', '"rign"'), ["dataset.name: unknown dataset 'rign'", "ring"]),
    (MINIMAL.replace('name = "ring"', "name = 5"), ["dataset.name", "named by a string"]),
    (MINIMAL.replace('name = "ring"', ""), ["dataset: no name", "ganzoo list datasets"]),
    ("batch_size = 0\n" + MINIMAL, ["batch_size must be at least 1"]),
    ('batch_size = "x"\n' + MINIMAL, ["batch_size: expected an integer, got 'x'"]),
    ("epochs = 1.5\n" + MINIMAL, ["epochs: expected an integer"]),
    ("seed = -1\n" + MINIMAL, ["seed: expected an integer between 0"]),
    ("d_ema = 2.0\n" + MINIMAL, ["d_ema"]),
    ("simultaneous = true\nn_critic = 2\n" + MINIMAL, ["simultaneous", "n_critic"]),
    ("eval_metrics = []\n" + MINIMAL, ["eval_metrics is empty"]),
    ('name = "a/b"\n' + MINIMAL, ["recipe name 'a/b'"]),
    ('null = ["epochs"]\n' + MINIMAL, ["a recipe needs a length"]),
    ('null = ["batch_size"]\n' + MINIMAL, ["null: batch_size cannot be null"]),
    ('base = "vanilla-mnist"\nnull = ["generator"]\n', ["null: generator cannot be null"]),
    ('null = ["generator"]\n' + MINIMAL, ["null[0]: generator is both given a value and listed in null"]),
    ('null = ["epochz"]\n' + MINIMAL, ["null[0]: unknown recipe field 'epochz'", "epochs"]),
    ('null = "epochs"\n' + MINIMAL, ["null: expected a list of key paths"]),
    ("null = [3]\n" + MINIMAL, ["null[0]: expected a key path"]),
    ('null = ["batch_size.x"]\n' + MINIMAL, ["null[0]", "'batch_size' is a plain field"]),
    ('null = ["generator[0].x"]\n' + MINIMAL, ["null[0]", "generator is not a list"]),
    ('null = ["callbacks.x"]\n' + MINIMAL, ["null[0]", "callbacks[0].x"]),
    ('null = ["callbacks[0]"]\n' + MINIMAL, ["null[0]", "cannot be null"]),
    ('null = ["callbacks[2].x"]\n' + MINIMAL, ["null: callbacks[2]", "lists 0"]),
    ('null = ["generator.latent_dim"]\n' + MINIMAL, ["generator.latent_dim is both given a value and listed"]),
    ('null = ["generator.hidden"]\n' + MINIMAL, ["generator.hidden: expected a list of integers"]),
    ('null = ["steps"]\nsteps = 5\n' + MINIMAL, ["null[0]: steps is both given a value and listed in null"]),
    ('null = ["schedule", "schedule.min_lr"]\n' + MINIMAL, ["null: schedule is null"]),
    ('null = ["schedule.min_lr"]\n' + MINIMAL, ["schedule: no name", "ganzoo list schedules"]),
    ("base = 5\n", ["base: expected the name of a registered recipe, got 5"]),
    ('base = "vanila-mnist"\n', ["base: unknown recipe 'vanila-mnist'", "vanilla-mnist"]),
    ('base = "vanilla-mnist"\nsteps = 0\n', ["steps must be at least 1"]),
    ('base = "vanilla-mnist"\n[generator]\nname = "dcgan"\nhidden = [3]\n', ["generator.hidden", "no option"]),
    ("[dataset]\nname = \"ring\"\n", ["the recipe lacks [generator], [discriminator]", "base = \"NAME\""]),
    ("", ["the recipe lacks [dataset], [generator], [discriminator]"]),
    ("generator = 5\n", ["generator: expected a table with name"]),
    ("generator = [1, 2]\n", ["generator: expected a table"]),
    (MINIMAL + '[loss]\nname = "minimax"\nx = 1\noptions = {y = 2}\n', ["loss: give the options either"]),
    (MINIMAL + '[schedule]\nname = "decay"\nmin_lr = -1.0\n',
     ["schedule.min_lr: expected a finite number at least 0, got -1.0"]),
    ('callbacks = "every"\n' + MINIMAL, ["callbacks: expected a list of callback tables"]),
    ('callbacks = [5]\n' + MINIMAL, ["callbacks[0]: expected a table"]),
    ('callbacks = [{every = 3}]\n' + MINIMAL, ["callbacks[0]: no name"]),
    ('callbacks = ["tensorbord"]\n' + MINIMAL, ["callbacks[0].name: unknown callback 'tensorbord'"]),
    ('callbacks = [{name = [1]}]\n' + MINIMAL, ["callbacks[0].name", "named by a string"]),
    ('[[generator]]\nname = "mlp"\n', ["generator: expected a table"]),
    ("x = " + "[" * 5000 + "]" * 5000, []),  # tomllib's own limit, or ours
]


@pytest.mark.parametrize("text, expected", ERRORS)
def test_malformed_files_fail_with_one_line(tmp_path, text, expected):
    message = fails(write(tmp_path, text))
    for part in expected:
        assert part in message, message


def test_syntax_errors_name_the_line(tmp_path):
    message = fails(write(tmp_path, '# a recipe\nsteps = 3\nbatch_size = \n'))
    assert message.startswith(f"{tmp_path / 'my.toml'}: line 3: Invalid value (column")
    assert ": at the end of the file: Unterminated string" in fails(write(tmp_path, 'description = "abc'))
    message = fails(write(tmp_path, 'steps = 3\nsteps = 4\n'))
    assert ": line 2: " in message
    message = fails(write(tmp_path, '{"steps": 3,\n "epochs": }', "recipe.json"))
    assert ": line 2: Expecting value (column 12)" in message


def test_file_errors(tmp_path):
    assert fails(tmp_path / "absent.toml").endswith("absent.toml: no such file")
    (tmp_path / "dir.toml").mkdir()
    assert "is a directory" in fails(tmp_path / "dir.toml")
    assert "ends in .toml or .json, not '.yaml'" in fails(write(tmp_path, "steps: 3", "r.yaml"))
    assert "no suffix" in fails(write(tmp_path, "", "recipe"))
    message = fails(write(tmp_path, b"steps = 3\ndescription = \"\xff\"\n"))
    assert "line 2: not UTF-8 text (byte 0xff)" in message


@pytest.mark.parametrize("text, expected", [
    ("[1, 2]", "the top level must be an object of recipe fields, got a list"),
    ('"recipe"', "got a string"),
    ("null", "got null"),
    ('{"stepz": 3}', "unknown recipe field 'stepz'"),
    ('{"dataset": {"name": "ring", "options": 3}}', "dataset.options: dataset 'ring' has no option 'options'"),
    ('{"dataset": {"options": {}}}', "dataset: no name"),
    ('{"callbacks": [null]}', "callbacks[0]: expected a table"),
    ('{"dataset": {"name": "ring", "options": {"x": 1}}}', "dataset.x"),
    ('{"generator": {"name": null}}', "generator: no name"),
    ('{"base": "vanilla-mnist", "batch_size": NaN}', "batch_size: expected an integer, got nan"),
    ('{"base": "vanilla-mnist", "d_ema": Infinity}', "d_ema: expected a finite number"),
    ('{"base": "dcgan-mnist", "epochs": null}', "a recipe needs a length"),
    ('{"base": "vanilla-mnist", "batch_size": null}', "null: batch_size cannot be null"),
    ('{"base": "vanilla-mnist", "generator": {"name": "mlp", "options": {"hidden": null}}}', "generator.hidden"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ("", "line 1: Expecting value"),
])
def test_malformed_json(tmp_path, text, expected):
    message = fails(write(tmp_path, text, "recipe.json"))
    assert expected in message, message


def test_unknown_names_in_a_given_registry(tmp_path, registry):
    message = fails(write(tmp_path, MINIMAL + '[[callbacks]]\nname = "evry"\n'), registry)
    assert "callbacks[0].name: unknown callback 'evry' (did you mean every?)" in message
    message = fails(write(tmp_path, MINIMAL + '[[callbacks]]\nname = "every"\nevery = "often"\n'), registry)
    assert "callbacks[0].every: expected an integer, got 'often'" in message


# --------------------------------------------------------------------------- fuzz

VALID = recipe_toml(ganzoo.get_recipe("goodfellow-mnist").replace(callbacks=(Component("every", every=3),)))
JUNK = ['""', "0", "-1", "1.5", "true", "[]", "[1, -2]", '["a"]', "{}", '{name = 1}', "[[1], [2]]",
        "nan", "inf", "1e400", '"\\u00e9"', "9223372036854775808"]


def fuzz_cases() -> list[str]:
    rng = random.Random(0)
    lines = VALID.splitlines()
    cases = []
    for i, line in enumerate(lines):  # every value replaced by each kind of junk, in turn
        if " = " in line:
            key = line.split(" = ")[0]
            cases.append("\n".join([*lines[:i], f"{key} = {JUNK[i % len(JUNK)]}", *lines[i + 1:]]))
    for _ in range(40):  # truncations, dropped lines, swapped lines, stray characters
        cut = rng.randrange(len(VALID))
        cases.append(VALID[:cut])
        drop = rng.randrange(len(lines))
        cases.append("\n".join(lines[:drop] + lines[drop + 1:]))
        a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
        swapped = list(lines)
        swapped[a], swapped[b] = swapped[b], swapped[a]
        cases.append("\n".join(swapped))
        at = rng.randrange(len(VALID))
        cases.append(VALID[:at] + rng.choice("[]{}=\"'#.,\\\n\x00") + VALID[at:])
    return cases


def test_fuzz_never_a_traceback(tmp_path, registry):
    cases = fuzz_cases()
    assert len(cases) > 150
    outcomes = {"read": 0, "refused": 0}
    for i, text in enumerate(cases):
        for suffix in (".toml", ".json"):
            path = write(tmp_path, text if suffix == ".toml" else json.dumps(tomllib_or_text(text)),
                         f"case{i}{suffix}")
            try:
                recipe = read_recipe(path, registry)
            except GanzooError as exc:
                message = str(exc)
                assert message.startswith(f"{path}: ") and "\n" not in message, (text, message)
                outcomes["refused"] += 1
            else:
                assert isinstance(recipe, Recipe)
                outcomes["read"] += 1
    assert outcomes["read"] > 10 and outcomes["refused"] > 100, outcomes


def tomllib_or_text(text: str):
    """The case as JSON data when it parses as TOML (so the JSON path sees the same
    malformed values), else as a JSON string (a top level that is not an object)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text


def test_fuzz_random_bytes(tmp_path):
    rng = random.Random(1)
    for i in range(30):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        for suffix in (".toml", ".json"):
            fails(write(tmp_path, data, f"bytes{i}{suffix}"))
