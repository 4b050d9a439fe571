"""Label-conditioned generators and discriminators (Mirza & Osindero 2014, Section 4.1).

Two ways in: the MLP model of Mirza & Osindero (2014) as published, and two
wrappers that make any registered generator or discriminator conditional, so a
conditional DCGAN is composed from the DCGAN plugin through the registry rather
than copied from it.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import ganzoo
from ganzoo import (Component, DataSpec, Discriminator, GanzooError, Generator, PositiveFloat, PositiveInt, Probability,
                    feature_width, output_activation)
import ganzoo.nn
from ganzoo.nn import Maxout, init_linears


def num_classes(spec: DataSpec, model: str) -> int:
    """The dataset's number of classes, or a one-line error when it has no labels."""
    if spec.num_classes is None:
        raise GanzooError(f"{model} is conditional and needs a labelled dataset, but this one has no labels; "
                          f"use e.g. mnist, or an unconditional model")
    return spec.num_classes


class ConditionalMLPGenerator(Generator):
    """Mirza & Osindero's G: z → 200 ReLU and one-hot y → 1000 ReLU, joined → 1200 ReLU
    (dropout) → data (sigmoid for [0, 1] data). z is uniform on the unit hypercube."""

    conditional = True

    def __init__(self, spec: DataSpec, latent_dim: PositiveInt = 100, z_hidden: PositiveInt = 200,
                 y_hidden: PositiveInt = 1000, hidden: PositiveInt = 1200, dropout: Probability = 0.5,
                 batchnorm: bool = False,
                 prior: Literal["uniform", "normal"] = "uniform", init_range: PositiveFloat | None = 0.05) -> None:
        super().__init__()
        self.num_classes = num_classes(spec, "conditional-mlp generator")
        self.latent_dim, self.shape, self.prior = latent_dim, tuple(spec.shape), prior

        def block(a: int, b: int) -> list[nn.Module]:
            return [nn.Linear(a, b), nn.ReLU()] + ([nn.BatchNorm1d(b)] if batchnorm else [])

        self.z_path = nn.Sequential(*block(latent_dim, z_hidden))
        self.y_path = nn.Sequential(*block(self.num_classes, y_hidden))
        size = int(torch.tensor(self.shape).prod())
        self.joint = nn.Sequential(*block(z_hidden + y_hidden, hidden), nn.Dropout(dropout),
                                   nn.Linear(hidden, size), output_activation(spec))
        init_linears(self, init_range)

    def sample_latent(self, n: int, device: torch.device | str | None = None) -> Tensor:
        """Uniform on [0, 1)^latent_dim as in the paper, or standard normal."""
        if self.prior == "normal":
            return torch.randn(n, self.latent_dim, device=device)
        return torch.rand(n, self.latent_dim, device=device)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        onehot = F.one_hot(y, self.num_classes).to(z.dtype)
        h = torch.cat([self.z_path(z), self.y_path(onehot)], dim=1)
        return self.joint(h).view(-1, *self.shape)


class ConditionalMaxoutDiscriminator(Discriminator):
    """Mirza & Osindero's D: x → maxout 240×5 and one-hot y → maxout 50×5, joined →
    maxout 240×4 → one logit, dropout 0.5 on every layer's input but the label.
    ``spectral_norm`` normalises each maxout layer's weights, all its pieces as one
    matrix, and the read-out (Miyato et al. 2018)."""

    conditional = True

    def __init__(self, spec: DataSpec, x_hidden: PositiveInt = 240, y_hidden: PositiveInt = 50,
                 hidden: PositiveInt = 240, pieces: tuple[PositiveInt, PositiveInt, PositiveInt] = (5, 5, 4),
                 dropout: Probability = 0.5, init_range: PositiveFloat | None = 0.005,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        self.num_classes = num_classes(spec, "conditional-maxout discriminator")
        size = int(torch.tensor(tuple(spec.shape)).prod())
        self.x_path = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), Maxout(size, x_hidden, pieces[0]))
        # No dropout on the label itself: erasing y half the time teaches D to ignore it.
        self.y_path = nn.Sequential(Maxout(self.num_classes, y_hidden, pieces[1]))
        self.joint = nn.Sequential(nn.Dropout(dropout), Maxout(x_hidden + y_hidden, hidden, pieces[2]))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, 1))
        init_linears(self, init_range)
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The joint maxout layer's activations."""
        onehot = F.one_hot(y, self.num_classes).to(x.dtype)
        return self.joint(torch.cat([self.x_path(x), self.y_path(onehot)], dim=1))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.head(self.features(x, y)).squeeze(-1)


