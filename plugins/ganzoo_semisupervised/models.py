"""The permutation-invariant MNIST networks of Salimans et al. 2016 (Section 6.1, Table 1).

Layer for layer the reference code's (openai/improved-gan,
``train_mnist_feature_matching.py``): a discriminator of weight-normalised ReLU
layers with Gaussian noise on every layer's input, whose K outputs are class
logits (the fake class's logit is fixed at 0), and a softplus generator with
BatchNorm and a weight-normalised sigmoid output.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo import (DataSpec, Discriminator, GanzooError, Generator, NonNegativeFloat, NonNegativeInt, PositiveInt,
                    Widths)
from ganzoo.nn import GaussianNoise, WeightNormLinear


class SemiSupervisedDiscriminator(Discriminator):
    """K-class discriminator: noise σ 0.3 on the input, weight-normalised ReLU layers
    (1000-500-250-250-250) each followed by noise σ 0.5, then K logits.

    ``forward`` returns the ``(n, K)`` class logits; with the fake class's logit at 0,
    D(x) = Z/(Z+1) for Z = Σ exp(logits). ``features`` is the last hidden layer,
    which feature matching compares.
    """

    def __init__(self, spec: DataSpec, hidden: Widths = (1000, 500, 250, 250, 250),
                 input_noise: NonNegativeFloat = 0.3, noise: NonNegativeFloat = 0.5,
                 init_batch: NonNegativeInt = 500) -> None:
        super().__init__()
        if spec.num_classes is None:
            raise GanzooError("the semi-supervised discriminator needs a labelled dataset (its outputs are classes); "
                              "use e.g. semi-supervised(base=mnist)")
        self.num_classes = spec.num_classes
        width = math.prod(spec.shape)
        self.input_noise = GaussianNoise(input_noise)
        self.hidden = nn.ModuleList()
        self.noise = nn.ModuleList()
        for h in hidden:
            self.hidden.append(WeightNormLinear(width, h))
            self.noise.append(GaussianNoise(noise))
            width = h
        self.out = WeightNormLinear(width, self.num_classes, train_scale=True)
        self.init_batch = init_batch

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The last hidden layer's activations (before its noise)."""
        h = self.input_noise(x.flatten(1))
        for i, layer in enumerate(self.hidden):
            h = F.relu(layer(h))
            if i < len(self.hidden) - 1:
                h = self.noise[i](h)
        return h

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.out(self.noise[-1](self.features(x)))

    @torch.no_grad()
    def init_from_data(self, x: Tensor) -> None:
        """The reference's data-dependent init: on the first ``init_batch`` training
        samples, in training mode (noise on), every layer's outputs get mean 0, std 1."""
        if self.init_batch == 0:
            return
        h = self.input_noise(x[: self.init_batch].flatten(1))
        for layer, noise in zip(self.hidden, self.noise):
            h = noise(F.relu(layer.init_from(h)))
        self.out.init_from(h)


_OUTPUTS = {"sigmoid": torch.sigmoid, "softplus": F.softplus}


class _Shift(nn.Module):
    """A learned per-unit offset: BatchNorm's β without its γ, as in the reference G."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.bias


class SemiSupervisedGenerator(Generator):
    """z ~ U(0, 1)^100 → (linear, BatchNorm without scale, softplus) × 2 (500 wide) →
    weight-normalised linear → ``output``, for data in [0, 1].

    ``output="sigmoid"`` is the reference's last activation and the recipe's. With a
    sigmoid under torch's Adam, G falls behind D and can collapse onto one saturated
    image, whose sigmoid passes back almost no gradient; the reference's Adam
    (``adam-eps-inside``) makes that rare. ``"softplus"``, the one another PyTorch
    port (Sleepychord/ImprovedGAN-pytorch) switched to, saturates only below, not
    towards white, so it does not collapse that way, but trains to a worse test
    error (the runs: docs/results-log.md). Softplus samples are not capped at 1.
    """

    def __init__(self, spec: DataSpec, latent_dim: PositiveInt = 100, hidden: Widths = (500, 500),
                 output: str = "sigmoid") -> None:
        super().__init__()
        if output not in _OUTPUTS:
            raise GanzooError(f"generator output {output!r}: choose {' or '.join(_OUTPUTS)}")
        if tuple(spec.value_range or ()) != (0.0, 1.0):
            raise GanzooError(f"the semi-supervised generator needs data in [0, 1], not "
                              f"{spec.value_range}; set the dataset's value_range=[0,1]")
        self.latent_dim, self.shape = latent_dim, tuple(spec.shape)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            linear = nn.Linear(width, h, bias=False)
            nn.init.xavier_uniform_(linear.weight)  # Lasagne's default
            layers += [linear, nn.BatchNorm1d(h, eps=1e-6, affine=False, momentum=0.1), _Shift(h), nn.Softplus()]
            width = h
        self.net = nn.Sequential(*layers)
        self.out = WeightNormLinear(width, math.prod(self.shape), train_scale=True)
        nn.init.xavier_uniform_(self.out.v)
        self.activation = _OUTPUTS[output]

    def sample_latent(self, n: int, device: torch.device | str | None = None) -> Tensor:
        """Uniform on [0, 1)^latent_dim, as in the reference code."""
        return torch.rand(n, self.latent_dim, device=device)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.activation(self.out(self.net(z))).view(-1, *self.shape)
