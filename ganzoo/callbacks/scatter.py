"""PNG scatter plots of 2-d samples over the data's true modes, drawn with Pillow.

The pictures that show mode collapse at a glance: blue dots are generated
samples, red circles are the modes at 3σ (the "high quality" radius).
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw
from torch import Tensor

from ..files import write_png
from .samples import SampleGrid


def save_scatter(samples: Tensor, path: str | Path, modes: Tensor | None = None, sigma: float | None = None,
                 size: int = 480, title: str = "") -> Path:
    """Draw 2-d ``samples`` (and ``modes`` with 3σ circles) as a PNG; the view covers
    the modes with a margin, or the samples' 1st–99th percentiles without modes."""
    points = samples.detach().float().cpu()
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f"cannot draw samples of shape {tuple(samples.shape[1:])} as 2-d points")
    if modes is not None:
        lo, hi = modes.min().item(), modes.max().item()
        pad = 0.25 * max(hi - lo, 1.0)
    else:
        lo, hi = torch.quantile(points, 0.01).item(), torch.quantile(points, 0.99).item()
        pad = 0.1 * max(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad
    scale = (size - 1) / (hi - lo)

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - lo) * scale, (hi - y) * scale

    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for x, y in points.tolist():
        if lo <= x <= hi and lo <= y <= hi:
            cx, cy = px(x, y)
            draw.rectangle([cx - 1, cy - 1, cx + 1, cy + 1], fill=(31, 119, 180))
    if modes is not None:
        radius = max(3.0, 3 * (sigma or 0.0) * scale)
        for x, y in modes.tolist():
            cx, cy = px(x, y)
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=(214, 39, 40), width=2)
    draw.rectangle([0, 0, size - 1, size - 1], outline="black")
    if title:
        draw.text((6, 4), title, fill="black")
    path = Path(path)
    write_png(image, path)
    return path


class SampleScatter(SampleGrid):
    """Every ``every`` steps and at the end, plot ``n`` samples of a 2-d generator from
    the same latents over the dataset's modes."""

    def __init__(self, directory: str | Path, every: int = 1000, n: int = 2500, seed: int = 1234) -> None:
        super().__init__(directory, every, n, seed)

    def _save(self, samples: Tensor, path: Path, trainer) -> Path:
        return save_scatter(samples, path, trainer.data.modes, trainer.data.mode_sigma,
                            title=f"step {trainer.step}")
