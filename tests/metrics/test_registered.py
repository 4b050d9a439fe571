"""Metrics and reference features are plugins: a dataset brings its own feature space,
a metric its own computation, and ``evaluate``, ``ganzoo eval`` and the ``Evaluate``
callback use them exactly as they use the built-ins."""

import json

import pytest
import torch

import ganzoo
from ganzoo import Component, DataSpec, GanzooError, Metric, TensorData, hookimpl
from ganzoo.cli import main
from ganzoo.metrics.evaluate import check_metrics, evaluate, evaluation, registered_metrics

DIM = 3


def blobs(root, n: ganzoo.PositiveInt = 2000, split: str = "train") -> TensorData:
    """Points of a 3-d Gaussian, a train and a test split, measured in its own features."""
    gen = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    return TensorData(torch.randn(n, DIM, generator=gen), DataSpec((DIM,), value_range=None), reference="raw")


class Raw:
    """The points themselves as features."""

    def features(self, x, value_range):
        return x.double()


class MeanGap(Metric):
    description = "distance between the generated and the real mean"

    def __call__(self, ev):
        return {"mean-gap": float((ev.fake.double().mean(0) - ev.test.x.double().mean(0)).norm())}


class NeedsLabels(Metric):
    def unusable(self, ev):
        return None if ev.test.y is not None else "it wants labels"

    def __call__(self, ev):
        return {}


class Plugin:
    @hookimpl
    def register_datasets(self, register):
        register("blobs", blobs)

    @hookimpl
    def register_references(self, register):
        register("raw", lambda data_dir, cache, dataset: Raw(), "the points themselves")

    @hookimpl
    def register_metrics(self, register):
        register("mean-gap", MeanGap())
        register("needs-labels", NeedsLabels())


@pytest.fixture
def plugin(registry):
    registry.register(Plugin(), name="blob-metrics")
    return registry


def test_a_dataset_brings_its_reference_and_the_built_in_metrics_apply(plugin):
    test = blobs(None, 2000, "test").x
    shifted = evaluate(lambda k: test[:k] + 1.0, "blobs", ["fd", "mean-gap", "precision"], 2000)
    # Shifting every point by 1 in each of the 3 dimensions moves the mean by 1 per dimension
    # and leaves the covariance: FD = |Δμ|² = 3, and the mean gap √3.
    assert shifted["fd"] == pytest.approx(DIM, rel=1e-6)
    assert shifted["mean-gap"] == pytest.approx(DIM ** 0.5, rel=1e-6)
    same = evaluate(lambda k: test[:k], "blobs", ["fd", "mean-gap", "precision"], 2000)
    assert same["fd"] == pytest.approx(0, abs=1e-6) and same["precision"] == 1.0


def test_default_metrics_are_those_that_apply(plugin):
    ev = evaluation(lambda k: torch.zeros(k, DIM), "blobs", 100)
    chosen = check_metrics(None, ev)
    assert "mean-gap" in chosen and "fd" in chosen and "coverage" in chosen
    # no class probabilities from this reference, no labels, no modes, no parzen by default
    assert not {"score", "classes", "class-accuracy", "modes", "parzen", "needs-labels"} & set(chosen)


def test_a_metric_that_does_not_apply_says_why_in_one_line(plugin):
    with pytest.raises(GanzooError) as info:
        evaluate(lambda k: torch.zeros(k, DIM), "blobs", ["needs-labels"], 100)
    assert "metric 'needs-labels' cannot be computed: it wants labels; metrics that apply: " in str(info.value)
    with pytest.raises(GanzooError, match="gives no class probabilities"):
        evaluate(lambda k: torch.zeros(k, DIM), "blobs", ["score"], 100)


def test_a_registration_that_is_not_a_metric_drops_its_plugin(registry, recwarn):
    class Bad:
        @hookimpl
        def register_metrics(self, register):
            register("plain-function", lambda ev: {})

    registry.register(Bad(), name="bad-metrics")
    assert "plain-function" not in registered_metrics()
    assert "fd" in registered_metrics()


def test_ganzoo_eval_and_evaluation_during_training_use_a_plugin_metric(plugin, tmp_path, capsys):
    recipe = ganzoo.get_recipe("gan-ring").replace(dataset=Component("blobs"), steps=10, eval_every=5,
                                                   eval_metrics=("mean-gap", "fd"), eval_n=500, log_every=5)
    ganzoo.Run(recipe, out=tmp_path / "run").fit()
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logged if "eval_mean-gap" in m] == [5, 10]
    assert all(m["eval_fd"] >= 0 for m in logged if "eval_fd" in m)
    out = tmp_path / "e.json"
    assert main(["eval", str(tmp_path / "run" / "checkpoints" / "last.pt"), "-n", "500", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"mean-gap", "fd", "coverage"} <= set(result["metrics"])
    assert result["descriptions"]["mean-gap"] == MeanGap.description
