"""The contracts every generator, discriminator, loss and dataset meets.

These are small base classes, not frameworks: any ``nn.Module`` that has the same
attributes works. They are designed for all the built-in variants at once:

* ``y`` carries class labels for conditional models (``conditional = True``);
* ``Batch.labelled`` marks which labels a semi-supervised loss may see;
* ``Discriminator.features`` exposes the layer that feature matching and
  minibatch discrimination build on;
* an optional ``init_from_data(x)`` on either network is called once by
  ``build`` with the training samples, for data-dependent initialisation;
* the loss, not the trainer, owns each phase's arithmetic, so minimax,
  non-saturating, feature matching or a K+1-class loss are all just losses.
"""

from __future__ import annotations

from dataclasses import dataclass
import torch
from torch import Tensor, nn

from .errors import GanzooError


@dataclass(frozen=True)
class DataSpec:
    """What a model factory needs to know about the data it will see.

    ``shape`` is one sample's shape (``(1, 28, 28)`` for MNIST), ``num_classes``
    is ``None`` for unlabelled data, and ``value_range`` is the interval that
    samples lie in, which a generator's output activation should match
    (``None``: unbounded, e.g. points of a Gaussian mixture).
    """

    shape: tuple[int, ...]
    num_classes: int | None = None
    value_range: tuple[float, float] | None = (-1.0, 1.0)

    def to_dict(self) -> dict:
        """Plain data, as stored in checkpoints."""
        return {"shape": list(self.shape), "num_classes": self.num_classes,
                "value_range": None if self.value_range is None else list(self.value_range)}

    @classmethod
    def from_dict(cls, data: dict) -> "DataSpec":
        rng = data.get("value_range")
        return cls(tuple(data["shape"]), data.get("num_classes"), None if rng is None else tuple(rng))


@dataclass
class Batch:
    """One batch of real data, resident on the training device.

    ``labelled`` is a boolean mask: a loss may use ``y[i]`` only where
    ``labelled[i]`` is true. ``None`` means every label present may be used.
    """

    x: Tensor
    y: Tensor | None = None
    labelled: Tensor | None = None

    def __len__(self) -> int:
        return self.x.shape[0]


class Generator(nn.Module):
    """Maps latent codes (and labels, if ``conditional``) to samples.

    The prior belongs to the generator: override :meth:`sample_latent` for a
    uniform or other prior. ``forward(z, y=None)`` returns a batch of samples.
    """

    latent_dim: int
    conditional: bool = False

    def sample_latent(self, n: int, device: torch.device | str | None = None) -> Tensor:
        """Draw ``n`` latent codes from the generator's prior (standard normal)."""
        return torch.randn(n, self.latent_dim, device=device)


class Discriminator(nn.Module):
    """Maps samples (and labels, if ``conditional``) to logits.

    ``forward(x, y=None)`` returns logits of shape ``(n,)``, or ``(n, k)`` for a
    discriminator that classifies (unconditional, with ``num_classes = k``);
    ``features(x, y=None)`` returns the intermediate representation that feature
    matching and minibatch discrimination use.
    """

    conditional: bool = False

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not expose features(x)")


class GANLoss:
    """The arithmetic of both phases of one adversarial step.

    The trainer freezes the network that is not being trained, calls one of
    these, back-propagates the scalar and steps the optimizer. The dict holds
    detached scalar tensors to log (never read on the host inside a step).

    ``double_backward`` is true for a loss that differentiates through gradients
    (R1, a gradient penalty): ``torch.compile`` cannot, so the trainer keeps such
    a loss's networks eager. Compiled with ``reduce-overhead``, the networks
    replay CUDA graphs and each phase is one graph iteration: their outputs are
    valid until the phase ends, so a loss keeps none of them for the next phase.
    """

    double_backward: bool = False

    def discriminator_loss(
        self, batch: Batch, generator: nn.Module, discriminator: nn.Module
    ) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError

    def generator_loss(
        self, batch: Batch, generator: nn.Module, discriminator: nn.Module
    ) -> tuple[Tensor, dict[str, Tensor]]:
        raise NotImplementedError


def output_activation(spec: DataSpec) -> nn.Module:
    """The last activation of a generator for ``spec``'s data: tanh for [-1, 1],
    sigmoid for [0, 1], none for unbounded data (``value_range`` ``None``)."""
    if spec.value_range is None:
        return nn.Identity()
    if tuple(spec.value_range) == (-1.0, 1.0):
        return nn.Tanh()
    if tuple(spec.value_range) == (0.0, 1.0):
        return nn.Sigmoid()
    raise GanzooError(f"no output activation for data in {tuple(spec.value_range)}; use value_range [-1,1] or [0,1]")


def classifies(discriminator: nn.Module) -> bool:
    """Whether ``discriminator``'s outputs are logits of the data's classes (an
    unconditional D with ``num_classes``, like the semi-supervised GAN's)."""
    return getattr(discriminator, "num_classes", None) is not None and not getattr(discriminator, "conditional", False)


def feature_width(discriminator: nn.Module, spec: DataSpec, needed_by: str) -> int:
    """The width of ``discriminator.features(x)`` (flattened) on ``spec``'s samples, or a
    one-line error naming ``needed_by`` when the discriminator exposes no features."""
    probe = torch.zeros(2, *spec.shape)
    y = None if spec.num_classes is None else torch.arange(2) % spec.num_classes
    was_training = discriminator.training
    discriminator.eval()
    try:
        with torch.no_grad():
            if getattr(discriminator, "conditional", False):
                return discriminator.features(probe, y).flatten(1).shape[1]
            return discriminator.features(probe).flatten(1).shape[1]
    except NotImplementedError:
        raise GanzooError(f"discriminator {type(discriminator).__name__} does not expose features(x), which "
                          f"{needed_by} needs; choose one that does (e.g. mlp, maxout, dcgan)") from None
    finally:
        discriminator.train(was_training)


def generate(generator: nn.Module, n: int, y: Tensor | None, device: torch.device) -> Tensor:
    """``n`` samples from ``generator``, passing labels only to conditional ones."""
    z = generator.sample_latent(n, device)
    if getattr(generator, "conditional", False):
        return generator(z, y)
    return generator(z)


def discriminate(discriminator: nn.Module, x: Tensor, y: Tensor | None = None) -> Tensor:
    """Logits of ``discriminator`` on ``x``, passing labels only to conditional ones."""
    if getattr(discriminator, "conditional", False):
        return discriminator(x, y)
    return discriminator(x)

