"""Plugins register components by name; lookups fail with close matches."""

import types

import pytest

import ganzoo
from ganzoo import GanzooError, hookimpl
from ganzoo.registry import KINDS, Registry


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


def test_duplicate_names_are_an_error_naming_both_plugins(registry):
    registry.register(make_plugin(generators={"mlp": object}), name="copycat")
    with pytest.raises(GanzooError) as info:
        registry.entries("generators")
    assert "'vanilla'" in str(info.value) and "'copycat'" in str(info.value)


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
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "vanilla,dcgan,conditional,semisupervised")
    reg = Registry()
    reg.load_entrypoints()
    assert reg.entries("generators") == {} and "mnist" in reg.entries("datasets")


def test_every_kind_is_listable():
    reg = ganzoo.default_registry()
    for kind in KINDS + ("optimizers",):
        assert isinstance(reg.entries(kind), dict)
    assert reg.get("optimizers", "adam").plugin == "torch"
