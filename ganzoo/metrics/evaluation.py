"""What a metric is, and what it is computed from: the contract of ``register_metrics``
and ``register_references``.

A **metric** is an object registered by name (``ganzoo eval --metrics NAME``, a
recipe's ``eval_metrics``). ``ganzoo eval`` and the ``Evaluate`` callback ask each
metric whether it applies (:meth:`Metric.unusable`) before anything is generated,
then call it with one :class:`Evaluation` shared by all the metrics of that
evaluation. The evaluation computes what they share once and only when asked:
the generated samples, the dataset's reference features of real and generated
samples, class probabilities.

A **reference** gives the feature space a dataset is measured in (for MNIST,
ganzoo's trained classifier; Heusel et al. 2017 used Inception's pool features).
A dataset names its reference in ``TensorData(reference=NAME)``; a plugin
registers the reference under that name. See :class:`Reference`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Callable, Protocol, runtime_checkable

import torch
from torch import Tensor

from ..data import Data
from ..errors import GanzooError
from ..recipe import Component


@runtime_checkable
class Reference(Protocol):
    """A dataset's reference feature space, as a reference factory returns it.

    ``features(x, value_range)`` maps samples (pixels in ``value_range``) to an
    ``(n, d)`` tensor. Optional: ``probs(x, value_range)`` class probabilities
    ``(n, k)`` (for ``score``, ``classes``, ``class-accuracy`` and per-channel
    ``modes``); ``channels``, the channels it takes (data with more is measured
    per channel); ``key``, a string that changes when the weights do (real
    features are remembered between evaluations under it). Factories are called
    as ``factory(data_dir, cache)`` and should be cheap: load or train weights on
    the first call of ``features``.
    """

    def features(self, x: Tensor, value_range: tuple[float, float]) -> Tensor: ...


class Metric:
    """Base of a registered metric; override :meth:`__call__` and what differs.

    ``__call__(evaluation)`` returns plain floats keyed by name (the metric's own
    name, and any companions such as ``class_kl``). ``unusable(evaluation)``
    says in a few words why the metric cannot be computed for this dataset and
    generator, or returns ``None``; it runs before anything is generated, so it
    may read ``evaluation.test``, ``.reference``, ``.conditional``,
    ``.classifies`` but not ``.fake``.
    """

    description: str = ""
    min_n: int = 1  # the fewest generated samples it is defined for
    samples: int = 0  # generated samples it needs in all, if more than n (Parzen: 10,000 kernel centres)
    compares_real: bool = False  # compares n generated with n real test samples
    default: bool = True  # computed by ``ganzoo eval`` when no metric is named

    def unusable(self, evaluation: "Evaluation") -> str | None:
        return None

    def protocol(self, evaluation: "Evaluation") -> str | None:
        """How it is measured in this evaluation (sample counts, splits, preprocessing),
        when that is more than its description says: ``ganzoo eval`` prints it under
        its table and saves it in its JSON. ``None``: nothing to add."""
        return None

    def __call__(self, evaluation: "Evaluation") -> dict[str, float]:
        raise NotImplementedError(f"{type(self).__name__} does not compute anything")


_REAL: dict[tuple, tuple[Tensor, Tensor | None]] = {}


def _features_and_probs(reference: Any, x: Tensor, value_range) -> tuple[Tensor, Tensor | None]:
    if hasattr(reference, "features_and_probs"):
        return reference.features_and_probs(x, value_range)
    probs = reference.probs(x, value_range) if hasattr(reference, "probs") else None
    return reference.features(x, value_range), probs


class Evaluation:
    """One evaluation of a generator against ``test``, the reference split of
    ``dataset``: what every metric of it reads.

    ``sample(count)`` (``sample(count, labels)`` when ``conditional``) draws the
    generator's samples; ``classify(x) -> logits`` is the run's classifying
    discriminator, if it has one; ``reference`` is the dataset's registered
    reference (``None`` when it has none). ``count`` samples are drawn once, at
    the first use of :attr:`fake` or :attr:`generated`, under ``seed``.
    ``device`` is where the run samples (``None``: CUDA when present, else the CPU);
    a metric that computes on a GPU does so only when it is CUDA, so that
    ``--device cpu`` keeps a whole evaluation off the GPU.
    """

    def __init__(self, sample: Callable[..., Tensor], dataset: Component, test: Data, n: int, *,
                 count: int | None = None, seed: int = 0, conditional: bool = False,
                 classify: Callable[[Tensor], Tensor] | None = None, reference: Any = None,
                 data_dir: Any = None, cache: Any = None, registry: Any = None,
                 device: torch.device | str | None = None) -> None:
        self.sample, self.dataset, self.test, self.n = sample, dataset, test, n
        self.device = torch.device(device if device is not None else "cuda" if torch.cuda.is_available() else "cpu")
        self.count, self.seed = max(count or n, n), seed
        self.conditional, self.classify, self.reference = conditional, classify, reference
        self.data_dir, self.cache, self.registry = data_dir, cache, registry
        self._once: dict[Any, Any] = {}

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, computed once per evaluation under ``key``: for what two
        metrics share (precision and recall come from one neighbour search)."""
        if key not in self._once:
            self._once[key] = compute()
        return self._once[key]

    # ------------------------------------------------------------ what metrics ask
    @property
    def classifies(self) -> bool:
        """Whether the run's discriminator classifies the data (``test-error`` applies)."""
        return self.classify is not None

    @property
    def value_range(self) -> tuple[float, float]:
        return self.test.spec.value_range

    @property
    def labels(self) -> Tensor | None:
        """The classes a conditional generator is asked for, in equal shares
        (``arange(count) % num_classes``), else ``None``."""
        if not self.conditional:
            return None
        return torch.arange(self.count) % self.test.spec.num_classes

    @cached_property
    def generated(self) -> Tensor:
        """All ``count`` generated samples, on the CPU (``count`` is ``n``, or the most
        any chosen metric's ``samples`` asks for)."""
        # Seeding reseeds every CUDA device too: fork them all, so that an evaluation
        # during training leaves the run's own random streams where they were (none
        # when CUDA is not in use: reading their state would start it on every GPU).
        cuda = range(torch.cuda.device_count()) if torch.cuda.is_initialized() else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(self.seed)
            fake = (self.sample(self.count, self.labels) if self.conditional else self.sample(self.count))
        fake = fake.detach().cpu()
        if not bool(torch.isfinite(fake).all()):
            raise GanzooError("the generator's samples hold NaN or infinite values (its weights have diverged); "
                              "nothing can be measured on them; evaluate an earlier checkpoint")
        return fake

    @property
    def fake(self) -> Tensor:
        """The first ``n`` generated samples."""
        return self.generated[: self.n]

    def reference_takes(self) -> int | None:
        """The channels the reference takes (``None``: as many as the data has)."""
        return getattr(self.reference, "channels", None)

    def per_channel(self) -> bool:
        """Whether the data has more channels than its reference takes (Stacked MNIST)."""
        takes = self.reference_takes()
        return self.reference is not None and takes is not None and self.test.spec.shape[0] > takes

    def features_unusable(self) -> str | None:
        """Why this data cannot be measured in reference features (no reference, or
        more channels than it takes), or ``None``: what a metric that compares
        features returns from :meth:`Metric.unusable`."""
        if self.reference is None:
            return f"dataset {self.dataset.name!r} has no reference features"
        if self.per_channel():
            return f"dataset {self.dataset.name!r} has more channels than its reference takes"
        return None

    def _measurable(self) -> None:
        why = self.features_unusable()
        if why is not None:
            raise GanzooError(f"reference features cannot be computed: {why}")

    def real_samples(self) -> Tensor:
        """The ``n`` real test samples every metric that compares with real data
        reads: a random pick under ``seed``, on the CPU."""
        pick = torch.randperm(len(self.test), generator=torch.Generator().manual_seed(self.seed))[: self.n]
        return self.test.take(pick).x.cpu()

    def real_features(self) -> tuple[Tensor, Tensor | None]:
        """Reference features (and class probabilities, if the reference gives them)
        of ``n`` real test samples drawn with ``seed``; remembered between
        evaluations of a run, which classify the same real samples each time."""
        self._measurable()
        key = (self.dataset.name, repr(sorted(self.dataset.options.items())), self.n, self.seed,
               getattr(self.reference, "key", id(self.reference)))
        if key not in _REAL:
            _REAL.clear()  # one entry is all a run needs; keep memory flat
            _REAL[key] = _features_and_probs(self.reference, self.real_samples(), self.value_range)
        return _REAL[key]

    @cached_property
    def _fake_features_and_probs(self) -> tuple[Tensor, Tensor | None]:
        self._measurable()
        return _features_and_probs(self.reference, self.fake, self.value_range)

    def fake_features(self) -> Tensor:
        """Reference features of the ``n`` generated samples."""
        return self._fake_features_and_probs[0]

    def fake_probs(self) -> Tensor:
        """The reference's class probabilities of the ``n`` generated samples."""
        probs = self._fake_features_and_probs[1]
        if probs is None:
            raise GanzooError(f"the reference of dataset {self.dataset.name!r} gives no class probabilities")
        return probs
