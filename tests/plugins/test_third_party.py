"""Third-party plugins: installed distributions with a ``ganzoo`` entry point.

The fake distributions here are real ``*.dist-info`` folders on ``PYTHONPATH``,
found by importlib.metadata exactly as pip-installed ones are; the docs' example
plugin is really pip-installed into a fresh virtualenv.
"""

import json
import math
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import ganzoo

ROOT = Path(__file__).resolve().parents[2]


def make_distribution(site: Path, dist: str, module: str, source: str) -> None:
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[ganzoo]\n{module} = {module}\n")


HINGE = """
    import torch.nn.functional as F
    import ganzoo
    from ganzoo import generate, discriminate

    class Hinge(ganzoo.GANLoss):
        '''Hinge loss from a fake third-party package.'''
        def discriminator_loss(self, batch, G, D):
            fake = generate(G, len(batch), batch.y, batch.x.device)
            real_part = F.relu(1 - discriminate(D, batch.x)).mean()
            return real_part + F.relu(1 + discriminate(D, fake)).mean(), {"hinge_real": real_part.detach()}
        def generator_loss(self, batch, G, D):
            return -discriminate(D, generate(G, len(batch), batch.y, batch.x.device)).mean(), {}

    @ganzoo.hookimpl
    def register_losses(register):
        register("margin-hinge", Hinge)
"""

BROKEN = """
    import ganzoo
    import a_module_that_does_not_exist
"""


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    make_distribution(site, "ganzoo-hinge", "ganzoo_hinge", HINGE)
    make_distribution(site, "ganzoo-broken", "ganzoo_broken", BROKEN)
    return site


def env_with(site, **extra):
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), **extra}


def test_installed_plugin_components_are_listed_and_trainable(cli, site, tmp_path):
    result = cli("list", "losses", env=env_with(site))
    assert result.returncode == 0, result.stderr
    assert "margin-hinge" in result.stdout and "ganzoo_hinge" in result.stdout
    run = cli("run", "vanilla-mnist", "--set", "loss=margin-hinge", "--set", "steps=3", "--set", "batch_size=16",
              "--out", str(tmp_path / "run"), env=env_with(site))
    assert run.returncode == 0, run.stderr
    # The plugin's loss trained the run: its own logged value, finite losses, weights moved.
    (logged,) = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(math.isfinite(logged[k]) for k in ("d_loss", "g_loss", "hinge_real")) and logged["hinge_real"] >= 0
    state = ganzoo.checkpoint.load(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["recipe"]["loss"]["name"] == "margin-hinge"
    # The nets' initial weights, built here without the plugin: the loss takes no part in them.
    recipe = ganzoo.Recipe.from_dict(state["recipe"]).replace(loss=ganzoo.Component("non-saturating"))
    initial = ganzoo.build(recipe, device="cpu")
    for net in ("generator", "discriminator"):  # moved, by a few optimiser steps (not another init) from it
        moved = [(trained - p.detach()).abs().max().item()
                 for k, p in getattr(initial, net).named_parameters() for trained in [state[net][k]]]
        assert max(moved) > 0 and max(moved) < 1e-2, (net, max(moved))


def test_a_broken_plugin_costs_one_warning_line_and_nothing_else(cli, site):
    result = cli("list", "recipes", env=env_with(site))
    assert result.returncode == 0, result.stderr
    assert "vanilla-mnist" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, result.stderr
    assert "ganzoo_broken" in warnings[0] and "ganzoo-broken" in warnings[0]
    assert "a_module_that_does_not_exist" in warnings[0] and "GANZOO_DISABLE_PLUGINS" in warnings[0]

    plugins = cli("plugins", env=env_with(site))
    assert plugins.returncode == 0, plugins.stderr
    assert "failed:" in plugins.stdout and "ganzoo_broken" in plugins.stdout and "ganzoo_hinge" in plugins.stdout


def test_disabling_the_broken_plugin_silences_it(cli, site):
    result = cli("list", "losses", env=env_with(site, GANZOO_DISABLE_PLUGINS="ganzoo_broken"))
    assert result.returncode == 0 and result.stderr.strip() == ""
    assert "margin-hinge" in result.stdout


def install_example(tmp_path: Path, example: str) -> Path:
    """``examples/<example>`` pip-installed into a new virtualenv that sees this one's
    packages; returns that virtualenv's python."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    new_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
    # Reuse torch and ganzoo from the test environment instead of copying gigabytes.
    # addsitedir (not a bare path) so that the parent's own .pth files, e.g. an editable install, apply too.
    parent = sysconfig.get_paths()["purelib"]
    Path(new_site, "parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         str(ROOT / "examples" / example)],
        capture_output=True, text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return python


def test_the_docs_example_plugin_installs_with_pip_and_runs(tmp_path, data_dir):
    python = install_example(tmp_path, "ganzoo-lsgan")
    listed = subprocess.run([str(python), "-m", "ganzoo.cli", "list", "losses"], capture_output=True, text=True)
    assert "lsgan" in listed.stdout, listed.stderr
    run = subprocess.run(
        [str(python), "-m", "ganzoo.cli", "run", "lsgan-mnist", "--set", "steps=3", "--set", "batch_size=16",
         "--out", str(tmp_path / "run"), "--data-dir", str(data_dir)],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()
    # The environment the plugin was not installed into does not see it.
    here = subprocess.run([sys.executable, "-m", "ganzoo.cli", "list", "losses"], capture_output=True, text=True)
    assert here.returncode == 0, here.stderr
    assert "non-saturating" in here.stdout and "lsgan" not in here.stdout
