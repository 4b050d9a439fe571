"""A recipe's g_ema: a moving average of G with that decay, kept through training,
saved, and sampled from by the grids, evaluation, `ganzoo sample` and `ganzoo eval`."""

import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import Component, GanzooError, checkpoint
from ganzoo.callbacks import EMA, Callback, SampleGrid, average_of, save_grid
from ganzoo.cli import main
from ganzoo.metrics.classifier import save_cached

TINY = ["--set", "generator.hidden=[64,128]", "--set", "generator.latent_dim=32",
        "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=32", "--device", "cpu"]


class Weights(Callback):
    """Records G's live weights after every step."""

    def __init__(self):
        self.after = []

    def on_step_end(self, trainer):
        self.after.append({k: v.detach().clone() for k, v in trainer.generator.named_parameters()})


def test_g_ema_is_the_average_with_that_decay_of_gs_weights_after_every_step(tiny_recipe, data_dir):
    recorder = Weights()
    trainer = ganzoo.build(tiny_recipe.replace(steps=5, g_ema=0.8), data_dir=data_dir, device="cpu",
                           callbacks=[recorder])
    start = {k: v.detach().clone() for k, v in trainer.generator.named_parameters()}
    trainer.fit()
    average = dict(average_of(trainer, "generator").named_parameters())
    for name, expected in start.items():
        for weights in recorder.after:  # a_t = 0.8 a_{t-1} + 0.2 w_t, from a_0 = the initial weights
            expected = 0.8 * expected + 0.2 * weights[name]
        assert torch.allclose(average[name], expected, atol=1e-6), name
        assert not torch.allclose(average[name], recorder.after[-1][name])


@pytest.mark.parametrize("bad", [0, 1e-4, 0.4, 1, 1.5, -0.1])
def test_g_ema_is_a_decay_between_zero_and_one(bad):
    with pytest.raises(GanzooError, match="g_ema is the average's decay"):
        ganzoo.get_recipe("vanilla-mnist").replace(g_ema=bad)


def test_sample_and_eval_use_the_average_and_say_so(tmp_path, capsys, mnist_classifier):
    out = tmp_path / "run"
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=6", "--set", "g_ema=0.5", "--out", str(out)]) == 0
    ckpt = out / "checkpoints" / "last.pt"
    assert "ema-generator" in checkpoint.load(ckpt)["callbacks"]
    capsys.readouterr()
    averaged, trained = tmp_path / "averaged.png", tmp_path / "trained.png"
    assert main(["sample", str(ckpt), "-o", str(averaged), "--seed", "3"]) == 0
    assert "moving average of G (g_ema 0.5)" in capsys.readouterr().out
    assert main(["sample", str(ckpt), "-o", str(trained), "--seed", "3", "--no-average"]) == 0
    assert "trained weights" in capsys.readouterr().out
    assert averaged.read_bytes() != trained.read_bytes()  # same seed, different weights

    save_cached("mnist", mnist_classifier, tmp_path / "cache")
    reports = {}
    for flag in ([], ["--no-average"]):
        report = tmp_path / f"eval{len(flag)}.json"
        assert main(["eval", str(ckpt), "--metrics", "fd", "-n", "500", "--cache-dir", str(tmp_path / "cache"),
                     "--json", str(report), *flag]) == 0
        reports[bool(flag)] = json.loads(report.read_text())
    assert reports[False]["generator"] == "moving average" and reports[True]["generator"] == "trained weights"
    assert reports[False]["metrics"]["fd"] != reports[True]["metrics"]["fd"]


def test_a_run_without_g_ema_samples_its_trained_weights_and_says_nothing_of_an_average(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=2", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sample", str(out / "checkpoints" / "last.pt"), "-o", str(tmp_path / "s.png")]) == 0
    assert "average" not in capsys.readouterr().out
    run = ganzoo.load_run(out / "checkpoints" / "last.pt")
    assert not run.has_average


def test_grids_during_training_are_drawn_from_the_average(tiny_recipe, data_dir, tmp_path):
    """The last grid of a g_ema run equals the average's samples of the grid's latents, not G's."""
    run = ganzoo.Run(tiny_recipe.replace(steps=4, g_ema=0.5, sample_every=4), tmp_path / "run",
                     data_dir=data_dir, device="cpu")
    trainer = run.fit()
    grid = next(cb for cb in trainer.callbacks if isinstance(cb, SampleGrid))
    with torch.no_grad():
        from_average = average_of(trainer, "generator")(grid.latents)
        from_live = trainer.generator.eval()(grid.latents)
    drawn = grid.last.read_bytes()
    assert drawn == save_grid(from_average, tmp_path / "average.png", nrow=grid.nrow).read_bytes()
    assert drawn != save_grid(from_live, tmp_path / "live.png", nrow=grid.nrow).read_bytes()


def test_the_average_resumes_exactly_and_never_takes_the_other_networks_average(tmp_path):
    args = [*TINY, "--set", "g_ema=0.9", "--set", "d_ema=0.01"]
    assert main(["run", "vanilla-mnist", "--out", str(tmp_path / "once"), "--set", "steps=4", *args]) == 0
    assert main(["run", "vanilla-mnist", "--out", str(tmp_path / "twice"), "--set", "steps=2", *args]) == 0
    assert main(["run", "--resume", str(tmp_path / "twice" / "checkpoints" / "last.pt"), "--set", "steps=4"]) == 0
    once, twice = (checkpoint.load(tmp_path / r / "checkpoints" / "last.pt")["callbacks"] for r in ("once", "twice"))
    for key in ("ema-generator", "ema-discriminator"):
        assert all(torch.equal(v, twice[key]["weights"][k]) for k, v in once[key]["weights"].items()), key
    average = EMA("generator", 0.1)
    average.load_state_dict(once["ema-discriminator"])  # what an earlier version's "EMA" key holds
    G = nn.Linear(2, 3)  # D's average would not even load into it
    average.on_train_start(SimpleNamespace(generator=G))
    assert torch.equal(average.model.weight, G.weight)  # it starts from G, ignoring D's state
