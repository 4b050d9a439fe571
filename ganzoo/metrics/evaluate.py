"""Evaluate a generator on its dataset: which metrics apply, and computing them.

The metric names here are what ``ganzoo eval --metrics`` and the recipe's
``eval_metrics`` accept. Classifier metrics compare ``n`` generated samples with
``n`` real test samples in the reference classifier's 128-d feature space;
Parzen follows Goodfellow et al.'s protocol; ``modes`` counts the modes of
mixtures and of Stacked MNIST.
"""

from __future__ import annotations

import inspect
import time
from typing import Callable, Sequence

import torch
from torch import Tensor

from ..data import TensorData
from ..errors import GanzooError, did_you_mean
from ..factories import load_dataset
from ..recipe import Component
from ..registry import default_registry
from .classes import class_histogram, class_kl, classes_covered, classifier_score
from .accuracy import test_error
from .classifier import SETTINGS, reference_classifier
from .frechet import frechet_distance
from .modes import mode_metrics, triple_modes
from .parzen import parzen
from .prdc import density_coverage, precision_recall

METRICS = {
    "fd": "Fréchet distance in reference-classifier features (n generated vs n real test samples)",
    "score": "classifier score exp E KL(p(y|x) || p(y)) (Inception Score with ganzoo's classifier)",
    "classes": "classes covered by the generated samples, and KL of their class histogram to the real one",
    "precision": "fraction of generated samples inside the real k=3 manifold",
    "recall": "fraction of real samples inside the generated k=3 manifold",
    "density": "how many real k=5 balls hold each generated sample, over k",
    "coverage": "fraction of real k=5 balls that hold a generated sample",
    "parzen": "Parzen-window log-likelihood, Goodfellow et al.'s protocol (10k samples as centres)",
    "modes": "modes captured and high-quality fraction (mixtures) or digit triples covered (Stacked MNIST)",
    "class-accuracy": "how often the reference classifier recognises the class a conditional generator was asked for",
    "test-error": "error of a classifying discriminator (semi-supervised GAN) on the whole labelled test split",
}
CLASSIFIER_METRICS = ("fd", "score", "classes", "precision", "recall", "density", "coverage")
# The fewest samples each metric is defined for: a covariance needs two, a k-th
# nearest neighbour other than the sample itself needs k + 1.
MIN_N = {"fd": 2, "precision": 4, "recall": 4, "density": 6, "coverage": 6}
PARZEN_CENTRES, PARZEN_VALIDATION = 10_000, 1_000


def _per_channel(data: TensorData) -> bool:
    return data.classifier is not None and data.spec.shape[0] > 1


def applicable(data: TensorData, conditional: bool = False, classifies: bool = False) -> list[str]:
    """The metrics that make sense for samples like ``data``'s (from a conditional
    generator if ``conditional``; ``test-error`` if the discriminator ``classifies``)."""
    extra = ["test-error"] if classifies and data.y is not None else []
    if data.modes is not None or _per_channel(data):
        return ["modes"] + extra
    if data.classifier in SETTINGS:
        return list(CLASSIFIER_METRICS) + ["parzen"] + (["class-accuracy"] if conditional else []) + extra
    return extra


def default_metrics(data: TensorData, conditional: bool = False, classifies: bool = False) -> list[str]:
    """What ``ganzoo eval`` computes when not told: everything but the slow Parzen."""
    return [m for m in applicable(data, conditional, classifies) if m != "parzen"]


