"""Minibatch discrimination (Salimans et al. 2016) and the mode-collapse benchmarks it is for.

``minibatch(trunk=...)`` adds the layer to any registered discriminator that
exposes ``features(x)``. The recipes pair a plain GAN baseline with its MBD
version on PacGAN's ring and grid of Gaussians and on Stacked MNIST (anchors.md §5).
Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import Component, Recipe, get_recipe, hookimpl

from .layer import MinibatchDiscrimination
from .models import MinibatchDiscriminator

__all__ = ["MinibatchDiscrimination", "MinibatchDiscriminator"]

# PacGAN's 2-d setup (fjxmlzn/PacGAN, synthetic_data_experiments): G 4×400 ReLU with
# BatchNorm from a 2-d normal z, D 3×200 maxout (5 pieces), Adam lr 1e-4 β1 0.8,
# batch 100, 100k training points.
MIXTURE_G = Component("mlp", latent_dim=2, hidden=(400, 400, 400, 400), activation="relu", batchnorm=True)
MIXTURE_D = dict(hidden=(200, 200, 200), pieces=5, input_dropout=0.0, dropout=0.0, init_range=None)
MIXTURE_ADAM = Component("adam", lr=1e-4, betas=(0.8, 0.999))


def _mixture(dataset: str, minibatch: bool, description: str) -> Recipe:
    discriminator = (Component("minibatch", trunk="maxout", **MIXTURE_D) if minibatch
                     else Component("maxout", **MIXTURE_D))
    return Recipe(
        dataset=Component(dataset), generator=MIXTURE_G, discriminator=discriminator,
        g_optim=MIXTURE_ADAM, d_optim=MIXTURE_ADAM,
        batch_size=100, steps=None, epochs=20, log_every=100, sample_every=2000,
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
