"""Every hook is documented, in its docstring and in the plugin author's docs page."""

import inspect
from pathlib import Path

from ganzoo import hookspecs
from ganzoo.kinds import KINDS

DOCS = Path(__file__).resolve().parents[1] / "docs"
HOOKS = [name for name, f in vars(hookspecs).items() if name.startswith("register_") and callable(f)]


def test_there_is_a_hook_per_component_kind():
    assert set(HOOKS) == {kind.hook for kind in KINDS.values()}


def test_every_hook_has_a_docstring_naming_its_register_call():
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "register(" in doc, name


def test_every_hook_is_documented_in_the_plugin_guide():
    guide = (DOCS / "writing-plugins.md").read_text()
    for name in HOOKS:
        assert f"### `{name}`" in guide, f"{name} has no section in docs/writing-plugins.md"
