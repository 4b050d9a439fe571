"""PNG scatter plots of 2-d samples over the data's true modes, drawn with matplotlib
(a figure on its own Agg canvas: no window, no pyplot state).

The pictures that show mode collapse at a glance: translucent blue dots are
generated samples, red crosses the modes and red circles their 3σ (the "high
quality" radius).
"""

from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.patches import Circle
from torch import Tensor

from .curves import new_figure, save_figure
from .samples import SampleGrid


def save_scatter(samples: Tensor, path: str | Path, modes: Tensor | None = None, sigma: float | None = None,
                 size: int = 480, title: str = "") -> Path:
    """Draw 2-d ``samples`` (and ``modes`` with 3σ circles) as a ``size`` × ``size`` PNG,
    titled with the number of samples and ``title``; the view covers the modes with a
    margin, or the samples' 1st–99th percentiles without modes."""
    points = samples.detach().float().cpu()
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f"cannot draw samples of shape {tuple(samples.shape[1:])} as 2-d points")
    if modes is not None:
        modes = modes.detach().float().cpu()
        lo, hi = modes.min().item(), modes.max().item()
        pad = 0.25 * max(hi - lo, 1.0)
    else:
        lo, hi = torch.quantile(points, 0.01).item(), torch.quantile(points, 0.99).item()
        pad = 0.1 * max(hi - lo, 1e-6)
    lo, hi = lo - pad, hi + pad

    figure = new_figure((size, size))
    ax = figure.add_subplot()
    ax.scatter(points[:, 0].numpy(), points[:, 1].numpy(), s=4, color="C0", alpha=0.4, linewidths=0,
               label="samples")
    if modes is not None:
        ax.scatter(modes[:, 0].numpy(), modes[:, 1].numpy(), s=30, color="C3", marker="x", linewidths=1.5,
                   label="modes" if not sigma else "modes, 3σ")
        for x, y in modes.tolist() if sigma else []:
            ax.add_patch(Circle((x, y), 3 * sigma, fill=False, edgecolor="C3", linewidth=1, alpha=0.8))
        ax.legend(loc="best", fontsize="small", markerscale=1.5)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    heading = f"{len(points):,} samples" + (f", {title}" if title else "")
    ax.set_title(heading, fontsize="medium" if len(heading) <= 40 else "small", wrap=True)
    return save_figure(figure, path)


class SampleScatter(SampleGrid):
    """Every ``every`` steps and at the end, plot ``n`` samples of a 2-d generator from
    the same latents over the dataset's modes."""

    def __init__(self, directory: str | Path, every: int = 1000, n: int = 2500, seed: int = 1234) -> None:
        super().__init__(directory, every, n, seed)

    def _save(self, samples: Tensor, path: Path, trainer) -> Path:
        return save_scatter(samples, path, trainer.data.modes, trainer.data.mode_sigma,
                            title=f"step {trainer.step}")