def check_metrics(names: Sequence[str], data: TensorData, dataset: str, conditional: bool = False,
                  classifies: bool = False, n: int | None = None) -> list[str]:
    """``names`` if each exists and applies to ``data`` (and, given the sample count
    ``n``, is defined for that many samples), else a one-line error."""
    usable = applicable(data, conditional, classifies)
    if not names:
        if usable:
            raise GanzooError(f"no metric was named; metrics that apply to dataset {dataset!r}: {', '.join(usable)}")
        raise GanzooError(
            f"no metric applies to dataset {dataset!r}: it has no reference classifier (there are: "
            f"{', '.join(SETTINGS)}) and no known modes, and the discriminator does not classify; "
            "nothing can be evaluated"
        )
    for name in names:
        if name not in METRICS:
            raise GanzooError(f"unknown metric {name!r}{did_you_mean(name, METRICS)}; choose from {', '.join(METRICS)}")
        if name == "classes" and data.y is None:
            raise GanzooError(f"metric 'classes' needs labels, and dataset {dataset!r} has none")
        if name == "class-accuracy" and not conditional:
            raise GanzooError("metric 'class-accuracy' needs a conditional generator (one that takes labels); "
                              "this one is unconditional")
        if name == "test-error" and not classifies:
            raise GanzooError("metric 'test-error' needs a discriminator whose outputs are class logits "
                              "(e.g. ssgan-mlp); this run's discriminator does not classify")
        if name not in usable:
            if name in CLASSIFIER_METRICS and data.classifier not in SETTINGS:
                why = f"dataset {dataset!r} has no reference classifier"
            else:
                why = f"it does not apply to dataset {dataset!r}"
            hint = f"metrics that apply: {', '.join(usable)}" if usable else "no metric applies to it"
            raise GanzooError(f"metric {name!r} cannot be computed: {why}; {hint}")
    fewest = max(MIN_N.get(m, 1) for m in names)
    if n is not None and n < fewest:
        which = ", ".join(m for m in names if MIN_N.get(m, 1) == fewest)
        raise GanzooError(f"{n} samples are too few for {which}, which needs at least {fewest}; "
                          f"use -n (eval_n) {fewest} or more (thousands for a stable value)")
    return list(names)


def _split(component: Component, split: str, n: int | None = None) -> Component:
    """The same dataset's other split; generated datasets (those with an ``n``
    option) make only as many reference samples as are compared."""
    factory = default_registry().factory("datasets", component.name)
    if n is not None and "n" in inspect.signature(factory).parameters:
        return component.replace(split=split, n=n)
    return component.replace(split=split)


def _unit(x: Tensor, value_range) -> Tensor:
    lo, hi = value_range
    return ((x.double() - lo) / (hi - lo)).clamp(0, 1)


_REAL: dict[tuple, tuple[Tensor, Tensor]] = {}


def _real_features(classifier, test: TensorData, dataset: Component, n: int, seed: int):
    """Features of ``n`` real test samples, remembered: evaluating every N steps
    during training classifies the same real images each time."""
    key = (dataset.name, repr(sorted(dataset.options.items())), n, seed, classifier.meta.get("sha256"))
    if key not in _REAL:
        pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))[:n]
        _REAL.clear()  # one entry is all a run needs; keep memory flat
        _REAL[key] = classifier.features_and_probs(test.x[pick], test.spec.value_range)
    return _REAL[key]


