"""The reference feature space of MNIST and Fashion-MNIST: ganzoo's own classifier.

Inception weights cannot be downloaded everywhere, so ganzoo trains a small CNN
per dataset itself (``ganzoo.metrics.classifier``) the first time a metric needs
it, and caches it.
"""

from __future__ import annotations

from functools import cached_property

from torch import Tensor

from ganzoo.metrics.classifier import ReferenceClassifier, reference_classifier


class TrainedClassifier:
    """The cached reference CNN of ``dataset`` (trained now if there is none): 128-d
    features and class probabilities of one-channel images."""

    channels = 1

    def __init__(self, dataset: str, data_dir=None, cache=None) -> None:
        self.dataset, self.data_dir, self.cache = dataset, data_dir, cache

    @cached_property
    def classifier(self) -> ReferenceClassifier:
        return reference_classifier(self.dataset, self.data_dir, self.cache)

    @property
    def key(self) -> str:
        return f"{self.dataset}:{self.classifier.meta.get('sha256')}"

    def features(self, x: Tensor, value_range) -> Tensor:
        return self.classifier.features(x, value_range)

    def probs(self, x: Tensor, value_range) -> Tensor:
        return self.classifier.probs(x, value_range)

    def features_and_probs(self, x: Tensor, value_range) -> tuple[Tensor, Tensor]:
        return self.classifier.features_and_probs(x, value_range)
