"""Least-squares GAN (Mao et al. 2017) as a ganzoo plugin: one loss and one recipe."""

import ganzoo
from ganzoo import Component, discriminate, generate


class LSGANLoss(ganzoo.GANLoss):
    """Least-squares GAN loss: D regresses real to 1 and fake to 0, G pushes fakes to 1."""

    def discriminator_loss(self, batch, G, D):
        fake = generate(G, len(batch), batch.y, batch.x.device)
        real_out = discriminate(D, batch.x, batch.y)
        fake_out = discriminate(D, fake, batch.y)
        loss = 0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out**2).mean()
        # D regresses, so its outputs are not the probabilities d_real/d_fake name: own names
        return loss, {"ls_real": real_out.mean().detach(), "ls_fake": fake_out.mean().detach()}

    def generator_loss(self, batch, G, D):
        fake = generate(G, len(batch), batch.y, batch.x.device)
        return 0.5 * ((discriminate(D, fake, batch.y) - 1) ** 2).mean(), {}


@ganzoo.hookimpl
def register_losses(register):
    register("lsgan", LSGANLoss)


@ganzoo.hookimpl
def register_recipes(register):
    # Components from other plugins (mnist, mlp) compose by name.
    register("lsgan-mnist", ganzoo.Recipe(
        dataset=Component("mnist"),
        generator=Component("mlp"),
        discriminator=Component("mlp"),
        loss=Component("lsgan"),
        steps=10_000,
        epochs=None,
        description="MLP LSGAN on MNIST",
    ))
