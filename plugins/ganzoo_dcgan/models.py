"""DCGAN generator and discriminator (Radford et al. 2015, Sections 3 and 4).

Both follow the paper's guidelines: transposed convolutions in G and strided
convolutions in D, no hidden fully connected layer, BatchNorm everywhere except
G's output and D's input, ReLU in G with a tanh output, LeakyReLU 0.2 in D,
weights N(0, 0.02). The image size sets the depth: each stride-2 layer doubles
the side, from 7×7 for 28×28 images and from 4×4 for 32 and 64.
"""

from __future__ import annotations

import torch
from typing import Literal

from torch import Tensor, nn

import ganzoo.nn
from ganzoo import DataSpec, Discriminator, Generator, PositiveInt, output_activation
from ganzoo.nn import image_spec, ladder


def dcgan_init(module: nn.Module) -> None:
    """The paper's initialisation: conv weights N(0, 0.02), BatchNorm scale N(1, 0.02), biases 0."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if getattr(layer, "bias", None) is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class DCGANGenerator(Generator):
    """z → (1×1 → start×start projection) → stride-2 transposed convolutions → tanh image.

    ``width`` is the channels of the last hidden layer; each layer towards z
    doubles it (width 64 at 28×28: 100 → 128×7×7 → 64×14×14 → 1×28×28).
    """

    def __init__(self, spec: DataSpec, latent_dim: PositiveInt = 100, width: PositiveInt = 64) -> None:
        super().__init__()
        channels, size = image_spec(spec, "the dcgan generator")
        start, doublings = ladder(size)
        self.latent_dim = latent_dim
        widths = [width * 2 ** i for i in reversed(range(doublings))]  # e.g. [128, 64]
        layers: list[nn.Module] = [
            # The projection of z is a transposed convolution from a 1×1 map, as in the paper.
            nn.ConvTranspose2d(latent_dim, widths[0], start, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]), nn.ReLU(True),
        ]
        for a, b in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), output_activation(spec)]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z.view(len(z), -1, 1, 1))


class DCGANDiscriminator(Discriminator):
    """image → stride-2 convolutions (LeakyReLU 0.2, BatchNorm after the first) → one logit.

    The last layer is a convolution over the whole start×start map, i.e. a linear
    read-out of :meth:`features` (width 64 at 28×28: 1×28×28 → 64×14×14 → 128×7×7 → 1).
    ``norm`` replaces the paper's BatchNorm: ``layer`` (over each sample's
    channels and positions) or null (none), as WGAN-GP's critic needs (Gulrajani et
    al. 2017, Section 4: BatchNorm makes one sample's gradient depend on the
    batch). ``spectral_norm`` normalises every convolution (Miyato et al. 2018).
    """

    def __init__(self, spec: DataSpec, width: PositiveInt = 64, norm: Literal["batch", "layer"] | None = "batch",
                 spectral_norm: bool = False) -> None:
        super().__init__()
        channels, size = image_spec(spec, "the dcgan discriminator")
        start, doublings = ladder(size)
        widths = [width * 2 ** i for i in range(doublings)]  # e.g. [64, 128]
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for a, b in zip(widths, widths[1:]):
            if norm is None:
                layers += [nn.Conv2d(a, b, 4, 2, 1)]
            else:
                layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False),
                           nn.BatchNorm2d(b) if norm == "batch" else nn.GroupNorm(1, b)]
            layers.append(nn.LeakyReLU(0.2, True))
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(widths[-1], 1, start, 1, 0)
        self.feature_shape = (widths[-1], start, start)
        dcgan_init(self)
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The last convolutional block's activations, flattened (``width·2^(k-1)·start²`` values)."""
        return self.body(x).flatten(1)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.body(x)).view(len(x))

