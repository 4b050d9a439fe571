"""DCGAN (Radford et al. 2015): convolutional generator and discriminator, and its recipes.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from ganzoo import Component, Recipe, hookimpl

from .models import DCGANDiscriminator, DCGANGenerator

ADAM = Component("adam", lr=2e-4, betas=(0.5, 0.999))


def _recipe(dataset: Component, batch_size: int, description: str, **fields) -> Recipe:
    # The paper's hyperparameters (Radford et al. 2015, Section 4): data in [-1, 1], Adam 2e-4, β1 0.5.
    return Recipe(
        dataset=dataset,
        generator=Component("dcgan", latent_dim=100, width=64),
        discriminator=Component("dcgan", width=64),
        loss=Component("non-saturating"),
        g_optim=ADAM,
        d_optim=ADAM,
        batch_size=batch_size,
        sample_every=500,
        description=description,
    ).replace(**fields)


@hookimpl
def register_generators(register):
    register("dcgan", DCGANGenerator)


@hookimpl
def register_discriminators(register):
    register("dcgan", DCGANDiscriminator)


@hookimpl
def register_recipes(register):
    # 25 epochs: the shortest length, in steps of 5 epochs, at which dcgan-mnist's FD is
    # below the default vanilla-mnist's (the recipe's target; docs/recipes/dcgan.md).
    register("dcgan-mnist", _recipe(Component("mnist"), 128, "DCGAN on MNIST (paper hyperparameters)",
                                    steps=None, epochs=25))
    register("dcgan-fashion-mnist", _recipe(Component("fashion-mnist"), 128, "DCGAN on Fashion-MNIST",
                                            steps=None, epochs=25))
    # The same networks and length with the hinge loss (Lim & Ye 2017; Miyato et al. 2018).
    register("hinge-dcgan-fashion-mnist", _recipe(Component("fashion-mnist"), 128,
                                                  "DCGAN on Fashion-MNIST with the hinge loss",
                                                  steps=None, epochs=25, loss=Component("hinge")))
    # WGAN-GP (Gulrajani et al. 2017, Algorithm 1): λ = 10, five critic updates per G
    # update, Adam(1e-4, β = (0, 0.9)), a DCGAN critic without BatchNorm.
    wgan_adam = Component("adam", lr=1e-4, betas=(0.0, 0.9))
    register("wgan-gp-mnist", _recipe(Component("mnist"), 64, "WGAN-GP on MNIST: DCGAN G, critic without BatchNorm",
                                      steps=20_000, epochs=None, loss=Component("wgan-gp", gp_weight=10.0),
                                      discriminator=Component("dcgan", width=64, norm=None), n_critic=5,
                                      g_optim=wgan_adam, d_optim=wgan_adam, sample_every=1000))
    # The Stacked MNIST benchmark of VEEGAN (Srivastava et al. 2017, Table 2) and PacGAN
    # (Lin et al. 2018, Table 2): 128k images, batch 64, 50 epochs.
    register("dcgan-stacked-mnist", _recipe(Component("stacked-mnist"), 64,
                                            "DCGAN on Stacked MNIST (1000 modes), the mode-collapse benchmark",
                                            steps=None, epochs=50))
    # Radford et al. 2015 trained on LSUN, Imagenet-1k and faces; CIFAR-10 at 32×32 is the
    # benchmark the later literature reports DCGAN on (e.g. Kang et al.'s StudioGAN).
    register("dcgan-cifar10", _recipe(Component("cifar10"), 128, "DCGAN on CIFAR-10 (32×32 colour)",
                                      steps=None, epochs=30))
    # Your own images: --set dataset.root=~/photos (see `ganzoo list datasets` for its options);
    # for a few hundred images, --set augment=diffaugment (Zhao et al. 2020).
    register("dcgan-folder", _recipe(Component("image-folder", size=64), 64,
                                     "DCGAN on a folder of your own images (--set dataset.root=DIR), 64×64; "
                                     "--set augment=diffaugment for small folders",
                                     steps=20_000, epochs=None))