def evaluate(
    sample: Callable[..., Tensor],
    dataset: Component | str,
    metrics: Sequence[str] | None = None,
    n: int = 10_000,
    data_dir=None,
    cache=None,
    seed: int = 0,
    conditional: bool = False,
    classify: Callable[[Tensor], Tensor] | None = None,
) -> dict[str, float]:
    """Compute ``metrics`` for the generator behind ``sample(n) -> samples``.

    ``dataset`` names the training data; its test split is the reference. A
    ``conditional`` generator is called as ``sample(n, y)`` with the classes in
    equal shares (1,000 of each of MNIST's ten in 10,000 samples), as the
    conditional-GAN Parzen protocol asks. ``classify(x) -> logits``, when given,
    is the run's classifying discriminator, for ``test-error`` on the whole test
    split. Returns plain floats keyed by metric (some metrics give several values).
    """
    dataset = Component(dataset) if isinstance(dataset, str) else dataset
    started = time.perf_counter()
    test = load_dataset(_split(dataset, "test", n), data_dir)
    classifies = classify is not None
    metrics = check_metrics(metrics if metrics is not None else default_metrics(test, conditional, classifies),
                            test, dataset.name, conditional, classifies, n)
    needs_real = [m for m in metrics if m in CLASSIFIER_METRICS]

    if needs_real and n > len(test):
        raise GanzooError(
            f"-n {n} exceeds the {len(test)} test samples of {dataset.name!r} that {', '.join(needs_real)} "
            f"compare against; use -n {len(test)} or less"
        )
    count = max(n, PARZEN_CENTRES) if "parzen" in metrics else n
    labels = torch.arange(count) % test.spec.num_classes if conditional else None
    out: dict[str, float] = {"n": float(n)}
    if "test-error" in metrics:
        out.update(test_error(classify, test.x, test.y))
        if metrics == ["test-error"]:  # nothing to generate
            out["seconds"] = time.perf_counter() - started
            return out
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fake = (sample(count, labels) if conditional else sample(count)).detach().cpu()
    if not bool(torch.isfinite(fake).all()):
        raise GanzooError("the generator's samples hold NaN or infinite values (its weights have diverged); "
                          "nothing can be measured on them; evaluate an earlier checkpoint")
    value_range = test.spec.value_range
    # One load of the reference classifier (cache read and checksum) for every metric that uses it.
    uses_classifier = needs_real or "class-accuracy" in metrics or ("modes" in metrics and test.modes is None)
    classifier = reference_classifier(test.classifier, data_dir, cache) if uses_classifier else None
    fake_p = None

    if needs_real:
        real_f, real_p = _real_features(classifier, test, dataset, n, seed)
        fake_f, fake_p = classifier.features_and_probs(fake[:n], value_range)
        if "fd" in metrics:
            out["fd"] = frechet_distance(real_f, fake_f)
        if "score" in metrics:
            out["score"] = classifier_score(fake_p)
        if "classes" in metrics:
            out["classes"] = float(classes_covered(fake_p))
            real_hist = torch.bincount(test.y, minlength=fake_p.shape[1]).double() / len(test.y)
            out["class_kl"] = class_kl(fake_p, real_hist)
        if "precision" in metrics or "recall" in metrics:
            pr = precision_recall(real_f, fake_f, k=3)
            out.update({k: v for k, v in pr.items() if k in metrics})
        if "density" in metrics or "coverage" in metrics:
            dc = density_coverage(real_f, fake_f, k=5)
            out.update({k: v for k, v in dc.items() if k in metrics})

    if "class-accuracy" in metrics:
        probs = fake_p if fake_p is not None else classifier.probs(fake[:n], value_range)
        predicted = probs.argmax(1)
        out["class-accuracy"] = (predicted == labels[:n]).double().mean().item()

    if "parzen" in metrics:
        # The whole training split, whatever slice the run trained on.
        whole = Component(dataset.name, **{k: v for k, v in dataset.options.items() if k not in ("start", "stop")})
        train = load_dataset(_split(whole, "train"), data_dir)
        if len(train) < 50_000 + PARZEN_VALIDATION:
            raise GanzooError(f"parzen needs training images 50,000..51,000 of {dataset.name!r} for validation; "
                              f"its training split has {len(train)}")
        # goodfeli/adversarial: validation = training images 50,000..60,000, first 1,000.
        validation = _unit(train.x[50_000 : 50_000 + PARZEN_VALIDATION], value_range)
        out.update(parzen(_unit(fake[:PARZEN_CENTRES], value_range), validation, _unit(test.x, value_range)))

    if "modes" in metrics:
        if test.modes is not None:
            out.update(mode_metrics(fake[:n], test.modes, test.mode_sigma))
        else:
            channels = fake[:n].reshape(-1, 1, *fake.shape[2:])
            digits = classifier.probs(channels, value_range).argmax(1).view(n, -1)
            out.update(triple_modes(digits))

    out["seconds"] = time.perf_counter() - started
    return out
