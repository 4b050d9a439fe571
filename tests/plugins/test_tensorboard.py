"""The tensorboard callback: what a recipe lists ends up in TensorBoard's own event files."""

import json
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import ganzoo
from ganzoo import Component, GanzooError
from ganzoo.cli import main

TINY = ["--set", "generator.hidden=[32]", "--set", "discriminator.hidden=[32]", "--set", "batch_size=16",
        "--device", "cpu"]


def _events(folder):
    events = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    return events


def test_a_run_logs_losses_evaluations_and_sample_grids(tmp_path):
    run = tmp_path / "run"
    assert main(["run", "dcgan-mnist", "--out", str(run), "--set", "generator.width=8",
                 "--set", "discriminator.width=8", "--set", "batch_size=16", "--device", "cpu",
                 "--set", "steps=6", "--set", "log_every=2", "--set", "eval_every=6", "--set", "eval_n=100",
                 "--set", 'eval_metrics=["fd"]', "--set", "callbacks=[tensorboard]",
                 "--set", "callbacks.tensorboard.images_every=3"]) == 0
    events = _events(run / "tensorboard")
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    d_loss = [(s.step, s.value) for s in events.Scalars("train/d_loss")]
    assert d_loss == [(m["step"], pytest.approx(m["d_loss"], rel=1e-6)) for m in logged if "d_loss" in m]
    assert [(s.step, round(s.value, 3)) for s in events.Scalars("eval/fd")] == \
        [(m["step"], round(m["eval_fd"], 3)) for m in logged if "eval_fd" in m]
    images = events.Images("samples")
    assert [i.step for i in images] == [3, 6]
    assert images[0].width > 28 * 4 and images[0].encoded_image_string[:4] == b"\x89PNG"


def test_resume_continues_the_same_series(tmp_path):
    run = tmp_path / "run"
    base = ["--set", "steps=4", "--set", "log_every=2", "--set", "callbacks=[tensorboard]"]
    assert main(["run", "vanilla-mnist", "--out", str(run), *TINY, *base]) == 0
    assert main(["run", "--resume", str(run / "checkpoints" / "last.pt"), "--set", "steps=8"]) == 0
    steps = [s.step for s in _events(run / "tensorboard").Scalars("train/g_loss")]
    assert steps == [2, 4, 6, 8]


def test_without_a_run_directory_it_asks_for_log_dir(tiny_recipe, tmp_path):
    recipe = tiny_recipe.replace(steps=2, callbacks=(Component("tensorboard"),))
    with pytest.raises(GanzooError, match="set its log_dir option"):
        ganzoo.build(recipe, device="cpu").fit()
    ganzoo.build(recipe.replace(callbacks=(Component("tensorboard", log_dir=str(tmp_path / "tb")),)),
                 device="cpu").fit()
    assert [s.step for s in _events(tmp_path / "tb").Scalars("train/d_loss")]


def test_without_the_package_it_is_one_line_before_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    monkeypatch.chdir(tmp_path)
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=2", "--set", "callbacks=[tensorboard]"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "ganzoo[tensorboard]"' in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
