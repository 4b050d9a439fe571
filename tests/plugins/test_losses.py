"""Registered losses beyond the 2014 pair (hinge, WGAN-GP, relativistic) and the R1
penalty every score loss takes: each against its definition computed here, the
penalties with gradients written out by hand, and each trained from the command line."""

import json
import math

import pytest
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


class TanhCritic(torch.nn.Module):
    """D(x) = Σⱼ tanh((x W)ⱼ) on flattened x: its input gradient is written out by hand
    below, (1 − tanh²(xW)) Wᵀ, so the penalties are checked without autograd."""

    conditional = False

    def __init__(self, features=4, units=3):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(features, units, generator=torch.Generator().manual_seed(5)))

    def forward(self, x, y=None):
        return torch.tanh(x.flatten(1) @ self.w).sum(1)

    def gradient(self, x):
        return (1 - torch.tanh(x.flatten(1) @ self.w) ** 2) @ self.w.T


def _images(seed, n=6):
    return torch.randn(n, 1, 2, 2, generator=torch.Generator().manual_seed(seed))


def test_wgan_gp_is_the_score_gap_plus_lambda_times_the_penalty_at_random_interpolates():
    real, fake, critic = _images(1), _images(2), TanhCritic()
    loss = ganzoo.create("losses", ganzoo.Component("wgan-gp", gp_weight=10.0))
    torch.manual_seed(7)
    d_loss, logs = loss.discriminator_loss(Batch(x=real), FixedSamples(fake), critic)
    torch.manual_seed(7)
    torch.randn(len(real), 1)  # FixedSamples' latents come first
    eps = torch.rand(len(real), 1, 1, 1)  # then one ε per sample
    between = eps * real + (1 - eps) * fake
    with torch.no_grad():
        gp = float(((critic.gradient(between).norm(dim=1) - 1) ** 2).mean())
        gap = float(critic(real).mean() - critic(fake).mean())
    assert abs(float(logs["gp"]) - gp) < 1e-5 and gp > 0.01
    assert abs(float(logs["wasserstein"]) - gap) < 1e-5
    assert abs(float(d_loss.detach()) - (-gap + 10 * gp)) < 1e-4
    # The penalty is in D's graph: its gradient reaches the critic's weights.
    d_loss.backward()
    assert critic.w.grad is not None and float(critic.w.grad.abs().sum()) > 0
    g_loss, _ = loss.generator_loss(Batch(x=real), FixedSamples(fake), critic)
    with torch.no_grad():
        assert abs(float(g_loss) + float(critic(fake).mean())) < 1e-6


def test_r1_adds_half_gamma_times_the_squared_gradient_norm_on_real_data_every_kth_update():
    real, fake, critic = _images(3), _images(4), TanhCritic()
    plain = ganzoo.create("losses", "non-saturating")
    lazy = ganzoo.create("losses", ganzoo.Component("non-saturating", r1_gamma=2.0, r1_every=3))
    r1 = float((critic.gradient(real) ** 2).sum(1).mean())
    for update in range(7):
        base, _ = plain.discriminator_loss(Batch(x=real), FixedSamples(fake), critic)
        with_r1, logs = lazy.discriminator_loss(Batch(x=real), FixedSamples(fake), critic)
        if update % 3 == 0:  # updates 0, 3, 6: penalised, weighted by the interval
            assert abs(float(logs["r1"]) - r1) < 1e-5
            assert abs(float(with_r1 - base) - 0.5 * 2.0 * 3 * r1) < 1e-4
        else:
            assert "r1" not in logs and float(with_r1) == float(base)
    assert lazy.state_dict() == {"d_updates": 7}


def test_relativistic_average_loss_compares_each_score_with_the_other_batchs_mean():
    real = torch.tensor([0.9, 0.1, -0.5, 0.2]).view(4, 1, 1, 1)
    fake = torch.tensor([-0.8, 0.4, 0.0, -0.2]).view(4, 1, 1, 1)
    loss = ganzoo.create("losses", "relativistic")
    r, f = [2.7, 0.3, -1.5, 0.6], [-2.4, 1.2, 0.0, -0.6]
    mr, mf = sum(r) / 4, sum(f) / 4

    def sp(v):
        return math.log1p(math.exp(v))

    d_expected = sum(sp(-(a - mf)) for a in r) / 4 + sum(sp(b - mr) for b in f) / 4
    g_expected = sum(sp(-(b - mr)) for b in f) / 4 + sum(sp(a - mf) for a in r) / 4
    d_loss, _ = loss.discriminator_loss(Batch(x=real), FixedSamples(fake), FixedScores())
    g_loss, _ = loss.generator_loss(Batch(x=real), FixedSamples(fake), FixedScores())
    assert abs(float(d_loss.detach()) - d_expected) < 1e-5
    assert abs(float(g_loss.detach()) - g_expected) < 1e-5


@pytest.mark.parametrize("loss", ["wgan-gp", "relativistic"])
def test_each_loss_trains_a_dcgan_from_the_command_line(tmp_path, loss):
    run = tmp_path / "run"
    critic = ["--set", "discriminator.norm=none", "--set", "n_critic=2"] if loss == "wgan-gp" else []  # the README's
    assert main(["run", "dcgan-mnist", "--out", str(run), "--set", f"loss={loss}", "--set", "steps=4",
                 "--set", "generator.width=8", "--set", "discriminator.width=8", "--set", "batch_size=16",
                 "--set", "log_every=2", "--device", "cpu", *critic]) == 0
    logs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    if loss == "wgan-gp":
        assert checkpoint.load(run / "checkpoints" / "last.pt")["recipe"]["discriminator"]["options"]["norm"] is None
    expected = {"wasserstein", "gp"} if loss == "wgan-gp" else {"real_score", "fake_score"}
    assert expected <= set(logs[-1]) and all(math.isfinite(logs[-1][k]) for k in expected)


def test_lazy_r1_resumes_on_the_same_updates(tmp_path):
    """The loss's count of D updates is saved: 2 steps then a resume to 5 penalise the
    same updates (0 and 3) as 5 steps in one go, so the weights are equal."""
    common = ["--set", "loss.r1_gamma=10", "--set", "loss.r1_every=3", "--set", "generator.width=8",
              "--set", "discriminator.width=8", "--set", "batch_size=16", "--set", "log_every=1", "--device", "cpu"]
    assert main(["run", "dcgan-mnist", "--out", str(tmp_path / "once"), "--set", "steps=5", *common]) == 0
    assert main(["run", "dcgan-mnist", "--out", str(tmp_path / "twice"), "--set", "steps=2", *common]) == 0
    assert main(["run", "--resume", str(tmp_path / "twice" / "checkpoints" / "last.pt"), "--set", "steps=5"]) == 0
    once = checkpoint.load(tmp_path / "once" / "checkpoints" / "last.pt")
    twice = checkpoint.load(tmp_path / "twice" / "checkpoints" / "last.pt")
    assert once["loss"] == twice["loss"] == {"d_updates": 5}
    for key, value in once["discriminator"].items():
        assert torch.equal(value, twice["discriminator"][key]), key
    logs = [json.loads(line) for line in (tmp_path / "once" / "metrics.jsonl").read_text().splitlines()]
    assert [log["step"] for log in logs if "r1" in log] == [1, 4]
