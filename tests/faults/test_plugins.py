"""A plugin can only break itself.

Each test installs a real distribution (a module plus a ``*.dist-info`` folder
found by importlib.metadata) on ``PYTHONPATH`` and runs the installed ``ganzoo``
command. Whatever goes wrong inside the bad plugin -- at import, in a hook, in
what it registers, a name that is already taken -- costs one warning line naming
its distribution and ``GANZOO_DISABLE_PLUGINS=badname``; every command keeps
working, and in a clash the built-in keeps its name.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

DIST, PLUGIN, MODULE = "bad-dist", "badname", "bad_module"
DISABLE = f"GANZOO_DISABLE_PLUGINS={PLUGIN}"

HEADER = """
    import sys
    import ganzoo
    from ganzoo import Component, Recipe, hookimpl

    class Gen:
        '''A generator factory that is never built.'''
"""

# What the bad plugin does -> (its module source, whether it is dropped as failed).
FAILURES = {
    "import raises": ("raise RuntimeError('bad import')", True),
    "import calls sys.exit()": ("sys.exit(3)", True),
    "a hook raises": ("""
        @hookimpl
        def register_generators(register):
            register("badname-gen", Gen)

        @hookimpl
        def register_losses(register):
            raise RuntimeError("bad hook")
    """, True),
    "a hook raises SystemExit": ("""
        @hookimpl
        def register_generators(register):
            register("badname-gen", Gen)

        @hookimpl
        def register_datasets(register):
            sys.exit("bad exit")
    """, True),
    "a recipe that is a dict": ("""
        @hookimpl
        def register_generators(register):
            register("badname-gen", Gen)

        @hookimpl
        def register_recipes(register):
            register("badname-recipe", {"generator": "mlp"})
    """, True),
    "a generator that is not callable": ("""
        @hookimpl
        def register_generators(register):
            register("badname-gen", Gen)
            register("badname-number", 42)
    """, True),
    "a generator named mlp": ("""
        @hookimpl
        def register_generators(register):
            register("mlp", Gen, "BAD generator")
            register("badname-gen", Gen)
    """, False),
    "a recipe named vanilla-mnist": ("""
        @hookimpl
        def register_generators(register):
            register("badname-gen", Gen)

        @hookimpl
        def register_recipes(register):
            register("vanilla-mnist", Recipe(dataset=Component("mnist"), generator=Component("no-such-generator"),
                                             discriminator=Component("mlp"), description="BAD recipe"))
    """, False),
}


def install(site: Path, dist: str, plugin: str, module: str, body: str) -> Path:
    """A distribution ``dist`` 0.1 whose ``ganzoo`` entry point ``plugin`` is ``module``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(HEADER) + textwrap.dedent(body))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[ganzoo]\n{plugin} = {module}\n")
    return site


def env_for(*sites: Path, **extra: str) -> dict[str, str]:
    path = [str(s) for s in sites] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    env = {"PYTHONPATH": os.pathsep.join(path), "COLUMNS": "250", **extra}
    if "GANZOO_DISABLE_PLUGINS" not in extra:
        env["GANZOO_DISABLE_PLUGINS"] = ""
    return env


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def about(stderr: str, plugin: str = PLUGIN) -> list[str]:
    """The stderr lines that are about ``plugin``."""
    return [line for line in lines(stderr) if repr(plugin) in line]


def rows(stdout: str, name: str) -> list[str]:
    """The table rows whose first column is ``name`` (a generator and a discriminator may share one)."""
    return [line for line in stdout.splitlines() if re.search(rf"│ {re.escape(name)} +│", line)]


def owners(stdout: str, name: str) -> set[str]:
    """The plugin column of every ``ganzoo list`` row for ``name``."""
    found = rows(stdout, name)
    assert found, f"{name} not listed:\n{stdout}"
    return {line.split("│")[2].strip() for line in found}


def assert_one_warning(result, dist: str = DIST, disable: str = DISABLE) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines(result.stderr)) == 1, result.stderr
    warning = lines(result.stderr)[0]
    assert dist in warning and disable in warning, warning
    return warning


