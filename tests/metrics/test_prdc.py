"""Precision/recall and density/coverage on cases worked out by hand."""

import pytest
import torch

from ganzoo.metrics.prdc import density_coverage, precision_recall


def line(*xs):
    return torch.tensor([[float(x), 0.0] for x in xs])


def test_hand_computed_precision_and_recall():
    # Real points 0,1,2,3: with k=1 each ball has radius 1.
    real = line(0, 1, 2, 3)
    # Fakes 0.5 and 10 (radius 9.5 each, k=1): 0.5 is in a real ball, 10 is not.
    fake = line(0.5, 10)
    result = precision_recall(real, fake, k=1)
    assert result["precision"] == 0.5
    # Every real point lies within 9.5 of 0.5 or of 10.
    assert result["recall"] == 1.0


def test_hand_computed_density_and_coverage():
    real = line(0, 1, 2, 3)  # k=1 radii: 1, 1, 1, 1
    fake = line(0.5, 0.6, 10)
    result = density_coverage(real, fake, k=1)
    # 0.5 and 0.6 each lie in the balls of 0 and 1; 10 in none: (2 + 2 + 0) / (1 · 3).
    assert result["density"] == pytest.approx(4 / 3)
    # Balls of 0 and 1 hold a fake, those of 2 and 3 do not.
    assert result["coverage"] == 0.5


def test_a_collapsed_generator_has_precision_but_no_recall():
    torch.manual_seed(0)
    real = torch.randn(2000, 4)
    collapsed = real[:1] + 0.01 * torch.randn(2000, 4)
    pr, dc = precision_recall(real, collapsed), density_coverage(real, collapsed)
    assert pr["precision"] > 0.9 and pr["recall"] < 0.05 and dc["coverage"] < 0.05


def test_blocks_do_not_change_the_result(monkeypatch):
    torch.manual_seed(1)
    real, fake = torch.randn(700, 3), torch.randn(600, 3) + 0.3
    whole = {**precision_recall(real, fake), **density_coverage(real, fake)}
    monkeypatch.setattr("ganzoo.metrics.prdc.BLOCK", 64)
    assert {**precision_recall(real, fake), **density_coverage(real, fake)} == whole
