"""Plugins register components by name; lookups fail with close matches."""

import re
import types
from pathlib import Path

import pytest

import ganzoo
from ganzoo import GanzooError, hookimpl
from ganzoo.kinds import KINDS
from ganzoo.registry import Registry


def make_plugin(**hooks):
    """A plugin object whose hook implementations register the given (kind -> {name: obj})."""
    plugin = types.SimpleNamespace()
    for kind, items in hooks.items():
        def impl(register, _items=items):
            for name, obj in _items.items():
                register(name, obj)
        impl.__name__ = f"register_{kind}"
        setattr(plugin, f"register_{kind}", hookimpl(impl))
    return plugin


def test_builtins_are_registered_through_entry_points():
    reg = ganzoo.default_registry()
    plugins = {info.name: info for info in reg.plugins()}
    assert plugins["vanilla"].distribution == "ganzoo"
    assert "mlp" in plugins["vanilla"].registers["generators"]
    assert {"mnist", "fashion-mnist"} <= set(plugins["datasets"].registers["datasets"])
    assert reg.get("recipes", "vanilla-mnist").plugin == "vanilla"


def test_a_registered_plugin_adds_components_and_unregistering_removes_them(registry):
    def hinge_factory():
        """Hinge loss for tests."""
    registry.register(make_plugin(losses={"test-hinge": hinge_factory}), name="test-hinge-plugin")
    entry = registry.get("losses", "test-hinge")
    assert (entry.plugin, entry.description, entry.obj) == ("test-hinge-plugin", "Hinge loss for tests.", hinge_factory)
    registry.unregister("test-hinge-plugin")
    with pytest.raises(GanzooError, match="unknown loss 'test-hinge'"):
        registry.get("losses", "test-hinge")


def test_unknown_names_suggest_close_matches():
    with pytest.raises(GanzooError) as info:
        ganzoo.default_registry().get("datasets", "minst")
    assert "did you mean mnist" in str(info.value)
    assert "ganzoo list datasets" in str(info.value)


def test_a_duplicate_name_is_kept_by_the_builtin_and_costs_the_other_plugin_only_that_entry(registry, caplog):
    def spare():
        """Spare generator."""
    registry.register(make_plugin(generators={"mlp": spare, "copycat-gen": spare}), name="copycat")
    assert registry.get("generators", "mlp").plugin == "vanilla"
    assert registry.get("generators", "copycat-gen").plugin == "copycat"
    warnings = [r.getMessage() for r in caplog.records if "'copycat'" in r.getMessage()]
    assert len(warnings) == 1 and "generator 'mlp'" in warnings[0] and "'vanilla'" in warnings[0]
    assert "GANZOO_DISABLE_PLUGINS=vanilla" not in warnings[0]
    registry.entries("generators")  # re-collected after the register below: no second warning
    registry.register(make_plugin(losses={"copycat-loss": spare}), name="copycat-2")
    registry.entries("losses")
    assert len([r for r in caplog.records if "'copycat'" in r.getMessage()]) == 1


def test_the_builtin_keeps_its_name_whichever_loads_first(caplog):
    reg = Registry()
    reg.register(make_plugin(generators={"mlp": dict}), name="early")
    reg.load_entrypoints()
    assert reg.get("generators", "mlp").plugin == "vanilla"
    assert any("'early'" in r.getMessage() and "'mlp'" in r.getMessage() for r in caplog.records)


def test_between_two_other_plugins_the_first_registered_keeps_the_name():
    reg = Registry()
    reg.register(make_plugin(losses={"shared": dict}), name="one")
    reg.register(make_plugin(losses={"shared": list, "own": set}), name="two")
    assert reg.get("losses", "shared").obj is dict
    assert reg.get("losses", "own").plugin == "two"
    assert not reg.failed


@pytest.mark.parametrize("kind, name, obj, error", [
    ("recipes", "as-dict", {"generator": "mlp"}, "registered recipe 'as-dict' as dict, not a ganzoo.Recipe"),
    ("generators", "number", 42, "registered generator 'number' as int, which is not callable"),
    ("losses", "has space", dict, "registered a loss named 'has space'"),
    ("datasets", "", dict, "registered a dataset named ''"),
    ("discriminators", 7, dict, "registered a discriminator named 7"),
])
def test_an_invalid_registration_drops_the_whole_plugin(caplog, kind, name, obj, error):
    reg = Registry()
    hooks = {"generators": {"fine": dict}}
    hooks.setdefault(kind, {})[name] = obj
    reg.register(make_plugin(**hooks), name="invalid")
    assert all(e.plugin != "invalid" for k in KINDS for e in reg.entries(k).values())
    assert [info.name for info in reg.plugins()] == ["invalid"]
    assert reg.plugins()[0].error.startswith(error)
    assert len([r for r in caplog.records if "'invalid'" in r.getMessage()]) == 1


