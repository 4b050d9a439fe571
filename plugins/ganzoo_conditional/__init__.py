"""Conditional GAN (Mirza & Osindero 2014): generators and discriminators that take class labels.

``conditional-mlp``/``conditional-maxout`` are the paper's MLP model; the
``conditional`` generator and the ``projection`` and ``acgan`` discriminators
wrap any registered model, which is how ``cdcgan-mnist`` builds a conditional
DCGAN and ``acgan-mnist`` an AC-GAN. Registered
through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import Component, Derived, Recipe, hookimpl

from .models import (ACGANDiscriminator, ConditionalMaxoutDiscriminator, ConditionalMLPGenerator,
                     LabelConcatGenerator, ProjectionDiscriminator)

ADAM = Component("adam", lr=2e-4, betas=(0.5, 0.999))


@hookimpl
def register_generators(register):
    register("conditional-mlp", ConditionalMLPGenerator)
    register("conditional", LabelConcatGenerator)


@hookimpl
def register_discriminators(register):
    register("conditional-maxout", ConditionalMaxoutDiscriminator)
    register("projection", ProjectionDiscriminator)
    register("acgan", ACGANDiscriminator,
             description="any discriminator with an auxiliary classifier and its class loss (Odena et al. 2017)")


@hookimpl
def register_recipes(register):
    # An MLP conditional GAN: the tutorial MLPs of vanilla-mnist, the one-hot label
    # appended to z in G and projected onto D's features (Miyato & Koyama 2018). Not the
    # paper's own networks (conditional-mlp / conditional-maxout): their G's label path
    # (1000 units against z's 200) drowns z and its sigmoid saturates, so they give one
    # image per class; the runs are in docs/results-log.md (Conditional GAN).
    register("cgan-mnist", Recipe(
        dataset=Component("mnist"),
        generator=Component("conditional", base="mlp"),
        discriminator=Component("projection", trunk="mlp"),
        g_optim=ADAM, d_optim=ADAM,
        batch_size=100, steps=None, epochs=30, sample_every=1000,
        description="conditional MLP GAN on MNIST: one-hot labels into G, projection D",
    ))
    register("cdcgan-mnist", Recipe(
        dataset=Component("mnist"),
        generator=Component("conditional", base="dcgan", width=64),
        discriminator=Component("projection", trunk="dcgan", width=64),
        g_optim=ADAM, d_optim=ADAM,
        batch_size=128, steps=None, epochs=5, sample_every=500,
        description="conditional DCGAN on MNIST: one-hot labels into G, projection D",
    ))
    # AC-GAN (Odena et al. 2017): the same G and D trunk as cdcgan-mnist, D classifying
    # instead of seeing the label, so the two conditionings compare side by side.
    register("acgan-mnist", Derived(
        "cdcgan-mnist", discriminator=Component("acgan", trunk="dcgan", width=64),
        description="AC-GAN on MNIST: one-hot labels into G, D with an auxiliary classifier",
    ))
