"""Mode counts on exact samples from the mixtures, and on collapsed ones."""

import math

import torch

import ganzoo
from ganzoo import Component
from ganzoo.metrics.modes import mode_metrics, triple_modes


def mixture(name, n=2500, **options):
    return ganzoo.load_dataset(Component(name, n=n, **options))


# In 2-d, P(‖noise‖ ≤ 3σ) = 1 − exp(−9/2) = 0.9889: "high quality" is never 100% of exact samples.
EXACT_HQ = 1 - math.exp(-4.5)


def test_exact_ring_samples_capture_all_8_modes():
    data = mixture("ring")
    result = mode_metrics(data.x, data.modes, data.mode_sigma)
    assert result["modes"] == 8 and result["modes_total"] == 8
    assert abs(result["high_quality"] - EXACT_HQ) < 0.01


def test_exact_grid_samples_capture_all_25_modes():
    data = mixture("grid")
    result = mode_metrics(data.x, data.modes, data.mode_sigma)
    assert result["modes"] == 25 and abs(result["high_quality"] - EXACT_HQ) < 0.01


def test_samples_from_one_mode_capture_one():
    data = mixture("grid")
    one = data.modes[7] + data.mode_sigma * torch.randn(2500, 2)
    assert mode_metrics(one, data.modes, data.mode_sigma)["modes"] == 1


def test_samples_between_modes_are_low_quality():
    data = mixture("ring")
    between = torch.zeros(100, 2)  # the ring's centre is 1 (= 100σ) from every mode
    result = mode_metrics(between, data.modes, data.mode_sigma)
    assert result["high_quality"] == 0 and result["modes"] == 0


def test_train_and_test_splits_differ_but_share_modes():
    train, test = mixture("ring", n=100), mixture("ring", n=100, split="test")
    assert not torch.equal(train.x, test.x) and torch.equal(train.modes, test.modes)


def test_triple_modes_and_kl_to_uniform():
    all_triples = torch.cartesian_prod(torch.arange(10), torch.arange(10), torch.arange(10))
    result = triple_modes(all_triples)
    assert result["modes"] == 1000 and abs(result["kl_uniform"]) < 1e-12
    one = torch.zeros(50, 3, dtype=torch.long)
    assert triple_modes(one)["modes"] == 1 and abs(triple_modes(one)["kl_uniform"] - torch.log(torch.tensor(1000.0))) < 1e-6