class LabelConcatGenerator(Generator):
    """Any registered generator made conditional: the one-hot label is appended to z.

    ``base`` names the generator (e.g. ``"dcgan"``); the other options go to it.
    Its prior stays the prior of z; only the input it sees grows by the classes.
    """

    conditional = True

    def __init__(self, spec: DataSpec, base: str = "dcgan", latent_dim: PositiveInt = 100, **options: Any) -> None:
        super().__init__()
        self.num_classes = num_classes(spec, f"conditional {base!r} generator")
        self.latent_dim = latent_dim
        self.base = ganzoo.create("generators", Component(base, latent_dim=latent_dim + self.num_classes, **options),
                                  spec)
        if getattr(self.base, "conditional", False):
            raise GanzooError(f"generator {base!r} is already conditional; use it directly")

    def sample_latent(self, n: int, device: torch.device | str | None = None) -> Tensor:
        return self.base.sample_latent(n, device)[:, : self.latent_dim]

    def init_from_data(self, x: Tensor) -> None:
        """The base generator's data-dependent initialisation, if it has one."""
        if hasattr(self.base, "init_from_data"):
            self.base.init_from_data(x)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.base(torch.cat([z, F.one_hot(y, self.num_classes).to(z.dtype)], dim=1))


class _OnTrunk(Discriminator):
    """A conditional discriminator built on a registered unconditional one, the trunk,
    whose features ``φ(x)`` it reads: the trunk's own read-out stays in the module,
    unused, so that its parameters keep the names the trunk gives them."""

    conditional = True

    def __init__(self, spec: DataSpec, trunk: str, what: str, options: dict[str, Any]) -> None:
        super().__init__()
        self.num_classes = num_classes(spec, f"{what} discriminator on {trunk!r}")
        self.trunk = ganzoo.create("discriminators", Component(trunk, **options), spec)
        if getattr(self.trunk, "conditional", False):
            raise GanzooError(f"discriminator {trunk!r} is already conditional; use it directly")
        self.width = feature_width(self.trunk, spec, f"{what} on {trunk!r}")

    def init_from_data(self, x: Tensor) -> None:
        """The trunk's data-dependent initialisation, if it has one."""
        if hasattr(self.trunk, "init_from_data"):
            self.trunk.init_from_data(x)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The trunk's features, flattened."""
        return self.trunk.features(x).flatten(1)


class ACGANDiscriminator(_OnTrunk):
    """Any registered discriminator with ``features(x)`` given an auxiliary classifier
    (AC-GAN, Odena et al. 2017): one read-out of the features gives the adversarial
    score and the K class logits, returned as ``(n, 1 + K)`` columns.

    D does not see the label; instead every score loss (``ganzoo.losses.ScoreLoss``)
    adds ``class_weight`` × the cross-entropy of the class logits with the labels:
    in D's phase on real and generated samples, in G's on generated ones (the
    labels G was asked for), so G learns to make samples D recognises as their class.
    It is ``conditional`` (it needs labelled data and a conditional generator) though
    it ignores ``y``. ``spectral_norm`` normalises every layer (Miyato et al. 2018).
    """

    def __init__(self, spec: DataSpec, trunk: str = "dcgan", class_weight: PositiveFloat = 1.0,
                 spectral_norm: bool = False, **options: Any) -> None:
        super().__init__(spec, trunk, "acgan", options)
        self.auxiliary_classes, self.class_weight = self.num_classes, class_weight
        self.head = nn.Linear(self.width, 1 + self.num_classes)
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.features(x))


class ProjectionDiscriminator(_OnTrunk):
    """Any registered discriminator with ``features(x)`` made conditional by projection
    (Miyato & Koyama 2018): ``logit = w·φ(x) + b + embed(y)·φ(x)``.

    ``trunk`` names the discriminator whose features φ are used (e.g. ``"dcgan"``);
    the other options go to it. ``spectral_norm`` normalises every layer, the
    trunk's, the read-out and the class embedding (as SNGAN's projection
    discriminator; Miyato et al. 2018).
    """

    def __init__(self, spec: DataSpec, trunk: str = "dcgan", spectral_norm: bool = False, **options: Any) -> None:
        super().__init__(spec, trunk, "projection", options)
        self.linear = nn.Linear(self.width, 1)
        self.embed = nn.Embedding(self.num_classes, self.width)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        phi = self.features(x)
        return self.linear(phi).squeeze(-1) + (self.embed(y) * phi).sum(1)
