"""The MLP generator and discriminator of the classic GAN tutorials (anchors.md §1)."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from ganzoo import DataSpec, Discriminator, GanzooError, Generator


def output_activation(spec: DataSpec) -> nn.Module:
    """tanh for data in [-1, 1], sigmoid for data in [0, 1], none for unbounded data."""
    if spec.value_range is None:
        return nn.Identity()
    if tuple(spec.value_range) == (-1.0, 1.0):
        return nn.Tanh()
    if tuple(spec.value_range) == (0.0, 1.0):
        return nn.Sigmoid()
    raise GanzooError(f"no output activation for data in {spec.value_range}; use value_range [-1,1] or [0,1]")


class MLPGenerator(Generator):
    """MLP generator: z → LeakyReLU+BatchNorm hidden layers → data shape (tanh/sigmoid)."""

    def __init__(self, spec: DataSpec, latent_dim: int = 100, hidden: Sequence[int] = (256, 512, 1024),
                 batchnorm: bool = True, bn_momentum: float = 0.2) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.shape = tuple(spec.shape)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            # Keras order (Dense → LeakyReLU → BatchNorm); Keras momentum 0.8 is PyTorch 0.2.
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            if batchnorm:
                layers.append(nn.BatchNorm1d(h, momentum=bn_momentum))
            width = h
        layers += [nn.Linear(width, math.prod(self.shape)), output_activation(spec)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z).view(-1, *self.shape)


class MLPDiscriminator(Discriminator):
    """MLP discriminator: flattened data → LeakyReLU hidden layers → one logit."""

    def __init__(self, spec: DataSpec, hidden: Sequence[int] = (512, 256), dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(spec.shape)
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)
        self.in_features = math.prod(spec.shape)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The last hidden layer's activations."""
        return self.body(x)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.body(x)).squeeze(-1)
