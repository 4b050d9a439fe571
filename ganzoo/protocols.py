"""The contracts a plugin's objects meet, as typed protocols.

Everything the core reads from a plugin's generator, discriminator, loss,
dataset factory or callback is named here; a plugin author needs nothing else
(the base classes ``ganzoo.Generator``, ``ganzoo.Discriminator``,
``ganzoo.GANLoss`` and ``ganzoo.callbacks.Callback`` meet them with defaults).
Metrics and references have theirs in ``ganzoo.Metric`` and ``ganzoo.Reference``.
``isinstance(obj, GeneratorLike)`` checks that the methods are there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from .components import Batch
from .data import Data

if TYPE_CHECKING:
    from .trainer import Trainer

# What a loss may log under these names is read by the core: the progress line
# shows them and CollapseWatch warns when ``d_fake`` stays below 0.01, so they
# must be D's mean probability (in [0, 1]) that real / generated samples are
# real. A loss whose D outputs scores, not probabilities (hinge, Wasserstein),
# logs them under other names. ``d_loss`` and ``g_loss`` are added by the trainer.
PROBABILITY_LOGS = ("d_real", "d_fake")


@runtime_checkable
class GeneratorLike(Protocol):
    """A generator: ``factory(spec: DataSpec, **options)`` returns an ``nn.Module`` with these.

    ``conditional``: whether ``forward`` takes labels ``y`` (then ``num_classes``
    says how many it was built for; building checks it against the data's).
    ``forward(z, y=None)`` returns samples of shape ``spec.shape`` in
    ``spec.value_range``. Optional ``init_from_data(x)``: called once with the
    training samples before training (data-dependent initialisation).
    """

    latent_dim: int

    def sample_latent(self, n: int, device: torch.device | str | None = None) -> Tensor: ...

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor: ...


@runtime_checkable
class DiscriminatorLike(Protocol):
    """A discriminator: ``factory(spec: DataSpec, **options)`` returns an ``nn.Module`` with these.

    ``forward(x, y=None)`` returns one logit per sample, shape ``(n,)``, or
    ``(n, k)`` class logits for a discriminator that classifies (unconditional,
    with ``num_classes = k``: ``test-error`` then applies). Optional:
    ``conditional`` and ``num_classes`` as for generators;
    ``features(x, y=None)``, the layer feature matching and minibatch
    discrimination build on; ``init_from_data(x)``.
    """

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor: ...


@runtime_checkable
class Loss(Protocol):
    """An adversarial loss: ``factory(**options)`` returns an object with both phases.

    Each returns ``(scalar, logs)``: the trainer back-propagates the scalar
    through the network being trained (the other is frozen) and averages
    ``logs``, a dict of detached scalar tensors, over ``log_every`` steps. See
    ``PROBABILITY_LOGS`` for the names the core reads. A loss with state (a
    count of updates, as lazy R1 keeps) has ``state_dict()`` and
    ``load_state_dict(state)``, saved in checkpoints under ``"loss"``. Most
    losses subclass ``ganzoo.losses.ScoreLoss`` and write only ``d_loss(real,
    fake)`` and ``g_loss(fake, real)`` on D's scores.
    """

    def discriminator_loss(self, batch: Batch, generator: nn.Module,
                           discriminator: nn.Module) -> tuple[Tensor, dict[str, Tensor]]: ...

    def generator_loss(self, batch: Batch, generator: nn.Module,
                       discriminator: nn.Module) -> tuple[Tensor, dict[str, Tensor]]: ...


@runtime_checkable
class DatasetFactory(Protocol):
    """A dataset: ``factory(root, *, split="train", **options)`` returns a ``ganzoo.data.Data``:
    a ``TensorData`` held in memory, or a ``StreamData`` read batch by batch.

    ``root`` is the data directory. Evaluation calls the same factory with
    ``split="test"`` for the reference samples (and, if the factory takes an
    ``n`` option, ``n`` set to the number of samples compared), so a dataset
    that can be evaluated accepts ``split``. Optional ``locate(root)`` attribute:
    the files it reads, for ``ganzoo data``.
    """

    def __call__(self, root: Path, **options: Any) -> Data: ...


@runtime_checkable
class CallbackLike(Protocol):
    """A callback: any of these events; ``ganzoo.callbacks.Callback`` has them all as no-ops.

    ``on_log`` receives the averaged logs every ``log_every`` steps and each
    evaluation's ``eval_*`` values. Optional: ``run_dir`` (set to the run
    directory by ``ganzoo run`` before training), ``state_dict()`` and
    ``load_state_dict(state)`` (saved in checkpoints under ``state_key``), and
    ``every_rank`` (true: it runs on every rank of a distributed run, not on rank
    0 alone).
    """

    def on_train_start(self, trainer: "Trainer") -> None: ...

    def on_step_end(self, trainer: "Trainer") -> None: ...

    def on_log(self, trainer: "Trainer", metrics: dict[str, float]) -> None: ...

    def on_epoch_end(self, trainer: "Trainer") -> None: ...

    def on_train_end(self, trainer: "Trainer") -> None: ...
