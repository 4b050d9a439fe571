"""Loss curves as a PNG, drawn with matplotlib.

Only matplotlib's object API is used (a :class:`~matplotlib.figure.Figure` on its own
Agg canvas, never pyplot), so drawing opens no window, needs no display and shares no
global state between threads. The PNG is rendered in memory and written atomically.
"""

from __future__ import annotations

import io
import math
from collections.abc import Collection
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, ScalarFormatter

from ..files import write_bytes
from . import Callback

MAX_DPI = 100.0
MIN_INCHES = 3.2  # a small picture gets a lower dpi rather than text that fills it


def new_figure(size: tuple[int, int]) -> Figure:
    """A blank figure of exactly ``size`` pixels on its own Agg canvas."""
    width, height = size
    dpi = min(MAX_DPI, min(width, height) / MIN_INCHES)
    # Agg truncates width × dpi to whole pixels: a hair over the size keeps it exact.
    figure = Figure(figsize=((width + 0.01) / dpi, (height + 0.01) / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Render ``figure`` as a PNG in memory, then write it to ``path`` atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return write_bytes(path, buffer.getvalue())


def plot_curves(series: dict[str, list[tuple[float, float]]], path: str | Path,
                size: tuple[int, int] = (720, 360), x_label: str = "step", log_y: bool | None = False,
                dashed: Collection[str] = (), title: str = "", y_label: str = "") -> Path:
    """Draw each named ``[(x, value), ...]`` series as a line on shared axes.

    Non-finite values (NaN, ±inf) are left out. ``log_y`` spaces the values
    logarithmically (non-positive ones are left out), for curves such as a test error
    that falls over orders of magnitude; ``None`` chooses it when all values are
    positive and span more than two decades. Series named in ``dashed`` are drawn
    dashed, so that two kinds of curve differ by more than colour. Each series keeps
    its colour (``C0``, ``C1``, ... in order) whether or not the others have points.
    """
    clean = {name: [(float(x), float(y)) for x, y in values if math.isfinite(x) and math.isfinite(y)]
             for name, values in series.items()}
    if log_y is None:
        ys = [y for values in clean.values() for _, y in values]
        log_y = bool(ys) and min(ys) > 0 and max(ys) / min(ys) > 100
    if log_y:
        clean = {name: [(x, y) for x, y in values if y > 0] for name, values in clean.items()}

    figure = new_figure(size)
    ax = figure.add_subplot()
    drawn = 0
    for i, (name, values) in enumerate(clean.items()):
        if not values:
            continue
        xs, ys = zip(*values)
        ax.plot(xs, ys, label=name, color=f"C{i % 10}", linewidth=1.5,
                linestyle="--" if name in dashed else "-", marker="o" if len(values) == 1 else None)
        drawn += 1
    if log_y:
        ax.set_yscale("log")
    else:
        ax.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))
    # Whole steps (or epochs), written out: 2500, not 2.5e3 or +2.5e3 offsets.
    ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=True))
    x_format = ScalarFormatter(useOffset=False)
    x_format.set_scientific(False)
    ax.xaxis.set_major_formatter(x_format)
    ax.set_xlabel(x_label)
    if y_label:
        ax.set_ylabel(y_label)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "nothing logged yet", transform=ax.transAxes, ha="center", va="center", color="grey")
    return save_figure(figure, path)


class LossCurves(Callback):
    """Redraws ``path`` with the D and G losses whenever the trainer logs and at the end.

    The values are plotted against the step, one line per key, NaNs left out, on a log
    scale when they are all positive and span more than two decades; the title is the
    recipe's name when the trainer has one."""

    def __init__(self, path: str | Path, keys: tuple[str, ...] = ("d_loss", "g_loss"), redraw_every: int = 10) -> None:
        self.path = Path(path)
        self.keys = keys
        self.redraw_every = redraw_every
        self.series: dict[str, list[tuple[float, float]]] = {k: [] for k in keys}
        self.title = ""
        self._logs = 0

    def _draw(self, trainer) -> None:
        recipe = getattr(trainer, "recipe", None)  # the recipe as a dict (a Recipe also does)
        name = recipe.get("name") if isinstance(recipe, dict) else getattr(recipe, "name", None)
        self.title = name if isinstance(name, str) and name else self.title
        plot_curves(self.series, self.path, log_y=None, title=self.title, y_label="loss")

    def on_log(self, trainer, metrics: dict[str, float]) -> None:
        for key in self.keys:
            if key in metrics:
                self.series[key].append((metrics["step"], metrics[key]))
        self._logs += 1
        if self._logs % self.redraw_every == 0:
            self._draw(trainer)

    def on_train_end(self, trainer) -> None:
        self._draw(trainer)

    def state_dict(self) -> dict:
        return {k: [list(p) for p in v] for k, v in self.series.items()}

    def load_state_dict(self, state: dict) -> None:
        self.series = {k: [tuple(p) for p in state.get(k, [])] for k in self.keys}
