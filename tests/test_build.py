"""Building a recipe checks G against the data and D against G before training."""

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo import Component, DataSpec, GanzooError, Generator, check_compatible


class WrongShapeG(Generator):
    latent_dim = 8

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 32 * 32)

    def forward(self, z, y=None):
        return self.lin(z).view(-1, 1, 32, 32)


def mnist_spec():
    return DataSpec((1, 28, 28), 10, (-1.0, 1.0))


def test_generator_with_wrong_output_shape_names_both_shapes():
    D = ganzoo.create("discriminators", "mlp", mnist_spec())
    with pytest.raises(GanzooError) as info:
        check_compatible(WrongShapeG(), D, mnist_spec())
    assert "(1, 32, 32)" in str(info.value) and "(1, 28, 28)" in str(info.value)


def test_discriminator_that_rejects_the_samples_names_both_shapes():
    G = ganzoo.create("generators", "mlp", mnist_spec())
    D = ganzoo.create("discriminators", "mlp", DataSpec((1, 32, 32)))  # built for other data
    with pytest.raises(GanzooError) as info:
        check_compatible(G, D, mnist_spec())
    assert "cannot take samples of shape (1, 28, 28)" in str(info.value)


def test_check_leaves_rng_and_batchnorm_statistics_untouched():
    G = ganzoo.create("generators", "mlp", mnist_spec())
    D = ganzoo.create("discriminators", "mlp", mnist_spec())
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm1d)][0]
    stats = bn.running_mean.clone()
    rng = torch.get_rng_state()
    check_compatible(G, D, mnist_spec())
    assert torch.equal(rng, torch.get_rng_state())
    assert torch.equal(stats, bn.running_mean)
    assert G.training and D.training


def test_build_gives_a_trainer_with_the_recipe_settings(tiny_recipe, data_dir):
    trainer = ganzoo.build(tiny_recipe.replace(batch_size=16, n_critic=2, g_steps=3), data_dir=data_dir, device="cpu")
    assert trainer.batch_size == 16 and trainer.n_critic == 2 and trainer.g_steps == 3
    assert trainer.data.spec == mnist_spec()
    assert isinstance(trainer.g_optim, torch.optim.Adam) and trainer.g_optim.defaults["betas"] == (0.5, 0.999)


def test_build_is_reproducible_from_the_seed(tiny_recipe, data_dir):
    a = ganzoo.build(tiny_recipe, data_dir=data_dir, device="cpu")
    b = ganzoo.build(tiny_recipe, data_dir=data_dir, device="cpu")
    c = ganzoo.build(tiny_recipe.replace(seed=5), data_dir=data_dir, device="cpu")
    assert torch.equal(next(a.generator.parameters()), next(b.generator.parameters()))
    assert not torch.equal(next(a.generator.parameters()), next(c.generator.parameters()))


def test_bad_component_options_are_one_line_errors():
    with pytest.raises(GanzooError, match="generator 'mlp' has no option 'widht'"):
        ganzoo.create("generators", Component("mlp", widht=3), mnist_spec())


def test_own_modules_compose_with_registered_ones(small_mnist):
    """Python users may pass any nn.Module and loss object directly."""
    class TinyG(Generator):
        latent_dim = 4

        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 784)

        def forward(self, z, y=None):
            return torch.tanh(self.lin(z)).view(-1, 1, 28, 28)

    D = ganzoo.create("discriminators", "mlp", small_mnist.spec)
    trainer = ganzoo.Trainer(TinyG(), D, ganzoo.create("losses", "minimax"), small_mnist,
                             batch_size=32, steps=3, device="cpu").fit()
    assert trainer.step == 3 and trainer.sample(5).shape == (5, 1, 28, 28)
