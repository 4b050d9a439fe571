"""Layers that several plugins build on, so that no plugin imports another.

A plugin's models import these from ``ganzoo.nn``; each is a plain ``nn.Module``
(or an initialisation function) with nothing ganzoo-specific in it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from .components import DataSpec
from .errors import GanzooError

__all__ = ["GaussianNoise", "Maxout", "WeightNormLinear", "image_spec", "init_linears", "ladder", "spectral_norm"]

_NORMALISED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Embedding)


def spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of every linear, convolution and
    embedding layer in ``module``, through torch's parametrization; returns ``module``.

    Each weight is divided by its largest singular value, estimated by one step of
    power iteration per forward pass in training mode (the estimate is kept in
    buffers, so it is saved and resumed with the weights). Layers already
    normalised are left as they are, so a wrapper can normalise its whole tree
    after building its trunk.
    """
    for layer in list(module.modules()):
        if isinstance(layer, _NORMALISED) and not parametrize.is_parametrized(layer, "weight"):
            _spectral_norm(layer)
    return module


def ladder(size: int) -> tuple[int, int]:
    """``(start, doublings)``: the side of the first feature map and how many
    doublings reach ``size`` from it (28 → (7, 2), 32 → (4, 3), 64 → (4, 4)), for
    convolutional generators that upsample from a small map."""
    start, doublings = size, 0
    while start % 2 == 0 and start > 4:
        start //= 2
        doublings += 1
    if doublings == 0 or start > 8:
        raise GanzooError(f"cannot make {size}×{size} images by doubling a side of 3 to 8; use a side like 28, 32 or 64")
    return start, doublings


def image_spec(spec: DataSpec, model: str) -> tuple[int, int]:
    """``(channels, size)`` of square images, or a one-line error naming the shape."""
    if len(spec.shape) != 3 or spec.shape[1] != spec.shape[2]:
        raise GanzooError(f"{model} needs square images (channels, size, size), but the data has shape "
                          f"{tuple(spec.shape)}; use an MLP model for this data")
    return spec.shape[0], spec.shape[1]


def init_linears(module: nn.Module, init_range: float | None = None, init_std: float | None = None) -> None:
    """Every linear layer's weights U(−init_range, init_range) (pylearn2's ``irange``) or
    N(0, init_std²) (Blocks' ``IsotropicGaussian``, as PacGAN uses it; wins if both are
    given), biases 0; with neither, PyTorch's default init stays."""
    if init_range is None and init_std is None:
        return
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            if init_std is not None:
                nn.init.normal_(layer.weight, 0.0, init_std)
            else:
                nn.init.uniform_(layer.weight, -init_range, init_range)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class Maxout(nn.Module):
    """``units`` maxout units, each the max of ``pieces`` linear pieces (Goodfellow et al. 2013)."""

    def __init__(self, in_features: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).view(-1, self.units, self.pieces).amax(-1)


class GaussianNoise(nn.Module):
    """Adds N(0, σ²) noise in training mode; the identity in eval mode."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * torch.randn_like(x)


class WeightNormLinear(nn.Module):
    """``y = x · (g · v / ‖v‖)ᵀ + b`` (Salimans & Kingma 2016), ``v`` initialised N(0, 0.1).

    ``g`` is learned only with ``train_scale`` (the reference learns it in the last
    layer only); :meth:`init_from` sets ``g`` and ``b`` so that the outputs on a
    batch have mean 0 and standard deviation 1.
    """

    def __init__(self, in_features: int, out_features: int, train_scale: bool = False) -> None:
        super().__init__()
        self.v = nn.Parameter(torch.randn(out_features, in_features) * 0.1)
        scale = torch.ones(out_features)
        if train_scale:
            self.g = nn.Parameter(scale)
        else:
            self.register_buffer("g", scale)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def weight(self) -> Tensor:
        return self.v * (self.g / self.v.norm(dim=1)).unsqueeze(1)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight(), self.bias)

    @torch.no_grad()
    def init_from(self, x: Tensor) -> Tensor:
        """Data-dependent initialisation on ``x``; returns the layer's new output on it."""
        pre = F.linear(x, self.weight())
        mean, std = pre.mean(0), pre.var(0, unbiased=False).clamp_min(1e-12).sqrt()
        self.g.div_(std)
        self.bias.copy_(-mean / std)
        return (pre - mean) / std
