"""The ResNet generator and discriminator of SNGAN (Miyato et al. 2018, Appendix B.4,
Tables 4 and 6; the same blocks as Gulrajani et al. 2017's CIFAR-10 ResNet).

G: z → linear to a start×start map → up-blocks (BatchNorm, ReLU, ×2 nearest
upsampling, 3×3 convolutions, a 1×1 shortcut) → BatchNorm, ReLU, 3×3
convolution → image. D: a first down-block straight on the image, down-blocks
until the map is at most 8×8, two blocks without downsampling, ReLU, a sum over
positions (:meth:`ResNetDiscriminator.features`) and a linear read-out.
At 32×32: 4×4 → 8 → 16 → 32 in G, 32 → 16 → 8 → 8 → 8 in D, as the paper's
CIFAR-10 networks; 28×28 (7 → 14 → 28; D 28 → 14 → 7) and 64×64 follow the same rule.
Convolutions start Xavier-uniform (gain √2 in the residual path, 1 in shortcuts
and read-outs), as the authors' code.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import ganzoo.nn
from ganzoo import DataSpec, Discriminator, Generator, PositiveInt, output_activation
from ganzoo.nn import image_spec, ladder


def _xavier(layer: nn.Module, gain: float) -> nn.Module:
    nn.init.xavier_uniform_(layer.weight, gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def _conv(cin: int, cout: int, kernel: int) -> nn.Conv2d:
    return _xavier(nn.Conv2d(cin, cout, kernel, 1, kernel // 2), math.sqrt(2) if kernel == 3 else 1.0)


class UpBlock(nn.Module):
    """BN → ReLU → ×2 → conv 3×3 → BN → ReLU → conv 3×3, plus ×2 → conv 1×1."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), _conv(cin, cout, 3)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), _conv(cout, cout, 3)
        self.shortcut = _conv(cin, cout, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2)
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class DownBlock(nn.Module):
    """ReLU → conv 3×3 → ReLU → conv 3×3 (→ 2×2 average pool), plus a 1×1 shortcut
    where the channels change or the map shrinks. The first block of D takes the
    image itself: no ReLU before it, and its shortcut pools before the convolution."""

    def __init__(self, cin: int, cout: int, down: bool, first: bool = False) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.conv1, self.conv2 = _conv(cin, cout, 3), _conv(cout, cout, 3)
        self.shortcut = _conv(cin, cout, 1) if (cin != cout or down) else None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.first:
            return h + self.shortcut(F.avg_pool2d(x, 2))
        skip = x if self.shortcut is None else self.shortcut(x)
        return h + (F.avg_pool2d(skip, 2) if self.down else skip)


class ResNetGenerator(Generator):
    """SNGAN's ResNet G: ``width`` channels throughout (256 in the paper's CIFAR-10 G),
    one up-block per doubling from the start map, z of ``latent_dim`` (128)."""

    def __init__(self, spec: DataSpec, latent_dim: PositiveInt = 128, width: PositiveInt = 256) -> None:
        super().__init__()
        channels, size = image_spec(spec, "the resnet generator")
        self.start, doublings = ladder(size)
        self.latent_dim, self.width = latent_dim, width
        self.linear = _xavier(nn.Linear(latent_dim, self.start * self.start * width), 1.0)
        self.blocks = nn.Sequential(*(UpBlock(width, width) for _ in range(doublings)))
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), _xavier(nn.Conv2d(width, channels, 3, 1, 1), 1.0),
                                 output_activation(spec))

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.linear(z).view(len(z), self.width, self.start, self.start)
        return self.out(self.blocks(h))


class ResNetDiscriminator(Discriminator):
    """SNGAN's ResNet D: ``width`` channels throughout (128 in the paper's CIFAR-10 D).
    ``spectral_norm`` normalises every layer, as SNGAN does (Miyato et al. 2018);
    without it, this is WGAN-GP's critic (Gulrajani et al. 2017), which has no
    normalisation either."""

    def __init__(self, spec: DataSpec, width: PositiveInt = 128, spectral_norm: bool = False) -> None:
        super().__init__()
        channels, size = image_spec(spec, "the resnet discriminator")
        ladder(size)  # the sizes G can make: a one-line error for the others
        blocks = [DownBlock(channels, width, down=True, first=True)]
        side = size // 2
        while side > 8:
            blocks.append(DownBlock(width, width, down=True))
            side //= 2
        blocks += [DownBlock(width, width, down=False), DownBlock(width, width, down=False)]
        self.blocks = nn.Sequential(*blocks)
        self.head = _xavier(nn.Linear(width, 1), 1.0)
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """ReLU of the last block, summed over positions: ``width`` values per sample."""
        return torch.relu(self.blocks(x)).sum((2, 3))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.features(x)).squeeze(-1)