@pytest.mark.parametrize("exc", [SystemExit(3), GanzooError("nope"), RuntimeError("boom")])
def test_any_exception_in_a_hook_drops_the_plugin_with_one_warning(caplog, exc):
    reg = Registry()
    reg.register(make_plugin(generators={"fine": dict}), name="good")

    def register_losses(register):
        register("half", dict)
        raise exc

    plugin = make_plugin(generators={"early": dict})
    plugin.register_losses = hookimpl(register_losses)
    reg.register(plugin, name="buggy")
    assert set(reg.entries("generators")) == {"fine"} and reg.entries("losses") == {}
    reg.register(make_plugin(), name="later")  # re-collection: no second warning, no second failure
    assert set(reg.entries("generators")) == {"fine"}
    assert [r.getMessage() for r in caplog.records if "'buggy'" in r.getMessage()] == [
        f"ganzoo: plugin 'buggy' (registered in code) failed in its register_losses hook and is skipped "
        f"({type(exc).__name__}: {exc}); fix or unregister it"
    ]
    assert [(info.name, info.error) for info in reg.plugins() if info.error] == [
        ("buggy", f"{type(exc).__name__}: {exc}")]
    reg.unregister("buggy")
    assert all(info.name != "buggy" for info in reg.plugins())


def test_an_invalid_registration_fails_the_plugin_even_if_its_hook_catches_the_error():
    reg = Registry()

    def register_generators(register):
        register("fine", dict)
        try:
            register("not fine", dict)
        except Exception:
            pass

    reg.register(types.SimpleNamespace(register_generators=hookimpl(register_generators)), name="sly")
    assert reg.entries("generators") == {}
    assert reg.plugins()[-1].error.startswith("registered a generator named 'not fine'")


def test_a_lookup_inside_a_hook_fails_only_that_plugin():
    reg = Registry()
    reg.register(make_plugin(generators={"fine": dict}), name="good")

    def register_losses(register):
        register("x", reg.get("generators", "fine").obj)

    reg.register(types.SimpleNamespace(register_losses=hookimpl(register_losses)), name="nosy")
    assert set(reg.entries("generators")) == {"fine"} and reg.entries("losses") == {}
    assert "cannot be looked up inside a register hook" in reg.plugins()[-1].error


def test_misspelt_hook_is_refused():
    reg = Registry()
    plugin = types.SimpleNamespace(register_generator=hookimpl(lambda register: None))
    with pytest.raises(GanzooError, match="unknown hook"):
        reg.register(plugin, name="typo")
    assert not reg.pm.has_plugin("typo")


def test_a_hook_that_raises_is_skipped_with_a_warning(caplog):
    reg = Registry()

    def register_losses(register):
        raise RuntimeError("boom")

    reg.register(types.SimpleNamespace(register_losses=hookimpl(register_losses)), name="buggy")
    assert reg.entries("losses") == {}
    assert any("buggy" in r.getMessage() and "boom" in r.getMessage() for r in caplog.records)
    assert reg.plugins()[-1].error == "RuntimeError: boom"


def test_disabled_plugins_are_not_loaded(monkeypatch):
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "vanilla, other")
    reg = Registry()
    reg.load_entrypoints()
    assert "mlp" not in reg.entries("generators") and "dcgan" in reg.entries("generators")
    assert "mnist" in reg.entries("datasets")
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "vanilla,dcgan,conditional,semisupervised,resnet")
    reg = Registry()
    reg.load_entrypoints()
    assert reg.entries("generators") == {} and "mnist" in reg.entries("datasets")


def test_every_kind_is_listable():
    reg = ganzoo.default_registry()
    for kind in KINDS:
        assert isinstance(reg.entries(kind), dict)
    assert reg.get("optimizers", "adam").plugin == "optim"


