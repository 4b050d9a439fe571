"""From a recipe (names and options) to a ready :class:`Trainer`: every component
created by name from the registry, every field of the recipe that needs no run
directory honoured (see :mod:`ganzoo.run` for the rest).

Building checks the parts against each other before any training: one forward
pass of a tiny batch shows whether G's output has the data's shape and whether D
accepts it, so a mismatch costs a second, not a crashed run.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import torch
from torch import nn

from .augment import augment_inputs, check_augmentation
from .callbacks import EMA, Evaluate
from .components import DataSpec, discriminate, generate
from .data import TensorData
from .errors import GanzooError
from .factories import create, load_dataset
from .losses import ScoreLoss
from .metrics.evaluate import check_names
from .recipe import Component, Recipe
from .registry import Registry, default_registry
from .trainer import OptimizerFactory, Trainer, callback_key

INIT_SAMPLES = 10_000
"""Samples of a streamed dataset that data-dependent initialisation sees at most
(an even spread; all of them when it has no more)."""


def check_compatible(generator: nn.Module, discriminator: nn.Module, spec: DataSpec) -> None:
    """One tiny forward pass: G must produce ``spec.shape`` and D must accept it."""
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        if not getattr(model, "conditional", False):
            continue
        if spec.num_classes is None:
            raise GanzooError(f"the {name} is conditional but the dataset has no labels; use a labelled dataset")
        classes = getattr(model, "num_classes", None)
        if classes is not None and classes != spec.num_classes:
            raise GanzooError(f"the {name} {type(model).__name__} is conditional on {classes} classes but the "
                              f"dataset has {spec.num_classes}; build it for this dataset's classes")
    if getattr(discriminator, "auxiliary_classes", None) is not None and not getattr(generator, "conditional", False):
        raise GanzooError(f"discriminator {type(discriminator).__name__} classifies samples by the label G was asked "
                          "for, so the generator must be conditional; use e.g. generator=conditional")
    if not hasattr(generator, "sample_latent"):
        raise GanzooError(f"generator {type(generator).__name__} has no sample_latent(n, device); subclass ganzoo.Generator")
    device = next(generator.parameters()).device
    n = 2
    y = None if spec.num_classes is None else torch.arange(n, device=device) % spec.num_classes
    modes = (generator.training, discriminator.training)
    generator.eval(), discriminator.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            x = generate(generator, n, y, device)
            if tuple(x.shape[1:]) != tuple(spec.shape):
                raise GanzooError(
                    f"generator {type(generator).__name__} makes samples of shape {tuple(x.shape[1:])} "
                    f"but the data has shape {tuple(spec.shape)}; set the generator's output to match"
                )
            try:
                logits = discriminate(discriminator, x, y)
            except (RuntimeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0]
                raise GanzooError(
                    f"discriminator {type(discriminator).__name__} cannot take samples of shape "
                    f"{tuple(spec.shape)} (generator output {tuple(x.shape[1:])}): {first}"
                ) from None
            if logits.shape[0] != n:
                raise GanzooError(
                    f"discriminator {type(discriminator).__name__} returned shape {tuple(logits.shape)} "
                    f"for a batch of {n}; it must return one logit row per sample"
                )
    finally:
        generator.train(modes[0]), discriminator.train(modes[1])


def optimizer(component: Component | str, registry: Registry | None = None) -> OptimizerFactory:
    """The registered optimizer ``component`` names, as the factory a :class:`Trainer`
    takes: ``Trainer(..., g_optim=ganzoo.optimizer(Component("sgd", lr=0.1)))``."""
    component = Component(component) if isinstance(component, str) else component
    registry = registry or default_registry()
    if not isinstance(component, Component):
        raise GanzooError(f"an optimizer is named by a string or a Component, got {component!r}")
    registry.get("optimizers", component.name)  # an unknown name fails here, with close matches

    def make(params: list) -> Any:
        return create("optimizers", component, params, registry=registry)

    return make


def recipe_callbacks(recipe: Recipe, data_dir: str | os.PathLike | None = None,
                     registry: Registry | None = None) -> list[Any]:
    """The callbacks the recipe's fields ask for, in the order they run: its
    schedule, the averages of D and G (``d_ema``, ``g_ema``), the callbacks it
    lists, evaluation."""
    registry = registry or default_registry()
    callbacks: list[Any] = []
    if recipe.schedule is not None:
        schedule = create("schedules", recipe.schedule, registry=registry)
        schedule.every_rank = True  # it sets the optimisers: on every rank of a distributed run, whoever wrote it
        callbacks.append(schedule)
    if recipe.d_ema is not None:
        callbacks.append(EMA("discriminator", recipe.d_ema))  # before checkpoints: saved up to date
    if recipe.g_ema is not None:
        callbacks.append(EMA("generator", 1 - recipe.g_ema))  # g_ema is the decay; EMA takes the rate
    for component in recipe.callbacks:
        callback = create("callbacks", component, registry=registry)
        if hasattr(callback, "state_dict") and not getattr(callback, "state_key", None):
            callback.state_key = component.name
        callbacks.append(callback)
    check_names(recipe.eval_metrics or (), "eval_metrics: ", registry)  # a typo is caught with or without eval_every
    if recipe.eval_every is not None:
        callbacks.append(Evaluate(recipe.dataset, recipe.eval_every, recipe.eval_metrics, recipe.eval_n, data_dir,
                                  registry=registry))
    keys = [callback_key(c) for c in callbacks if hasattr(c, "state_dict")]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        raise GanzooError(f"two callbacks save their state under {twice!r}; list each callback once, or give "
                          "them distinct state_key attributes")
    return callbacks


def build(
    recipe: Recipe,
    *,
    data_dir: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    callbacks: Sequence[Any] = (),
    registry: Registry | None = None,
    compile: str | None = None,
) -> Trainer:
    """A :class:`Trainer` for ``recipe``: data loaded, models initialised from the
    recipe's seed, parts checked against each other, and the callbacks of
    :func:`recipe_callbacks` before ``callbacks``. ``compile`` is the
    trainer's (a ``torch.compile`` mode, or ``None``). Without a run directory,
    ``sample_every`` and ``checkpoint_every`` have nothing to write to: a
    :class:`ganzoo.Run` honours them."""
    registry = registry or default_registry()
    watching = recipe_callbacks(recipe, data_dir, registry)  # checked before the data is loaded
    augmentation = None if recipe.augment is None else create("augmentations", recipe.augment, registry=registry)
    data = load_dataset(recipe.dataset, data_dir, registry)
    torch.manual_seed(recipe.seed)
    generator = create("generators", recipe.generator, data.spec, registry=registry)
    discriminator = create("discriminators", recipe.discriminator, data.spec, registry=registry)
    loss = create("losses", recipe.loss, registry=registry)
    if getattr(discriminator, "auxiliary_classes", None) is not None and not isinstance(loss, ScoreLoss):
        raise GanzooError(f"discriminator {recipe.discriminator.name!r} has an auxiliary classifier, whose class loss "
                          f"losses built on ganzoo.losses.ScoreLoss add; loss {recipe.loss.name!r} is not one "
                          "(use e.g. non-saturating, hinge or wgan-gp)")
    if any(hasattr(model, "init_from_data") for model in (generator, discriminator)):
        # Optional data-dependent initialisation (output biases from the data's
        # marginals, weight-norm scales from a first batch), from the whole
        # training set (an even spread of INIT_SAMPLES of a larger streamed one:
        # the only way a streamed run can differ from a held one), so it is the
        # same for every run of the recipe.
        if isinstance(data, TensorData):
            x = data.x
        else:
            x = data.take(torch.arange(0, len(data), -(-len(data) // INIT_SAMPLES))).x
        for model in (generator, discriminator):
            if hasattr(model, "init_from_data"):
                model.init_from_data(x)
    check_compatible(generator, discriminator, data.spec)
    if augmentation is not None:
        check_augmentation(augmentation, data.spec)
        augment_inputs(discriminator, augmentation)
    return Trainer(
        generator, discriminator, loss, data,
        batch_size=recipe.batch_size, steps=recipe.steps, epochs=recipe.epochs,
        n_critic=recipe.n_critic, g_steps=recipe.g_steps, simultaneous=recipe.simultaneous,
        g_optim=optimizer(recipe.g_optim, registry), d_optim=optimizer(recipe.d_optim, registry),
        device=device, seed=recipe.seed, amp=recipe.amp, sync_batchnorm=recipe.sync_batchnorm, compile=compile,
        log_every=recipe.log_every,
        callbacks=[*watching, *callbacks], recipe=recipe.to_dict(),
    )
