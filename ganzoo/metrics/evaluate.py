"""Evaluate a generator on its dataset: which registered metrics apply, and computing them.

The metric names are those of ``register_metrics`` (``ganzoo list metrics``),
which ``ganzoo eval --metrics`` and a recipe's ``eval_metrics`` accept. Each
dataset is measured in the reference its data names (``TensorData.reference``),
as ``register_references`` registered it.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any, Callable, Sequence

import torch
from torch import Tensor

from ..data import Data
from ..errors import GanzooError, did_you_mean
from ..factories import create, load_dataset
from ..recipe import Component
from ..registry import Registry, default_registry
from .evaluation import Evaluation, Metric

log = logging.getLogger("ganzoo")


def registered_metrics(registry: Registry | None = None) -> dict[str, Metric]:
    """Every registered metric by name."""
    return {name: entry.obj for name, entry in (registry or default_registry()).entries("metrics").items()}


def check_names(names: Sequence[str], where: str, registry: Registry | None = None) -> None:
    """One line if any of ``names`` is not a registered metric (``where``: the option they came from)."""
    known = registered_metrics(registry)
    for name in names:
        if name not in known:
            raise GanzooError(f"{where}unknown metric {name!r}{did_you_mean(name, known)}; "
                              f"choose from {', '.join(known)}")


def reference_of(data: Data, dataset: Component, data_dir=None, cache=None, registry: Registry | None = None):
    """The registered reference ``data`` (of the recipe's ``dataset``) is measured in, or ``None``."""
    registry = registry or default_registry()
    name = data.reference
    if name is None:
        return None
    if name not in registry.entries("references"):
        log.warning("ganzoo: the data names reference %r, which no installed plugin registers (see `ganzoo list "
                    "references`); metrics that need reference features do not apply", name)
        return None
    return create("references", Component(name), data_dir, cache, dataset, registry=registry)


def _setting(metric: Metric, name: str) -> Any:
    """A metric's setting (``min_n``, ``default``...), ``Metric``'s default when it has none."""
    return getattr(metric, name, getattr(Metric, name))


def _why_not(name: str, metric: Metric, ev: Evaluation, registry: Registry | None) -> str | None:
    try:
        return metric.unusable(ev)
    except GanzooError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plugin's metric can only break itself
        plugin = (registry or default_registry()).get("metrics", name).plugin
        return f"its unusable() failed ({type(exc).__name__}: {exc}; plugin {plugin!r})"


def applicable(ev: Evaluation, registry: Registry | None = None) -> dict[str, str | None]:
    """Every registered metric and why it cannot be computed for ``ev`` (``None``: it can)."""
    return {name: _why_not(name, metric, ev, registry) for name, metric in registered_metrics(registry).items()}


def check_metrics(names: Sequence[str] | None, ev: Evaluation, registry: Registry | None = None) -> list[str]:
    """``names`` (or, when ``None``, every default metric that applies) if each exists,
    applies to ``ev`` and is defined for its ``n`` samples; else a one-line error."""
    known = registered_metrics(registry)
    why = applicable(ev, registry)
    usable = [name for name, reason in why.items() if reason is None]
    dataset = ev.dataset.name
    if names is None:
        names = [name for name in usable if _setting(known[name], "default")]
    if not names:
        if usable:
            raise GanzooError(f"no metric was named; metrics that apply to dataset {dataset!r}: {', '.join(usable)}")
        raise GanzooError(
            f"no metric applies to dataset {dataset!r}: it has no reference features (see `ganzoo list references`) "
            "and no known modes, and the discriminator does not classify; nothing can be evaluated"
        )
    check_names(names, "", registry)
    for name in names:
        if why[name] is not None:
            hint = f"metrics that apply: {', '.join(usable)}" if usable else "no metric applies to it"
            raise GanzooError(f"metric {name!r} cannot be computed: {why[name]}; {hint}")
    fewest = max(_setting(known[m], "min_n") for m in names)
    if ev.n < fewest:
        which = ", ".join(m for m in names if _setting(known[m], "min_n") == fewest)
        raise GanzooError(f"{ev.n} samples are too few for {which}, which needs at least {fewest}; "
                          f"use -n (eval_n) {fewest} or more (thousands for a stable value)")
    comparing = [m for m in names if _setting(known[m], "compares_real")]
    if comparing and ev.n > len(ev.test):
        raise GanzooError(
            f"-n {ev.n} exceeds the {len(ev.test)} test samples of {dataset!r} that {', '.join(comparing)} "
            f"compare against; use -n {len(ev.test)} or less"
        )
    return list(names)


def _split(component: Component, split: str, n: int | None = None, registry: Registry | None = None) -> Component:
    """The same dataset's other split; generated datasets (those with an ``n``
    option) make only as many reference samples as are compared."""
    factory = (registry or default_registry()).factory("datasets", component.name)
    if n is not None and "n" in inspect.signature(factory).parameters:
        return component.replace(split=split, n=n)
    return component.replace(split=split)


def evaluation(
    sample: Callable[..., Tensor],
    dataset: Component | str,
    n: int = 10_000,
    data_dir=None,
    cache=None,
    seed: int = 0,
    conditional: bool = False,
    classify: Callable[[Tensor], Tensor] | None = None,
    registry: Registry | None = None,
    device: torch.device | str | None = None,
) -> Evaluation:
    """The :class:`Evaluation` of the generator behind ``sample`` against
    ``dataset``'s test split, before any metric is chosen or computed."""
    dataset = Component(dataset) if isinstance(dataset, str) else dataset
    test = load_dataset(_split(dataset, "test", n, registry), data_dir, registry)
    return Evaluation(sample, dataset, test, n, seed=seed, conditional=conditional, classify=classify,
                      reference=reference_of(test, dataset, data_dir, cache, registry), data_dir=data_dir, cache=cache,
                      registry=registry, device=device)


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
    registry: Registry | None = None,
    protocols: dict[str, str] | None = None,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Compute ``metrics`` (default: every default metric that applies) for the
    generator behind ``sample(n) -> samples``; ``protocols``, when given, receives
    each metric's :meth:`Metric.protocol` that says more than its description.

    ``dataset`` names the training data; its test split is the reference. A
    ``conditional`` generator is called as ``sample(n, y)`` with the classes in
    equal shares (1,000 of each of MNIST's ten in 10,000 samples), as the
    conditional-GAN Parzen protocol asks. ``classify(x) -> logits``, when given,
    is the run's classifying discriminator, for ``test-error`` on the whole test
    split. ``device`` is where ``sample`` generates (``None``: CUDA when present):
    metrics that can use a GPU use one only when it is CUDA. Returns plain floats
    keyed by metric (some metrics give several values).
    """
    started = time.perf_counter()
    ev = evaluation(sample, dataset, n, data_dir, cache, seed, conditional, classify, registry, device)
    chosen = check_metrics(metrics, ev, registry)
    known = registered_metrics(registry)
    ev.count = max([n] + [_setting(known[m], "samples") for m in chosen])  # drawn once, for every metric
    out: dict[str, float] = {"n": float(n)}
    for name in chosen:
        out.update(known[name](ev))
        how = known[name].protocol(ev) if hasattr(known[name], "protocol") else None
        if protocols is not None and how:
            protocols[name] = how
    out["seconds"] = time.perf_counter() - started
    return out
