"""Loss curves as a PNG, drawn with Pillow (already a torchvision dependency)."""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path

from PIL import Image, ImageDraw

from ..files import write_png
from . import Callback

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def plot_curves(series: dict[str, list[tuple[float, float]]], path: str | Path,
                size: tuple[int, int] = (720, 360), x_label: str = "step", log_y: bool = False,
                dashed: Collection[str] = ()) -> Path:
    """Draw each named ``[(x, value), ...]`` series as a line on shared axes.

    ``log_y`` spaces the values logarithmically (non-positive ones are left out), for
    curves such as a test error that falls over orders of magnitude. Series named in
    ``dashed`` are drawn dashed, so that two kinds of curve differ by more than colour.
    """
    path = Path(path)
    width, height = size
    left, right, top, bottom = 60, 130, 20, 40
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    scale, unscale = (math.log10, lambda v: 10 ** v) if log_y else (float, float)
    series = {name: [(x, scale(y)) for x, y in values if math.isfinite(y) and (y > 0 or not log_y)]
              for name, values in series.items()}
    points = [p for values in series.values() for p in values]
    if not points:
        write_png(image, path)
        return path
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def to_px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x0) / (x1 - x0) * (width - left - right),
                height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom))

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y0 + frac * (y1 - y0)
        draw.text((4, to_px(x0, y)[1] - 6), f"{unscale(y):.4g}", fill="black")
        x = x0 + frac * (x1 - x0)
        draw.text((to_px(x, y0)[0] - 12, height - bottom + 6), f"{x:.0f}", fill="black")
    draw.text((width // 2 - 3 * len(x_label), height - 16), x_label, fill="black")
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        line = [to_px(x, y) for x, y in values]
        if len(line) > 1:
            for piece in _dashes(line) if name in dashed else [line]:
                draw.line(piece, fill=colour, width=2)
        draw.text((width - right + 10, top + 16 * i), name, fill=colour)
    write_png(image, path)
    return path


def _dashes(line: list[tuple[float, float]], on: float = 8.0, off: float = 5.0) -> list[list[tuple[float, float]]]:
    """The pieces of a polyline drawn ``on`` pixels, skipped ``off`` pixels, along its length."""
    pieces, current, drawing, left = [], [line[0]], True, on
    for (x0, y0), (x1, y1) in zip(line, line[1:]):
        length, done = math.hypot(x1 - x0, y1 - y0), 0.0
        while length - done > left:
            done += left
            point = (x0 + (x1 - x0) * done / length, y0 + (y1 - y0) * done / length)
            if drawing:
                pieces.append(current + [point])
            current, drawing, left = [point], not drawing, off if drawing else on
        left -= length - done
        current.append((x1, y1))
    if drawing and len(current) > 1:
        pieces.append(current)
    return pieces


class LossCurves(Callback):
    """Redraws ``path`` with the D and G losses whenever the trainer logs and at the end."""

    def __init__(self, path: str | Path, keys: tuple[str, ...] = ("d_loss", "g_loss"), redraw_every: int = 10) -> None:
        self.path = Path(path)
        self.keys = keys
        self.redraw_every = redraw_every
        self.series: dict[str, list[tuple[float, float]]] = {k: [] for k in keys}
        self._logs = 0

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        for key in self.keys:
            if key in metrics:
                self.series[key].append((metrics["step"], metrics[key]))
        self._logs += 1
        if self._logs % self.redraw_every == 0:
            plot_curves(self.series, self.path)

    def on_train_end(self, trainer) -> None:
        plot_curves(self.series, self.path)

    def state_dict(self) -> dict:
        return {k: [list(p) for p in v] for k, v in self.series.items()}

    def load_state_dict(self, state: dict) -> None:
        self.series = {k: [tuple(p) for p in state.get(k, [])] for k in self.keys}
