"""The vanilla GAN: MLP generator and discriminator, minimax and non-saturating losses.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import Component, Recipe, hookimpl

from .losses import MinimaxLoss, NonSaturatingLoss
from .models import MLPDiscriminator, MLPGenerator

ADAM = Component("adam", lr=2e-4, betas=(0.5, 0.999))


def _tutorial(dataset: str, description: str) -> Recipe:
    # The Keras tutorial's model and optimiser (anchors.md §1), data in [-1, 1].
    return Recipe(
        dataset=Component(dataset),
        generator=Component("mlp", latent_dim=100, hidden=(256, 512, 1024)),
        discriminator=Component("mlp", hidden=(512, 256)),
        loss=Component("non-saturating"),
        g_optim=ADAM,
        d_optim=ADAM,
        batch_size=64,
        steps=10000,
        epochs=None,
        sample_every=1000,
        description=description,
    )


@hookimpl
def register_generators(register):
    register("mlp", MLPGenerator)


@hookimpl
def register_discriminators(register):
    register("mlp", MLPDiscriminator)


@hookimpl
def register_losses(register):
    register("non-saturating", NonSaturatingLoss)
    register("minimax", MinimaxLoss)


@hookimpl
def register_recipes(register):
    register("vanilla-mnist", _tutorial("mnist", "MLP GAN on MNIST (Keras tutorial model), a few minutes on a CPU"))
    register("vanilla-fashion-mnist", _tutorial("fashion-mnist", "MLP GAN on Fashion-MNIST (Keras tutorial model)"))
