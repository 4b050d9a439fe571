"""The MLP generator and discriminator of the classic GAN tutorials, and the maxout
discriminator of Goodfellow et al. 2014 (Section 5)."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from ganzoo import (DataSpec, Discriminator, Generator, PositiveFloat, PositiveInt, Probability, Widths,
                    output_activation)
import ganzoo.nn
from ganzoo.nn import Maxout, init_linears


class MLPGenerator(Generator):
    """MLP generator: z → LeakyReLU+BatchNorm hidden layers → data shape (tanh/sigmoid).

    ``bn_first`` puts BatchNorm between the linear layer (then without a bias, which
    BN's shift replaces) and the activation, as PacGAN's G does; the default is the
    Keras tutorials' order. ``init_std`` / ``init_range`` start the weights N(0, σ²) /
    U(−r, r) with zero biases (``init_std`` wins if both are given); neither keeps
    PyTorch's default.
    """

    def __init__(self, spec: DataSpec, latent_dim: PositiveInt = 100, hidden: Widths = (256, 512, 1024),
                 batchnorm: bool = True, bn_momentum: Probability = 0.2, bn_first: bool = False,
                 activation: Literal["leaky_relu", "relu"] = "leaky_relu",
                 prior: Literal["normal", "uniform"] = "normal", init_range: PositiveFloat | None = None,
                 init_std: PositiveFloat | None = None, output_bias: Literal["zero", "marginals"] = "zero") -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.shape = tuple(spec.shape)
        self.prior, self.output_bias, self.value_range = prior, output_bias, spec.value_range
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            act = nn.LeakyReLU(0.2) if activation == "leaky_relu" else nn.ReLU()
            if batchnorm and bn_first:
                layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h, momentum=bn_momentum), act]
            else:
                # Keras order (Dense → LeakyReLU → BatchNorm); Keras momentum 0.8 is PyTorch 0.2.
                layers += [nn.Linear(width, h), act]
                if batchnorm:
                    layers.append(nn.BatchNorm1d(h, momentum=bn_momentum))
            width = h
        layers += [nn.Linear(width, math.prod(self.shape)), output_activation(spec)]
        self.net = nn.Sequential(*layers)
        init_linears(self.net, init_range, init_std)

    def sample_latent(self, n: int, device: torch.device | str | None = None) -> Tensor:
        """Standard normal, or uniform on (−√3, √3) (unit variance) as in the 2014 paper."""
        if self.prior == "uniform":
            return (torch.rand(n, self.latent_dim, device=device) * 2 - 1) * math.sqrt(3)
        return torch.randn(n, self.latent_dim, device=device)

    @torch.no_grad()
    def init_from_data(self, x: Tensor) -> None:
        """With ``output_bias="marginals"``, start each output unit at the data's mean
        for that pixel (pylearn2's ``init_sigmoid_bias_from_marginals``), so G need not
        first learn that the background is black."""
        if self.output_bias != "marginals" or self.value_range is None:
            return
        lo, hi = self.value_range
        mean = ((x.flatten(1).double().mean(0) - lo) / (hi - lo)).clamp(1e-7, 1 - 1e-7)
        last = [m for m in self.net if isinstance(m, nn.Linear)][-1]
        bias = torch.logit(mean)  # sigmoid's inverse; tanh's is half of it
        last.bias.copy_((bias if (lo, hi) == (0.0, 1.0) else bias / 2).to(last.bias.dtype))

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.net(z).view(-1, *self.shape)


class MLPDiscriminator(Discriminator):
    """MLP discriminator: flattened data → LeakyReLU hidden layers → one logit.

    ``spectral_norm`` normalises every layer (Miyato et al. 2018).
    """

    def __init__(self, spec: DataSpec, hidden: Widths = (512, 256), dropout: Probability = 0.0,
                 spectral_norm: bool = False) -> None:
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
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The last hidden layer's activations."""
        return self.body(x)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.body(x)).squeeze(-1)


class MaxoutDiscriminator(Discriminator):
    """Maxout discriminator of the 2014 paper: dropout, maxout layers → one logit.

    Weights start U(−init_range, init_range) as in the paper's code, or N(0, init_std²)
    (PacGAN's; it replaces ``init_range`` when given); biases 0. ``init_range=None``
    without ``init_std`` keeps PyTorch's default. ``spectral_norm`` normalises
    each maxout layer's weights, all its pieces as one matrix (Miyato et al. 2018).
    """

    def __init__(self, spec: DataSpec, hidden: Widths = (240, 240), pieces: PositiveInt = 5,
                 input_dropout: Probability = 0.2, dropout: Probability = 0.5, init_range: PositiveFloat | None = 0.005,
                 init_std: float | None = None, spectral_norm: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(spec.shape)
        for i, h in enumerate(hidden):
            # pylearn2 drops each layer's *input*: include prob .8 at the first, .5 after.
            layers += [nn.Dropout(input_dropout if i == 0 else dropout), Maxout(width, h, pieces)]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout if hidden else input_dropout), nn.Linear(width, 1))
        init_linears(self, init_range, init_std)
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The last maxout layer's activations."""
        return self.body(x)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.body(x)).squeeze(-1)