@pytest.mark.parametrize("mode", list(FAILURES))
def test_a_bad_plugin_costs_one_warning_and_breaks_nothing_else(cli, tmp_path, mode):
    body, dropped = FAILURES[mode]
    site = install(tmp_path / "site", DIST, PLUGIN, MODULE, body)

    plugins = cli("plugins", env=env_for(site))
    warning = assert_one_warning(plugins)
    assert "GANZOO_DISABLE_PLUGINS=vanilla" not in warning
    assert "vanilla" in plugins.stdout and "dcgan" in plugins.stdout and "datasets" in plugins.stdout
    [bad_row] = rows(plugins.stdout, PLUGIN)
    assert DIST in bad_row
    assert ("failed" in bad_row) == dropped, bad_row

    listed = cli("list", env=env_for(site))
    assert assert_one_warning(listed) == warning
    for builtin in ("mlp", "dcgan", "mnist", "non-saturating", "vanilla-mnist", "dcgan-mnist"):
        assert owners(listed.stdout, builtin) <= {"vanilla", "dcgan", "datasets", "losses", "metrics"}, builtin
    assert "BAD" not in listed.stdout
    assert owners(listed.stdout, "mlp") == {"vanilla"}
    assert owners(listed.stdout, "vanilla-mnist") == {"vanilla"}
    # A failed plugin is dropped whole, even what it registered before failing;
    # a plugin that only lost a clash keeps its other components.
    assert ("badname-gen" in listed.stdout) == (not dropped)
    if not dropped:
        assert owners(listed.stdout, "badname-gen") == {PLUGIN}
        assert "only that entry is ignored" in warning

    silenced = cli("list", env=env_for(site, GANZOO_DISABLE_PLUGINS=PLUGIN))
    assert silenced.returncode == 0 and silenced.stderr.strip() == "", silenced.stderr
    assert "badname-gen" not in silenced.stdout


@pytest.mark.parametrize("mode", ["a generator named mlp", "a recipe named vanilla-mnist"])
def test_in_a_clash_with_a_builtin_the_builtin_keeps_its_name_and_runs(cli, tmp_path, data_dir, mode):
    site = install(tmp_path / "site", DIST, PLUGIN, MODULE, FAILURES[mode][0])
    run = cli("run", "vanilla-mnist", "--set", "steps=2", "--set", "batch_size=32",
              "--out", str(tmp_path / "run"), "--device", "cpu", env=env_for(site))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert len(about(run.stderr)) == 1, run.stderr
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()


def test_between_two_plugins_the_first_keeps_the_name(cli, tmp_path):
    # Two folders on PYTHONPATH: distributions are found in path order, so "first" registers first.
    first = install(tmp_path / "a", "first-dist", "first", "first_module", """
        @hookimpl
        def register_generators(register):
            register("shared-gen", Gen, "FIRST generator")
    """)
    second = install(tmp_path / "b", DIST, PLUGIN, MODULE, """
        @hookimpl
        def register_generators(register):
            register("shared-gen", Gen, "SECOND generator")
            register("badname-gen", Gen)

        @hookimpl
        def register_losses(register):
            register("badname-loss", Gen)
    """)
    listed = cli("list", env=env_for(first, second))
    warning = assert_one_warning(listed)
    assert "'shared-gen'" in warning and "'first'" in warning and "first-dist" in warning
    assert "GANZOO_DISABLE_PLUGINS=first" not in warning
    assert owners(listed.stdout, "shared-gen") == {"first"}
    assert "FIRST generator" in listed.stdout and "SECOND" not in listed.stdout
    assert owners(listed.stdout, "badname-gen") == {PLUGIN}
    assert owners(listed.stdout, "badname-loss") == {PLUGIN}
    assert owners(listed.stdout, "mlp") == {"vanilla"}

    plugins = cli("plugins", env=env_for(first, second))
    assert assert_one_warning(plugins) == warning
    assert "failed" not in plugins.stdout


def test_a_plugin_reusing_a_builtin_plugin_name_is_skipped_and_the_builtin_kept(cli, tmp_path):
    site = install(tmp_path / "site", DIST, "vanilla", MODULE, """
        @hookimpl
        def register_generators(register):
            register("mlp", Gen, "BAD generator")
    """)
    listed = cli("list", "generators", env=env_for(site))
    warning = assert_one_warning(listed, disable="uninstall")
    assert "GANZOO_DISABLE_PLUGINS=vanilla" not in warning
    assert owners(listed.stdout, "mlp") == {"vanilla"}
    assert "BAD" not in listed.stdout
