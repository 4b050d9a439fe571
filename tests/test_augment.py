"""A recipe's augment field: every input of D augmented in training, real and
generated alike, never in evaluation; reproducible and resumed exactly."""

import json

import torch

from ganzoo import checkpoint
from ganzoo.augment import augment_inputs
from ganzoo.cli import main
from test_trainer import make_trainer


class Recorder(torch.nn.Module):
    conditional = False

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x, y=None):
        self.seen.append(x)
        return x.flatten(1).sum(1)


def test_d_sees_augmented_inputs_in_training_and_the_samples_themselves_in_evaluation():
    d, x = Recorder(), torch.rand(4, 1, 8, 8)
    handle = augment_inputs(d, lambda v: v + 1)
    d.train()(x)
    d.eval()(x)
    assert torch.equal(d.seen[0], x + 1) and torch.equal(d.seen[1], x)
    handle.remove()
    d.train()(x)
    assert torch.equal(d.seen[2], x)


def test_both_phases_augment_real_and_generated_batches(small_mnist):
    """Every call of D in a training step, by any loss, goes through the augmentation."""
    trainer = make_trainer(small_mnist, steps=1)
    calls = []
    augment_inputs(trainer.discriminator, lambda v: calls.append(len(v)) or v)
    trainer.fit()
    assert len(calls) == 3  # D's phase: real, generated; G's phase: generated


def test_an_augmented_dcgan_trains_and_resumes_exactly_from_the_command_line(tmp_path):
    args = ["--set", "augment=diffaugment", "--set", "generator.width=8", "--set", "discriminator.width=8",
            "--set", "batch_size=16", "--set", "log_every=1", "--device", "cpu"]
    assert main(["run", "dcgan-mnist", "--out", str(tmp_path / "once"), "--set", "steps=4", *args]) == 0
    assert main(["run", "dcgan-mnist", "--out", str(tmp_path / "twice"), "--set", "steps=2", *args]) == 0
    assert main(["run", "--resume", str(tmp_path / "twice" / "checkpoints" / "last.pt"), "--set", "steps=4"]) == 0
    assert main(["run", "dcgan-mnist", "--out", str(tmp_path / "plain"), "--set", "steps=4", *args[2:]]) == 0
    once, twice, plain = (checkpoint.load(tmp_path / r / "checkpoints" / "last.pt") for r in ("once", "twice", "plain"))
    assert once["recipe"]["augment"] == {"name": "diffaugment", "options": {}}
    assert all(torch.equal(v, twice["generator"][k]) for k, v in once["generator"].items())
    assert not all(torch.equal(v, plain["generator"][k]) for k, v in once["generator"].items())
    recipe = json.loads((tmp_path / "once" / "recipe.json").read_text())
    assert recipe["augment"]["name"] == "diffaugment"


def test_an_augmentation_that_cannot_take_the_data_is_one_line_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "gan-ring", "--out", str(out), "--set", "augment=diffaugment", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "diffaugment augments images" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert main(["run", "dcgan-mnist", "--out", str(out), "--set", "augment.policy=zoom", "--set", "augment=diffaugment"]) == 2
    assert main(["run", "dcgan-mnist", "--out", str(out), "--set", "augment=diffaugment",
                 "--set", "augment.policy=zoom"]) == 2
    assert "color, translation, cutout" in capsys.readouterr().err and not out.exists()
