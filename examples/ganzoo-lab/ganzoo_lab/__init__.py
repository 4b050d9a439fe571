"""ganzoo-lab: a research toolkit as one third-party plugin.

A 2-d spiral dataset with a train and a test split, measured in its own
reference features (random Fourier features of a Gaussian kernel); a kernel MMD
metric that works in any dataset's reference features; optimistic Adam; a
callback that keeps the best checkpoint by an evaluation metric; a ``ganzoo
runs`` command; and a recipe that uses them all. Nothing in ganzoo's core was
changed for it.
"""

import ganzoo
from ganzoo import Component

from .best import BestCheckpoint
from .mmd import KernelMMD
from .optimistic import optimistic_adam
from .runs import runs
from .spiral import RandomFourierFeatures, spiral


@ganzoo.hookimpl
def register_datasets(register):
    register("spiral", spiral)


@ganzoo.hookimpl
def register_references(register):
    register("spiral-rff", RandomFourierFeatures)


@ganzoo.hookimpl
def register_metrics(register):
    register("mmd", KernelMMD())


@ganzoo.hookimpl
def register_optimizers(register):
    register("optimistic-adam", optimistic_adam)


@ganzoo.hookimpl
def register_callbacks(register):
    register("best-checkpoint", BestCheckpoint)


@ganzoo.hookimpl
def register_commands(register):
    register("runs", runs)


@ganzoo.hookimpl
def register_recipes(register):
    # Components of other plugins (mlp, non-saturating) compose by name.
    register("gan-spiral", ganzoo.Recipe(
        dataset=Component("spiral"),
        generator=Component("mlp", latent_dim=8, hidden=(256, 256, 256), batchnorm=True),
        discriminator=Component("mlp", hidden=(256, 256, 256)),
        loss=Component("non-saturating"),
        g_optim=Component("optimistic-adam", lr=2e-4, betas=(0.5, 0.999)),
        d_optim=Component("optimistic-adam", lr=2e-4, betas=(0.5, 0.999)),
        callbacks=(Component("best-checkpoint", metric="mmd"),),
        batch_size=128,
        steps=20_000,
        epochs=None,
        eval_every=1000,
        eval_metrics=("mmd", "fd", "coverage"),
        eval_n=2000,
        sample_every=1000,
        description="a GAN on the two-arm spiral with optimistic Adam, kept at its best kernel MMD",
    ))
