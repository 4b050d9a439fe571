"""PNG grids of samples from a fixed latent batch, so frames compare across steps."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import save_image

from ..files import atomic_write
from . import Callback
from .ema import average_of


def save_grid(samples: Tensor, path: str | Path, value_range: tuple[float, float] = (-1.0, 1.0),
              nrow: int | None = None) -> Path:
    """Save image samples ``(n, c, h, w)`` as one PNG grid, mapping ``value_range`` to black..white."""
    path = Path(path)
    lo, hi = value_range
    images = ((samples.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1)
    if images.dim() == 2:  # flat samples from an MLP: not images, nothing to draw
        raise ValueError(f"cannot draw samples of shape {tuple(samples.shape[1:])} as images")
    with atomic_write(path) as f:  # a full disk leaves the previous grid, not half a PNG
        save_image(images, f, format="png", nrow=nrow or max(1, int(len(images) ** 0.5)), padding=2, pad_value=0.5)
    return path


def grid_layout(n: int | None, num_classes: int | None) -> tuple[int, Tensor | None, int | None]:
    """``(n, labels, row length)`` of a sample grid. Unconditional: 64 samples and no
    labels. Conditional with up to 16 classes: one row per class, 8 samples each by
    default (0 0 0 … 1 1 1 …). More classes: the classes in turn, 64 by default."""
    if num_classes is None:
        return n or 64, None, None
    if num_classes > 16:
        n = n or 64
        return n, torch.arange(n) % num_classes, None
    n = n or 8 * num_classes
    per_class = -(-n // num_classes)
    return n, torch.arange(num_classes).repeat_interleave(per_class)[:n], per_class


class SampleGrid(Callback):
    """Every ``every`` steps and at the end, draw ``n`` samples from the same latents;
    a conditional generator's grid has one row per class (``n`` defaults to 8 per
    class for up to 16 classes, else 64). When the run keeps a moving average of
    G (``g_ema``), the grid is drawn from the average."""

    def __init__(self, directory: str | Path, every: int = 1000, n: int | None = None, seed: int = 1234) -> None:
        self.directory = Path(directory)
        self.every, self.n, self.seed = every, n, seed
        self.last: Path | None = None

    def on_train_start(self, trainer) -> None:
        classes = trainer.data.spec.num_classes if getattr(trainer.generator, "conditional", False) else None
        self.n, labels, self.nrow = grid_layout(self.n, classes)
        self.labels = None if labels is None else labels.to(trainer.device)
        devices = [trainer.device] if trainer.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            self.latents = trainer.generator.sample_latent(self.n, trainer.device)

    def _draw(self, trainer) -> None:
        G = average_of(trainer, "generator") or trainer.generator
        was_training = G.training
        G.eval()
        try:
            with torch.no_grad():
                if getattr(G, "conditional", False):
                    samples = G(self.latents, self.labels)
                else:
                    samples = G(self.latents)
        finally:
            G.train(was_training)
        self.last = self._save(samples, self.directory / f"step-{trainer.step:06d}.png", trainer)

    def _save(self, samples: Tensor, path: Path, trainer) -> Path:
        return save_grid(samples, path, trainer.data.spec.value_range, nrow=self.nrow)

    def on_step_end(self, trainer) -> None:
        if trainer.step % self.every == 0:
            self._draw(trainer)

    def on_train_end(self, trainer) -> None:
        if trainer.diverged is None and (trainer.step % self.every != 0 or trainer.step == 0):
            self._draw(trainer)

