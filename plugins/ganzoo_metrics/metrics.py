"""ganzoo's metrics, each a ``ganzoo.Metric`` read from one shared ``Evaluation``.

Feature-space metrics compare ``n`` generated with ``n`` real test samples in the
dataset's reference features: Fréchet distance (Heusel et al. 2017), precision
and recall (Kynkäänniemi et al. 2019, k = 3), density and coverage (Naeem et al.
2020, k = 5). ``score`` is the Inception Score of Salimans et al. 2016 in the
reference's classes; ``parzen`` follows Goodfellow et al. 2014 (Table 1).
"""

from __future__ import annotations

import torch

from ganzoo import Component, GanzooError, Metric, load_dataset
from ganzoo.metrics.accuracy import test_error
from ganzoo.metrics.classes import class_kl, classes_covered, classifier_score
from ganzoo.metrics.evaluation import Evaluation
from ganzoo.metrics.frechet import frechet_distance
from ganzoo.metrics.modes import mode_metrics, triple_modes
from ganzoo.metrics.parzen import parzen
from ganzoo.metrics.prdc import density_coverage, precision_recall

PARZEN_CENTRES, PARZEN_VALIDATION = 10_000, 1_000


def _no_probs(ev: Evaluation) -> str | None:
    if why := ev.features_unusable():
        return why
    if not hasattr(ev.reference, "probs"):
        return f"the reference of dataset {ev.dataset.name!r} gives no class probabilities"
    return None


class FeatureMetric(Metric):
    """A metric comparing generated and real samples in the reference's features."""

    compares_real = True

    def unusable(self, ev: Evaluation) -> str | None:
        return ev.features_unusable()


class FrechetDistance(FeatureMetric):
    description = "Fréchet distance in the reference features (n generated vs n real test samples)"
    min_n = 2  # a covariance needs two samples

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        return {"fd": frechet_distance(ev.real_features()[0], ev.fake_features())}


class Neighbours(FeatureMetric):
    """One value of a k-nearest-neighbour comparison (``precision_recall`` with k = 3,
    ``density_coverage`` with k = 5), computed once for both of its values."""

    def __init__(self, which: str, description: str, compare, k: int) -> None:
        self.which, self.description, self.compare, self.k = which, description, compare, k
        self.min_n = k + 1  # a k-th nearest neighbour other than the sample itself

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        both = ev.once(self.compare, lambda: self.compare(ev.real_features()[0], ev.fake_features(), k=self.k))
        return {self.which: both[self.which]}


class Score(Metric):
    description = "classifier score exp E KL(p(y|x) || p(y)) (the Inception Score, in the reference's classes)"

    def unusable(self, ev: Evaluation) -> str | None:
        return _no_probs(ev)

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        return {"score": classifier_score(ev.fake_probs())}


class Classes(Metric):
    description = "classes covered by the generated samples, and KL of their class histogram to the real one"

    def unusable(self, ev: Evaluation) -> str | None:
        if ev.test.y is None:
            return f"it needs labels, and dataset {ev.dataset.name!r} has none"
        return _no_probs(ev)

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        probs = ev.fake_probs()
        real = torch.bincount(ev.test.y.cpu(), minlength=probs.shape[1]).double() / len(ev.test.y)
        return {"classes": float(classes_covered(probs)), "class_kl": class_kl(probs, real)}


class Parzen(Metric):
    description = "Parzen-window log-likelihood, Goodfellow et al.'s protocol (10k samples as centres)"
    samples = PARZEN_CENTRES
    default = False  # slow: 10,000 centres against 10,000 test images

    def unusable(self, ev: Evaluation) -> str | None:
        if len(ev.test.spec.shape) != 3 or ev.value_range is None:
            return f"it measures images, and dataset {ev.dataset.name!r} holds samples of shape {ev.test.spec.shape}"
        return ev.features_unusable()  # the MNIST family, as in Goodfellow et al.'s protocol

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        # The whole training split, whatever slice the run trained on.
        options = {k: v for k, v in ev.dataset.options.items() if k not in ("start", "stop")}
        train = load_dataset(Component(ev.dataset.name, **{**options, "split": "train"}), ev.data_dir, ev.registry)
        if len(train) < 50_000 + PARZEN_VALIDATION:
            raise GanzooError(f"parzen needs training images 50,000..51,000 of {ev.dataset.name!r} for validation; "
                              f"its training split has {len(train)}")
        # goodfeli/adversarial: validation = training images 50,000..60,000, first 1,000.
        lo, hi = ev.value_range

        def unit(x):
            return ((x.double() - lo) / (hi - lo)).clamp(0, 1)

        validation = unit(train.x[50_000 : 50_000 + PARZEN_VALIDATION])
        return parzen(unit(ev.generated[:PARZEN_CENTRES]), validation, unit(ev.test.x))


class Modes(Metric):
    description = "modes captured and high-quality fraction (mixtures) or digit triples covered (Stacked MNIST)"

    def unusable(self, ev: Evaluation) -> str | None:
        if ev.test.modes is not None or (ev.per_channel() and hasattr(ev.reference, "probs")):
            return None
        return (f"dataset {ev.dataset.name!r} has no known modes and is not a stack of channels its reference "
                "classifies")

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        if ev.test.modes is not None:
            return mode_metrics(ev.fake, ev.test.modes, ev.test.mode_sigma)
        channels = ev.fake.reshape(-1, ev.reference_takes(), *ev.fake.shape[2:])
        digits = ev.reference.probs(channels, ev.value_range).argmax(1).view(ev.n, -1)
        return triple_modes(digits)


class ClassAccuracy(Metric):
    description = "how often the reference classifier recognises the class a conditional generator was asked for"

    def unusable(self, ev: Evaluation) -> str | None:
        if not ev.conditional:
            return "it needs a conditional generator (one that takes labels); this one is unconditional"
        return _no_probs(ev)

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        predicted = ev.fake_probs().argmax(1)
        return {"class-accuracy": (predicted == ev.labels[: ev.n]).double().mean().item()}


class TestError(Metric):
    description = "error of a classifying discriminator (semi-supervised GAN) on the whole labelled test split"

    def unusable(self, ev: Evaluation) -> str | None:
        if not ev.classifies:
            return ("it needs a discriminator whose outputs are class logits (e.g. ssgan-mlp); this run's "
                    "discriminator does not classify")
        if ev.test.y is None:
            return f"it needs labels, and dataset {ev.dataset.name!r} has none"
        return None

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        whole = ev.test.take(torch.arange(len(ev.test)))  # the samples, also when streamed from disk
        return test_error(ev.classify, whole.x, whole.y)


METRICS: dict[str, Metric] = {
    "fd": FrechetDistance(),
    "score": Score(),
    "classes": Classes(),
    "precision": Neighbours("precision", "fraction of generated samples inside the real k=3 manifold",
                            precision_recall, 3),
    "recall": Neighbours("recall", "fraction of real samples inside the generated k=3 manifold", precision_recall, 3),
    "density": Neighbours("density", "how many real k=5 balls hold each generated sample, over k",
                          density_coverage, 5),
    "coverage": Neighbours("coverage", "fraction of real k=5 balls that hold a generated sample",
                           density_coverage, 5),
    "parzen": Parzen(),
    "modes": Modes(),
    "class-accuracy": ClassAccuracy(),
    "test-error": TestError(),
}