def test_disabling_a_plugin_removes_all_it_registers_and_the_others_still_work(cli, tmp_path, data_dir):
    # No plugin imports another, so vanilla's models and recipes go and nothing else breaks.
    env = {"GANZOO_DISABLE_PLUGINS": "vanilla"}
    listed = cli("list", env=env)
    assert listed.returncode == 0, listed.stderr
    names = {line.split("│")[1].strip() for line in listed.stdout.splitlines() if line.count("│") >= 3}
    assert not names & {"mlp", "maxout", "vanilla-mnist", "vanilla-fashion-mnist", "goodfellow-mnist"}
    assert {"dcgan", "dcgan-mnist", "non-saturating", "adam", "ssgan-mlp", "decay"} <= names
    run = cli("run", "dcgan-mnist", "--set", "steps=2", "--set", "generator.width=4", "--set", "discriminator.width=4",
              "--out", str(tmp_path / "r"), "--device", "cpu", env=env)
    assert run.returncode == 0, run.stderr
    gone = cli("run", "vanilla-mnist", "--out", str(tmp_path / "v"), env=env)
    assert gone.returncode == 2 and "unknown recipe 'vanilla-mnist'" in gone.stderr


def test_no_plugin_imports_another():
    plugins = Path(__file__).resolve().parents[1] / "plugins"
    packages = {p.name for p in plugins.iterdir() if p.is_dir() and p.name.startswith("ganzoo_")}
    for package in packages:
        for source in (plugins / package).glob("*.py"):
            imported = set(re.findall(r"^\s*(?:from|import)\s+(ganzoo_\w+)", source.read_text(), re.M))
            assert not imported - {package}, f"{source} imports {imported - {package}}"


def test_a_recipe_derived_from_another_plugins_recipe_keeps_everything_it_does_not_change():
    reg = Registry()
    reg.register(make_plugin(recipes={
        "grid-from-ring": ganzoo.Derived("gan-ring", dataset=ganzoo.Component("grid"), steps=100, epochs=None),
        "twice-derived": ganzoo.Derived("grid-from-ring", seed=7),
    }), name="derives")
    reg.load_entrypoints()
    ring, grid, twice = (reg.get("recipes", n).obj for n in ("gan-ring", "grid-from-ring", "twice-derived"))
    assert grid == ring.replace(dataset=ganzoo.Component("grid"), steps=100, epochs=None, name="grid-from-ring",
                                description="gan-ring with dataset, steps, epochs changed")
    assert twice == grid.replace(seed=7, name="twice-derived", description="grid-from-ring with seed changed")
    assert reg.get("recipes", "twice-derived").plugin == "derives"


@pytest.mark.parametrize("derived, error", [
    (ganzoo.Derived("gan-rnig"), "derived from 'gan-rnig', which no plugin registers (did you mean gan-ring"),
    (ganzoo.Derived("broken"), "derived from itself through broken -> broken"),
    (ganzoo.Derived("gan-ring", stpes=10), "unknown recipe field 'stpes'"),
])
def test_a_derived_recipe_that_cannot_be_made_is_dropped_alone_with_one_warning(caplog, derived, error):
    reg = Registry()
    reg.register(make_plugin(recipes={"broken": derived}, losses={"still-here": dict}), name="derives")
    reg.load_entrypoints()
    assert "broken" not in reg.entries("recipes") and "gan-ring" in reg.entries("recipes")
    assert "still-here" in reg.entries("losses")
    [warning] = [r.getMessage() for r in caplog.records if "'derives'" in r.getMessage()]
    assert "recipe 'broken'" in warning and error in warning


def test_each_derived_recipe_in_a_broken_chain_is_named_with_its_own_fault(caplog):
    reg = Registry()
    reg.register(make_plugin(recipes={"a": ganzoo.Derived("b"), "b": ganzoo.Derived("a"),
                                      "c": ganzoo.Derived("d"), "d": ganzoo.Derived("zzz")}), name="chains")
    reg.load_entrypoints()
    assert not {"a", "b", "c", "d"} & set(reg.entries("recipes"))
    warnings = {m.split("recipe ")[1].split(" ")[0]: m for r in caplog.records for m in [r.getMessage()]
                if "'chains'" in m}
    assert "derived from itself through a -> b -> a" in warnings["'b'"]
    assert "derived from 'b', which was dropped" in warnings["'a'"]
    assert "derived from 'zzz', which no plugin registers" in warnings["'d'"]
    assert "derived from 'd', which was dropped" in warnings["'c'"]


def test_a_test_can_register_a_plugin_that_is_installed_already():
    import ganzoo_losses

    reg = Registry()
    reg.load_entrypoints()
    with pytest.raises(GanzooError, match="'losses' is already registered"):
        reg.register(ganzoo_losses, name="mine")
    with reg.registered(ganzoo_losses, name="mine") as name:  # installed: left as it is
        assert name == "losses" and "minimax" in reg.entries("losses")
    assert "minimax" in reg.entries("losses")
    plugin = make_plugin(losses={"temporary": dict})
    with reg.registered(plugin, name="mine") as name:
        assert name == "mine" and "temporary" in reg.entries("losses")
    assert "temporary" not in reg.entries("losses")
