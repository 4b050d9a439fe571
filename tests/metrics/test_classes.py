"""Classifier score and class coverage on predictions with known answers."""

import math

import pytest
import torch

from ganzoo.metrics.classes import class_histogram, class_kl, classes_covered, classifier_score


def test_confident_balanced_predictions_score_the_number_of_classes():
    probs = torch.eye(10).repeat(50, 1)
    assert classifier_score(probs) == pytest.approx(10.0)
    assert classes_covered(probs) == 10


def test_a_single_class_scores_one():
    probs = torch.zeros(100, 10)
    probs[:, 3] = 1
    assert classifier_score(probs) == pytest.approx(1.0)
    assert classes_covered(probs) == 1
    assert class_histogram(probs)[3] == 1.0


def test_uncertain_predictions_score_one():
    assert classifier_score(torch.full((100, 10), 0.1)) == pytest.approx(1.0)


def test_a_few_stray_predictions_do_not_count_as_coverage():
    probs = torch.zeros(1000, 10)
    probs[:995, 7] = 1
    probs[995:, 1] = 1  # 0.5% misread: under a tenth of a fair share
    assert classes_covered(probs) == 1
    probs[980:, 1] = 1  # 2%: covered
    assert classes_covered(probs) == 2


def test_class_kl_to_the_real_histogram():
    uniform = torch.full((10,), 0.1)
    assert class_kl(torch.eye(10).repeat(3, 1), uniform) == pytest.approx(0.0, abs=1e-6)
    one = torch.zeros(5, 10)
    one[:, 0] = 1
    assert class_kl(one, uniform) == pytest.approx(math.log(10))
