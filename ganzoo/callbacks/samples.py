"""PNG grids of samples from a fixed latent batch, so frames compare across steps."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import save_image

from . import Callback


def save_grid(samples: Tensor, path: str | Path, value_range: tuple[float, float] = (-1.0, 1.0),
              nrow: int | None = None) -> Path:
    """Save image samples ``(n, c, h, w)`` as one PNG grid, mapping ``value_range`` to black..white."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lo, hi = value_range
    images = ((samples.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1)
    if images.dim() == 2:  # flat samples from an MLP: not images, nothing to draw
        raise ValueError(f"cannot draw samples of shape {tuple(samples.shape[1:])} as images")
    save_image(images, path, nrow=nrow or max(1, int(len(images) ** 0.5)), padding=2, pad_value=0.5)
    return path


def class_rows(n: int, num_classes: int) -> tuple[Tensor, int]:
    """Labels for a grid with one row per class, and the row length: ``n`` samples,
    ``ceil(n / num_classes)`` of each class in turn (0 0 0 … 1 1 1 …)."""
    per_class = max(1, -(-n // num_classes))
    labels = torch.arange(num_classes).repeat_interleave(per_class)[:n]
    return labels, per_class


class SampleGrid(Callback):
    """Every ``every`` steps and at the end, draw ``n`` samples from the same latents;
    a conditional generator's grid has one row per class (``n`` defaults to 8 per
    class for up to 16 classes, else 64)."""

    def __init__(self, directory: str | Path, every: int = 1000, n: int | None = None, seed: int = 1234) -> None:
        self.directory = Path(directory)
        self.every, self.n, self.seed = every, n, seed
        self.last: Path | None = None

    def on_train_start(self, trainer) -> None:
        classes = trainer.data.spec.num_classes
        self.labels, self.nrow = None, None
        if getattr(trainer.generator, "conditional", False):
            if self.n is None:
                self.n = 8 * classes if classes <= 16 else 64
            labels, self.nrow = class_rows(self.n, classes)
            self.labels = labels.to(trainer.device)
        elif self.n is None:
            self.n = 64
        devices = [trainer.device] if trainer.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.seed)
            self.latents = trainer.generator.sample_latent(self.n, trainer.device)

    def _draw(self, trainer) -> None:
        G = trainer.generator
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
        self.last = save_grid(samples, self.directory / f"step-{trainer.step:06d}.png",
                              trainer.data.spec.value_range, nrow=self.nrow)

    def on_step_end(self, trainer) -> None:
        if trainer.step % self.every == 0:
            self._draw(trainer)

    def on_train_end(self, trainer) -> None:
        if trainer.step % self.every != 0 or trainer.step == 0:
            self._draw(trainer)

