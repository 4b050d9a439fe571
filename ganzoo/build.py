"""From a recipe (names and options) to a ready :class:`Trainer`.

Building checks the parts against each other before any training: one forward
pass of a tiny batch shows whether G's output has the data's shape and whether D
accepts it, so a mismatch costs a second, not a crashed run.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, Sequence

import torch
from torch import nn

from .components import DataSpec, discriminate, generate
from .data import TensorData
from .errors import GanzooError
from .options import check_option
from .recipe import Component, Recipe
from .registry import SINGULAR, Registry, default_registry
from .settings import data_dir as resolve_data_dir
from .trainer import Trainer


def create(kind: str, component: Component | str, *args: Any, registry: Registry | None = None) -> Any:
    """Instantiate one registered component: ``create("generators", Component("mlp"), spec)``.

    Generators and discriminators take the ``DataSpec``, datasets the data root,
    losses nothing but their options.
    """
    component = Component(component) if isinstance(component, str) else component
    if not isinstance(component, Component):
        raise GanzooError(f"a {SINGULAR[kind]} is named by a string or a Component, got {component!r}")
    registry = registry or default_registry()
    entry = registry.get(kind, component.name)
    what = f"{SINGULAR[kind]} {component.name!r}"
    options = {name: check_option(entry.obj, name, value, what, what) for name, value in component.options.items()}
    try:
        inspect.signature(entry.obj).bind(*args, **options)
    except TypeError as exc:
        raise GanzooError(f"{what}: {exc}; check the recipe's options for it") from None
    try:
        return entry.obj(*args, **options)
    except GanzooError:
        raise
    except Exception as exc:  # noqa: BLE001 - a factory is a plugin's code; its failure is one line
        first = (str(exc).strip().splitlines() or [""])[0]
        shown = ", ".join(f"{k}={v!r}" for k, v in options.items()) or "no options"
        raise GanzooError(f"{what} (plugin {entry.plugin!r}) could not be built with {shown}: "
                          f"{type(exc).__name__}: {first}") from None


def load_dataset(component: Component | str, data_dir: str | os.PathLike | None = None,
                 registry: Registry | None = None, **options: Any) -> TensorData:
    """The dataset a component names, read from ``data_dir`` (else ``GANZOO_DATA_DIR``);
    ``options`` add to the component's (``load_dataset("mnist", split="test")``)."""
    component = Component(component) if isinstance(component, str) else component
    if options and isinstance(component, Component):
        component = component.replace(**options)
    return create("datasets", component, resolve_data_dir(data_dir), registry=registry)


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


def build(
    recipe: Recipe,
    *,
    data_dir: str | os.PathLike | None = None,
    device: str | torch.device = "auto",
    callbacks: Sequence[Any] = (),
    registry: Registry | None = None,
) -> Trainer:
    """A :class:`Trainer` for ``recipe``: data loaded, models initialised from the
    recipe's seed, parts checked against each other."""
    registry = registry or default_registry()
    data = load_dataset(recipe.dataset, data_dir, registry)
    torch.manual_seed(recipe.seed)
    generator = create("generators", recipe.generator, data.spec, registry=registry)
    discriminator = create("discriminators", recipe.discriminator, data.spec, registry=registry)
    loss = create("losses", recipe.loss, registry=registry)
    for model in (generator, discriminator):
        # Optional data-dependent initialisation (output biases from the data's
        # marginals, weight-norm scales from a first batch), from the whole
        # training set, so it is the same for every run of the recipe.
        if hasattr(model, "init_from_data"):
            model.init_from_data(data.x)
    check_compatible(generator, discriminator, data.spec)
    schedule = recipe.schedule()  # part of how the recipe trains, so not left to the caller
    callbacks = [schedule, *callbacks] if schedule is not None else list(callbacks)
    return Trainer(
        generator, discriminator, loss, data,
        batch_size=recipe.batch_size, steps=recipe.steps, epochs=recipe.epochs,
        n_critic=recipe.n_critic, g_steps=recipe.g_steps, simultaneous=recipe.simultaneous,
        g_optim=recipe.g_optim, d_optim=recipe.d_optim,
        device=device, seed=recipe.seed, amp=recipe.amp, log_every=recipe.log_every,
        callbacks=callbacks, recipe=recipe,
    )
