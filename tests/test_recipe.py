"""Recipes are plain data; --set reaches every field with a typed check."""

import json

import pytest

import ganzoo
from ganzoo import Component, GanzooError, Recipe
from ganzoo.recipe import apply_overrides, parse_value


def lookup(kind, name):
    return ganzoo.default_registry().factory(kind, name)


@pytest.fixture
def recipe():
    return ganzoo.get_recipe("vanilla-mnist")


def test_json_round_trip_is_lossless(recipe):
    again = Recipe.from_dict(json.loads(recipe.to_json()))
    assert again.to_dict() == recipe.to_dict()
    assert again.generator.name == "mlp" and list(again.generator.options["hidden"]) == [256, 512, 1024]


def test_parse_value_reads_json_and_bare_strings():
    assert parse_value("200") == 200
    assert parse_value("[512, 512]") == [512, 512]
    assert parse_value("true") is True
    assert parse_value("null") is None and parse_value("None") is None
    assert parse_value("minimax") == "minimax"


def test_set_top_level_fields(recipe):
    r = apply_overrides(recipe, ["steps=200", "batch_size=128", "amp=true"], lookup)
    assert (r.steps, r.batch_size, r.amp) == (200, 128, True)


def test_set_epochs_makes_epochs_decide_the_length(recipe):
    r = apply_overrides(recipe, ["epochs=5"], lookup)
    assert (r.steps, r.epochs) == (None, 5)


def test_set_component_option_is_typed_from_the_factory_signature(recipe):
    r = apply_overrides(recipe, ["generator.hidden=[512,512]", "g_optim.lr=0.001"], lookup)
    assert tuple(r.generator.options["hidden"]) == (512, 512)
    assert r.g_optim.options["lr"] == 0.001
    assert r.g_optim.options["betas"] == (0.5, 0.999)  # untouched options stay


def test_set_int_widens_to_float_for_float_fields(recipe):
    r = apply_overrides(recipe, ["g_optim.lr=1"], lookup)
    assert r.g_optim.options["lr"] == 1.0 and isinstance(r.g_optim.options["lr"], float)


def test_set_component_name_replaces_it(recipe):
    r = apply_overrides(recipe, ["loss=minimax"], lookup)
    assert r.loss == Component("minimax")


@pytest.mark.parametrize(
    "override, message",
    [
        ("stepz=3", "unknown recipe field 'stepz' (did you mean steps"),
        ("steps=abc", "expected an integer or null, got 'abc'"),
        ("steps=2.5", "expected an integer"),
        ("amp=3", "expected true or false"),
        ("generator.hiden=[1]", "has no option 'hiden' (did you mean hidden"),
        ("generator.hidden=12", "expected a list of integers each at least 1 (one or more), got 12"),
        ("loss=minmax", "unknown loss 'minmax' (did you mean minimax"),
        ("steps", "expected KEY=VALUE"),
        ("batch_size.x=1", "plain field"),
        ("steps=0", "steps must be at least 1"),
        ("d_ema=2", "d_ema is a rate per step in (0, 1]"),
        ("d_ema=fast", "expected a finite number or null"),
        ("simultaneous=yes", "expected true or false"),
        ("g_steps=0", "g_steps must be at least 1"),
        ("g_steps=two", "expected an integer"),
    ],
)
def test_bad_overrides_name_the_problem(recipe, override, message):
    with pytest.raises(GanzooError) as info:
        apply_overrides(recipe, [override], lookup)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_simultaneous_updates_refuse_several_critic_steps(recipe):
    assert apply_overrides(recipe, ["simultaneous=true"], lookup).simultaneous is True
    with pytest.raises(GanzooError, match="one D update per G update; set n_critic=1 and g_steps=1 \\(got 5 and 1\\)"):
        apply_overrides(recipe, ["simultaneous=true", "n_critic=5"], lookup)


def test_recipe_needs_a_length():
    with pytest.raises(GanzooError, match="needs a length"):
        Recipe(Component("mnist"), Component("mlp"), Component("mlp"), steps=None, epochs=None)
