"""Inception metrics by name, through torch-fidelity (the optional extra
``ganzoo[inception]``): ``inception-fid`` (Heusel et al. 2017), ``inception-is``
(Salimans et al. 2016) and ``kid`` (Bińkowski et al. 2018), on RGB data.

They are not computed unless named (``ganzoo eval --metrics inception-fid,kid``):
they need InceptionV3's weights (downloaded once, 92 MB) and a 299×299 network,
which on a CPU takes minutes for thousands of samples. Registered through the
``ganzoo`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from ganzoo import Metric, hookimpl
from ganzoo.metrics.evaluation import Evaluation

from .fidelity import inception_metrics, protocol, unusable


class InceptionMetric(Metric):
    """One of the Inception metrics, all computed in one pass of torch-fidelity."""

    default = False  # weights to download and a large network: only when asked for

    def __init__(self, name: str, description: str, min_n: int, compares_real: bool) -> None:
        self.name, self.description, self.min_n, self.compares_real = name, description, min_n, compares_real

    def unusable(self, ev: Evaluation) -> str | None:
        return unusable(ev)

    def protocol(self, ev: Evaluation) -> str:
        return protocol(ev.n, ev.dataset.name)

    def __call__(self, ev: Evaluation) -> dict[str, float]:
        values = inception_metrics(ev)
        return {k: v for k, v in values.items() if k == self.name or k.startswith(self.name + "_")}


METRICS = (
    InceptionMetric("inception-fid", "FID in InceptionV3 pool features, through torch-fidelity "
                    "(n generated vs n real test samples)", 2, True),
    InceptionMetric("inception-is", "Inception Score of the generated samples in 10 splits, through torch-fidelity",
                    10, False),
    InceptionMetric("kid", "kernel Inception distance, cubic polynomial kernel, through torch-fidelity "
                    "(n generated vs n real test samples)", 2, True),
)


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric.name, metric, description=metric.description)
