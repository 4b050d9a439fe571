"""The vanilla GAN: MLP generator and discriminator, the maxout discriminator of the 2014 paper.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import Component, Recipe, hookimpl

from .models import MaxoutDiscriminator, MLPDiscriminator, MLPGenerator

ADAM = Component("adam", lr=2e-4, betas=(0.5, 0.999))


def _tutorial(dataset: str, description: str) -> Recipe:
    # The Keras GAN tutorial's MLPs and optimiser (Adam 2e-4, β1 0.5) for the GAN of
    # Goodfellow et al. 2014, data in [-1, 1].
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


def _goodfellow() -> Recipe:
    # goodfeli/adversarial mnist.yaml: train on the first 50,000 images (the rest is
    # the Parzen validation set), pixels in [0, 1], SGD lr 0.1 divided by 1.000004
    # after every update (down to 1e-6), momentum 0.5 raised to 0.7 from epoch 1 to 250.
    return Recipe(
        dataset=Component("mnist", value_range=(0.0, 1.0), stop=50_000),
        generator=Component("mlp", latent_dim=100, hidden=(1200, 1200), batchnorm=False,
                            activation="relu", prior="uniform", init_range=0.05),
        discriminator=Component("maxout", hidden=(240, 240), pieces=5, input_dropout=0.2,
                                dropout=0.5, init_range=0.005),
        loss=Component("non-saturating"),
        g_optim=Component("sgd", lr=0.1, momentum=0.5),
        d_optim=Component("sgd", lr=0.1, momentum=0.5),
        schedule=Component("decay", lr_decay=1.000004, min_lr=1e-6, final_momentum=0.7, momentum_saturate=250),
        batch_size=100,
        steps=None,
        epochs=100,
        sample_every=5000,
        description="the 2014 paper's MNIST model: ReLU G with uniform z, maxout D with dropout, SGD",
    )


@hookimpl
def register_generators(register):
    register("mlp", MLPGenerator)


@hookimpl
def register_discriminators(register):
    register("mlp", MLPDiscriminator)
    register("maxout", MaxoutDiscriminator)


@hookimpl
def register_recipes(register):
    register("vanilla-mnist", _tutorial("mnist", "MLP GAN on MNIST (Keras tutorial model), a few minutes on a CPU"))
    register("vanilla-fashion-mnist", _tutorial("fashion-mnist", "MLP GAN on Fashion-MNIST (Keras tutorial model)"))
    register("goodfellow-mnist", _goodfellow())
