"""Registered losses beyond the 2014 pair: the hinge loss, against its definition
computed here on the same scores, and trained from the command line."""

import json

import torch

import ganzoo
from ganzoo import Batch, Component, checkpoint
from ganzoo.cli import main


class FixedScores(torch.nn.Module):
    """A 'discriminator' whose score of a sample is its first pixel (so the test knows every score)."""

    conditional = False

    def forward(self, x, y=None):
        return x.flatten(1)[:, :1] * 3


class FixedSamples(ganzoo.Generator):
    def __init__(self, samples):
        super().__init__()
        self.samples, self.latent_dim = samples, 1
        self.anchor = torch.nn.Parameter(torch.zeros(()))

    def forward(self, z, y=None):
        return self.samples[: len(z)] + self.anchor


def test_hinge_loss_is_the_margin_loss_of_d_and_the_negated_score_for_g():
    real = torch.tensor([[0.9], [0.1], [-0.5], [0.2]]).view(4, 1, 1, 1)
    fake = torch.tensor([[-0.8], [0.4], [0.0], [-0.2]]).view(4, 1, 1, 1)
    loss = ganzoo.create("losses", "hinge")
    d_loss, logs = loss.discriminator_loss(Batch(x=real), FixedSamples(fake), FixedScores())
    real_scores, fake_scores = [2.7, 0.3, -1.5, 0.6], [-2.4, 1.2, 0.0, -0.6]
    expected = (sum(max(0.0, 1 - s) for s in real_scores) / 4 + sum(max(0.0, 1 + s) for s in fake_scores) / 4)
    assert abs(float(d_loss.detach()) - expected) < 1e-6
    assert abs(float(logs["real_score"]) - sum(real_scores) / 4) < 1e-6
    assert "d_real" not in logs and "d_fake" not in logs  # scores, not probabilities
    g_loss, _ = loss.generator_loss(Batch(x=real), FixedSamples(fake), FixedScores())
    assert abs(float(g_loss.detach()) + sum(fake_scores) / 4) < 1e-6


def test_a_hinge_dcgan_trains_from_the_command_line(tmp_path):
    run = tmp_path / "run"
    assert main(["run", "dcgan-mnist", "--out", str(run), "--set", "loss=hinge", "--set", "steps=4",
                 "--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "batch_size=16",
                 "--set", "log_every=2", "--device", "cpu"]) == 0
    logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"d_loss", "g_loss", "real_score", "fake_score"} <= set(logs[-1])
    assert checkpoint.load(run / "checkpoints" / "last.pt")["recipe"]["loss"]["name"] == "hinge"
