"""Minibatch discrimination (Salimans et al. 2016) and the mode-collapse benchmarks it is for.

``minibatch(trunk=...)`` adds the layer to any registered discriminator that
exposes ``features(x)``. The recipes pair a plain GAN baseline with its MBD
version on PacGAN's ring and grid of Gaussians and on Stacked MNIST (Lin et al. 2018,
Tables 1 and 2).
Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import Component, Recipe, hookimpl

from .layer import MinibatchDiscrimination
from .models import MinibatchDiscriminator

__all__ = ["MinibatchDiscrimination", "MinibatchDiscriminator"]

# PacGAN's 2-d setup (fjxmlzn/PacGAN, synthetic_data_experiments): G 4×400 ReLU with
# BatchNorm from a 2-d normal z, D 3×200 maxout (5 pieces), Adam lr 1e-4 β1 0.8,
# batch 100, 100k training points.
MIXTURE_G = Component("mlp", latent_dim=2, hidden=(400, 400, 400, 400), activation="relu", batchnorm=True,
                      bn_first=True, bn_momentum=0.05, init_std=0.02)
MIXTURE_D = dict(hidden=(200, 200, 200), pieces=5, input_dropout=0.0, dropout=0.0, init_range=None, init_std=0.02)
MIXTURE_ADAM = Component("adam", lr=1e-4, betas=(0.8, 0.999))


def _mixture(dataset: str, minibatch: bool, description: str) -> Recipe:
    # No data-dependent init of the layer here: on σ = 0.01 clusters the nearest real
    # neighbour is ~0.01 away, so scaling it to distance 2 makes a kernel so sharp that
    # D separates real from generated batches at once and G can only answer by pulling
    # its samples together (docs/results-log.md, Minibatch discrimination).
    discriminator = (Component("minibatch", trunk="maxout", init_batch=0, **MIXTURE_D) if minibatch
                     else Component("maxout", **MIXTURE_D))
    return Recipe(
        dataset=Component(dataset), generator=MIXTURE_G, discriminator=discriminator,
        g_optim=MIXTURE_ADAM, d_optim=MIXTURE_ADAM,
        # openai/improved-gan's minibatch-discrimination scripts make three G updates per
        # D update; the plain GAN is PacGAN's baseline and keeps PacGAN's one (the runs of
        # both choices: docs/results-log.md, Minibatch discrimination).
        g_steps=3 if minibatch else 1,
        # PacGAN trains 400 epochs of 1,000 steps; 5 keeps a 5-seed benchmark within a CPU's reach.
        batch_size=100, steps=None, epochs=5, log_every=100, sample_every=1000,
        description=description,
    )


@hookimpl
def register_discriminators(register):
    register("minibatch", MinibatchDiscriminator)


@hookimpl
def register_recipes(register):
    register("gan-ring", _mixture("ring", False, "plain GAN on PacGAN's ring of 8 Gaussians (mode-collapse baseline)"))
    register("gan-grid", _mixture("grid", False, "plain GAN on PacGAN's grid of 25 Gaussians (mode-collapse baseline)"))
    register("mbd-ring", _mixture("ring", True, "minibatch discrimination on PacGAN's ring of 8 Gaussians"))
    register("mbd-grid", _mixture("grid", True, "minibatch discrimination on PacGAN's grid of 25 Gaussians"))
    # dcgan-stacked-mnist with the layer on the DCGAN discriminator's features.
    adam = Component("adam", lr=2e-4, betas=(0.5, 0.999))
    register("mbd-stacked-mnist", Recipe(
        dataset=Component("stacked-mnist"), generator=Component("dcgan", latent_dim=100, width=64),
        discriminator=Component("minibatch", trunk="dcgan", width=64),
        g_optim=adam, d_optim=adam, batch_size=64, steps=None, epochs=50, sample_every=500,
        description="DCGAN with minibatch discrimination on Stacked MNIST (1000 modes)",
    ))
