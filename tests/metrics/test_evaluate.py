"""Sanity of the whole evaluation on real MNIST: real data scores well, a collapsed
generator and noise score badly, each metric where it should."""

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError
from ganzoo.metrics.evaluate import evaluate

CLASSIFIER_METRICS = ["fd", "score", "classes", "precision", "recall", "density", "coverage"]


@pytest.fixture(scope="module")
def results(mnist, data_dir):
    """Each 'generator' evaluated once on 10,000 samples against the 10,000 test images."""
    gen = torch.Generator().manual_seed(5)
    real = mnist.x[torch.randperm(len(mnist), generator=gen)]
    sevens = mnist.x[mnist.y == 7]
    one_digit = sevens[torch.randint(len(sevens), (10_000,), generator=gen)]
    noise = torch.rand(10_000, 1, 28, 28, generator=gen) * 2 - 1
    return {
        name: evaluate(lambda k, s=samples: s[:k], "mnist", CLASSIFIER_METRICS, 10_000, data_dir)
        for name, samples in {"real": real, "one digit": one_digit, "noise": noise}.items()
    }


def test_real_training_images_look_like_the_test_set(results):
    real = results["real"]
    # Measured: FD 3.6 (the covariance trace in these features is ~1300, so 0.3% of it),
    # precision 0.86, recall 0.88, density 0.92, coverage 0.95, score 9.8.
    assert real["fd"] < 10
    assert 0.8 < real["precision"] < 0.95 and 0.8 < real["recall"] < 0.95
    assert real["density"] > 0.8 and real["coverage"] > 0.9
    assert real["classes"] == 10 and real["score"] > 9.5


def test_a_generator_of_one_digit_has_low_recall_and_coverage(results):
    one, real = results["one digit"], results["real"]
    assert one["classes"] == 1 and one["score"] < 1.2
    assert one["recall"] < 0.2 and one["coverage"] < 0.2
    assert one["fd"] > 100 * real["fd"]
    assert one["precision"] > 0.8  # why precision alone misleads


def test_noise_is_far_from_everything(results):
    noise, real = results["noise"], results["real"]
    assert noise["fd"] > 500 * real["fd"]
    assert noise["recall"] < 0.01 and noise["coverage"] < 0.01


def test_stacked_mnist_of_real_digits_covers_nearly_all_modes(data_dir):
    stacked = ganzoo.load_dataset(Component("stacked-mnist", n=26_000, seed=1), data_dir)
    result = evaluate(lambda k: stacked.x[:k], "stacked-mnist", ["modes"], 26_000, data_dir)
    # 26,000 uniform draws over 1,000 triples miss about 1000·e^-26 ≈ 0 of them.
    assert result["modes"] >= 990 and result["kl_uniform"] < 0.05


def test_mode_metric_on_a_generator_for_the_grid():
    grid = ganzoo.load_dataset(Component("grid", n=2500, split="test"))
    result = evaluate(lambda k: grid.x[:k], "grid", None, 2500)
    assert result["modes"] == 25


@pytest.mark.parametrize("dataset, metrics, n, message", [
    ("mnist", ["fid"], 100, "unknown metric 'fid' (did you mean fd"),
    ("ring", ["fd"], 100, "dataset 'ring' has no reference features; metrics that apply: modes"),
    ("ring", ["classes"], 100, "needs labels"),
    ("mnist", ["fd"], 20_000, "-n 20000 exceeds the 10000 test samples"),
])
def test_bad_requests_are_one_line_errors(dataset, metrics, n, message, data_dir):
    with pytest.raises(GanzooError) as info:
        evaluate(lambda k: torch.zeros(k, 1, 28, 28), dataset, metrics, n, data_dir)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_parzen_of_real_digits_on_a_run_that_trained_on_a_slice(mnist, data_dir):
    """goodfellow-mnist trains on images 0..50k; Parzen still validates on 50k..51k."""
    centres = (mnist.x[:10_000] + 1) / 2  # real digits in [0, 1] as the "generator"
    dataset = Component("mnist", value_range=(0.0, 1.0), stop=50_000)
    result = evaluate(lambda k: centres[:k], dataset, ["parzen"], 10_000, data_dir)
    # Real digits as kernel centres beat any 2014 model (GAN 225): measured about 240.
    assert result["parzen"] > 200 and 0.1 <= result["parzen_sigma"] <= 1.0 and result["parzen_se"] > 0
