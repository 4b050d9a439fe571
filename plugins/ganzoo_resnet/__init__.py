"""The SNGAN ResNet generator and discriminator (Miyato et al. 2018), and the recipes
of SNGAN and of WGAN-GP's ResNet (Gulrajani et al. 2017) on them.

Registered through the ``ganzoo`` entry-point group like any third-party plugin;
the losses, spectral norm and the CIFAR-10 dataset come by name from other plugins.
"""

from ganzoo import Component, Recipe, hookimpl

from .models import ResNetDiscriminator, ResNetGenerator

# Adam(2e-4, β = (0, 0.9)) with five D updates per G update: the setting of SNGAN's
# ResNet experiments (Miyato et al. 2018, Appendix B) as Mimicry trains it, and of
# WGAN-GP's CIFAR-10 ResNet.
ADAM = Component("adam", lr=2e-4, betas=(0.0, 0.9))
# 100k G updates × 5 D updates × 64 images = 640 epochs of CIFAR-10's 50k: both
# learning rates fall linearly to zero over the run, as Mimicry's SNGAN and WGAN-GP's
# CIFAR-10 code do.
LINEAR_DECAY = Component("decay", linear_decay=(0, 640))


@hookimpl
def register_generators(register):
    register("resnet", ResNetGenerator)


@hookimpl
def register_discriminators(register):
    register("resnet", ResNetDiscriminator)


@hookimpl
def register_recipes(register):
    # Mimicry's SNGAN protocol (Lee & Town 2020): ngf 256, ndf 128, batch 64, n_dis 5,
    # 100k steps, linear decay; FID 16.77 at 100k steps on 50k samples.
    register("sngan-cifar10", Recipe(
        dataset=Component("cifar10"),
        generator=Component("resnet", latent_dim=128, width=256),
        discriminator=Component("resnet", width=128, spectral_norm=True),
        loss=Component("hinge"), g_optim=ADAM, d_optim=ADAM, schedule=LINEAR_DECAY,
        batch_size=64, n_critic=5, steps=100_000, epochs=None, sample_every=2000, checkpoint_every=5000,
        description="SNGAN on CIFAR-10: ResNet, hinge loss, spectral norm (Miyato et al. 2018), 100k steps",
    ))
    # Gulrajani et al. 2017's CIFAR-10 ResNet (their gan_cifar_resnet.py): 128 channels,
    # no normalisation in the critic, λ = 10, five critic updates, 100k steps, linear decay.
    register("wgan-gp-cifar10", Recipe(
        dataset=Component("cifar10"),
        generator=Component("resnet", latent_dim=128, width=128),
        discriminator=Component("resnet", width=128),
        loss=Component("wgan-gp", gp_weight=10.0), g_optim=ADAM, d_optim=ADAM, schedule=LINEAR_DECAY,
        batch_size=64, n_critic=5, steps=100_000, epochs=None, sample_every=2000, checkpoint_every=5000,
        description="WGAN-GP's ResNet on CIFAR-10 (Gulrajani et al. 2017), 100k steps",
    ))
    # The same SNGAN at 28×28 with 128 channels in G: a ResNet that fits a laptop's
    # patience on Fashion-MNIST (no paper reports this one; it is the CIFAR recipe scaled down).
    register("sngan-fashion-mnist", Recipe(
        dataset=Component("fashion-mnist"),
        generator=Component("resnet", latent_dim=128, width=128),
        discriminator=Component("resnet", width=128, spectral_norm=True),
        loss=Component("hinge"), g_optim=ADAM, d_optim=ADAM,
        batch_size=64, n_critic=5, steps=20_000, epochs=None, sample_every=1000,
        description="SNGAN on Fashion-MNIST: ResNet G and D at 28×28, hinge loss, spectral norm",
    ))
