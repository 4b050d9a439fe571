"""ganzoo's metrics and the reference classifiers of MNIST and Fashion-MNIST, by name.

Registered through the ``ganzoo`` entry-point group like any third-party plugin:
a plugin adds a metric or a dataset's reference features the same way.
"""

from functools import partial

from ganzoo import hookimpl
from ganzoo.metrics.classifier import SETTINGS, mnist_family_reference

from .metrics import METRICS

__all__ = ["METRICS"]


@hookimpl
def register_metrics(register):
    for name, metric in METRICS.items():
        register(name, metric, metric.description)


@hookimpl
def register_references(register):
    for dataset in SETTINGS:  # the datasets ganzoo trains a reference classifier for
        register(dataset, partial(mnist_family_reference, dataset),
                 f"ganzoo's CNN trained on {dataset} (128-d features), cached after its first use")
