"""A discriminator wrapper that adds minibatch discrimination to any registered D.

``minibatch(trunk="dcgan", width=64)`` builds the DCGAN discriminator through the
registry, takes its ``features(x)``, appends the minibatch features and reads a
new logit from both: the layer composes with other plugins instead of copying them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

import ganzoo
import ganzoo.nn
from ganzoo import Component, DataSpec, Discriminator, GanzooError, NonNegativeInt, PositiveInt, feature_width

from .layer import MinibatchDiscrimination


class MinibatchDiscriminator(Discriminator):
    """Any registered discriminator with ``features(x)``, plus minibatch discrimination
    (Salimans et al. 2016) on those features before a new linear read-out.

    ``trunk`` names the discriminator; ``kernels`` (B) and ``kernel_dim`` (C) size
    the layer; ``init_batch`` real samples initialise it (0: no data-dependent init); other options go to the trunk.
    The trunk's own read-out stays in the module, unused, so its parameters keep their names.
    ``spectral_norm`` normalises the trunk's layers and the read-out (Miyato et al.
    2018); the minibatch layer's tensor T is not a weight matrix and stays as it is.
    """

    def __init__(self, spec: DataSpec, trunk: str = "dcgan", kernels: PositiveInt = 100, kernel_dim: PositiveInt = 5,
                 init_batch: NonNegativeInt = 100, spectral_norm: bool = False, **options: Any) -> None:
        super().__init__()
        self.trunk = ganzoo.create("discriminators", Component(trunk, **options), spec)
        if getattr(self.trunk, "conditional", False):
            raise GanzooError(f"discriminator {trunk!r} is conditional; minibatch discrimination wraps "
                              f"unconditional discriminators (e.g. dcgan, mlp, maxout)")
        width = feature_width(self.trunk, spec, f"minibatch discrimination on {trunk!r}")
        self.minibatch = MinibatchDiscrimination(width, kernels, kernel_dim)
        self.head = nn.Linear(width + kernels, 1)
        self.init_batch = init_batch
        if spectral_norm:
            ganzoo.nn.spectral_norm(self)

    @torch.no_grad()
    def init_from_data(self, x: Tensor) -> None:
        """The trunk's own data-dependent initialisation, then the layer's, on
        ``init_batch`` training samples chosen by the current seed."""
        if hasattr(self.trunk, "init_from_data"):
            self.trunk.init_from_data(x)
        if self.init_batch == 0:
            return
        pick = torch.randperm(len(x))[: self.init_batch]
        buffers = {k: v.clone() for k, v in self.trunk.named_buffers()}  # BN statistics stay untouched
        self.minibatch.init_from(self.features(x[pick]))
        for name, value in buffers.items():
            self.trunk.get_buffer(name).copy_(value)

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The trunk's features, flattened (what feature matching compares)."""
        return self.trunk.features(x).flatten(1)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.minibatch(self.features(x, y))).squeeze(-1)
