"""Callbacks hang off the trainer's events: logs, checkpoints, sample grids, curves, progress."""

import io
import json

import numpy as np
import torch
from PIL import Image
from rich.console import Console

from ganzoo import checkpoint
from ganzoo.callbacks import Checkpointer, LossCurves, MetricsLog, Progress, SampleGrid, save_grid
from ganzoo.callbacks.curves import plot_curves


def test_checkpointer_saves_periodically_and_at_the_end(small_mnist, tmp_path, trainer_for):
    trainer_for(small_mnist, 10, [Checkpointer(tmp_path, every=4)]).fit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt", "step-0000004.pt", "step-0000008.pt"]
    assert checkpoint.load(tmp_path / "step-0000004.pt")["step"] == 4
    assert checkpoint.load(tmp_path / "last.pt")["step"] == 10


def test_metrics_log_drops_lines_past_the_resumed_step(small_mnist, tmp_path, trainer_for):
    log = tmp_path / "metrics.jsonl"
    trainer = trainer_for(small_mnist, 12, [MetricsLog(log), Checkpointer(tmp_path, every=8)]).fit()
    assert [json.loads(l)["step"] for l in log.read_text().splitlines()] == [4, 8, 12]
    resumed = trainer_for(small_mnist, 16, [MetricsLog(log)])
    resumed.resume(tmp_path / "step-0000008.pt")
    resumed.fit()
    assert [json.loads(l)["step"] for l in log.read_text().splitlines()] == [4, 8, 12, 16]
    assert trainer.step == 12


def test_sample_grids_use_the_same_latents_every_time(small_mnist, tmp_path, trainer_for):
    grids = SampleGrid(tmp_path, every=5, n=16)
    trainer = trainer_for(small_mnist, 5, [grids]).fit()
    first = grids.latents.clone()
    trainer.steps = 10
    trainer.fit()
    assert torch.equal(first, grids.latents)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-000005.png", "step-000010.png"]
    # The grids differ because G changed, not because the latents did.
    a = Image.open(tmp_path / "step-000005.png").tobytes()
    assert a != Image.open(tmp_path / "step-000010.png").tobytes()


def test_sample_grid_does_not_disturb_training_randomness(small_mnist, tmp_path, trainer_for):
    plain = trainer_for(small_mnist, 6, []).fit()
    watched = trainer_for(small_mnist, 6, [SampleGrid(tmp_path, every=2, n=8)]).fit()
    assert all(torch.equal(a, b) for a, b in zip(plain.generator.parameters(), watched.generator.parameters()))


def test_save_grid_maps_the_value_range_to_black_and_white(tmp_path):
    samples = torch.stack([torch.full((1, 4, 4), -1.0), torch.full((1, 4, 4), 1.0)])
    path = save_grid(samples, tmp_path / "g.png", (-1.0, 1.0), nrow=2)
    image = Image.open(path).convert("L")
    assert image.getpixel((2, 2)) == 0 and image.getpixel((8, 2)) == 255


def _rgb(path) -> np.ndarray:
    """The PNG at ``path`` (complete and readable) as an (h, w, 3) int array."""
    image = Image.open(path)
    image.load()
    return np.asarray(image.convert("RGB"), dtype=np.int64)


def _near(image, colour, tolerance=40) -> int:
    """How many pixels are within ``tolerance`` (per channel) of ``colour``."""
    return int((np.abs(image - np.array(colour)) <= tolerance).all(-1).sum())


def _drawn(image) -> bool:
    """Not blank: many colours (antialiased lines and text) and plenty of non-white pixels."""
    return len(np.unique(image.reshape(-1, 3), axis=0)) > 50 and int((image != 255).any(-1).sum()) > 1000


BLUE, ORANGE = (31, 119, 180), (255, 127, 14)  # matplotlib's C0 and C1


def _diff(a, b) -> int:
    """How many pixels differ between two pictures of the same size."""
    assert a.shape == b.shape
    return int((a != b).any(-1).sum())


def test_loss_curves_draw_a_line_per_series_and_differ_with_the_data(tmp_path):
    series = {"d_loss": [(s, 1.4 - s / 10_000) for s in range(0, 10_001, 250)],
              "g_loss": [(s, 0.7 + s / 20_000) for s in range(0, 10_001, 250)]}
    image = _rgb(plot_curves(series, tmp_path / "a.png", title="a run", y_label="loss"))
    assert image.shape == (360, 720, 3) and _drawn(image)
    assert _near(image, BLUE) > 300 and _near(image, ORANGE) > 300  # two lines, not just a legend
    other = {"d_loss": [(s, 0.2 + s / 5_000) for s in range(0, 10_001, 250)], "g_loss": series["g_loss"]}
    changed = _rgb(plot_curves(other, tmp_path / "b.png", title="a run", y_label="loss"))
    assert _diff(image, changed) > 1000
    again = _rgb(plot_curves(series, tmp_path / "c.png", title="a run", y_label="loss"))
    assert _diff(image, again) == 0  # the same data draws the same picture


def test_curves_skip_non_finite_values_and_draw_empty_axes(tmp_path):
    nan, inf = float("nan"), float("inf")
    with_gaps = _rgb(plot_curves({"d_loss": [(0, 1.0), (1, nan), (2, 0.5), (3, inf), (4, 0.8)],
                                  "g_loss": [(0, nan)]}, tmp_path / "nan.png", log_y=None))
    assert with_gaps.shape == (360, 720, 3) and _drawn(with_gaps) and _near(with_gaps, BLUE) > 200
    empty = _rgb(plot_curves({"d_loss": [], "g_loss": [(0, nan)]}, tmp_path / "empty.png"))
    assert empty.shape == (360, 720, 3) and _near(empty, BLUE) < 20  # axes and a note, no line


def test_dashed_series_draw_fewer_pixels_than_solid_ones(tmp_path):
    series = {"avg": [(0, 0.0), (10, 1.0)]}
    solid = _near(_rgb(plot_curves(series, tmp_path / "solid.png")), BLUE)
    dashed = _near(_rgb(plot_curves(series, tmp_path / "dashed.png", dashed={"avg"})), BLUE)
    assert 0.3 * solid < dashed < 0.9 * solid


def test_curves_use_a_log_scale_when_asked_or_when_values_span_decades(tmp_path):
    decades = {"wrong": [(0, 1.0), (1, 10.0), (2, 100.0), (3, 1000.0)]}
    log = _rgb(plot_curves(decades, tmp_path / "log.png", log_y=True))
    linear = _rgb(plot_curves(decades, tmp_path / "lin.png"))
    assert _drawn(log) and _diff(log, linear) > 1000
    assert _diff(log, _rgb(plot_curves(decades, tmp_path / "auto.png", log_y=None))) == 0
    with_zero = {"wrong": decades["wrong"] + [(4, 0.0)]}  # the 0 is left out, not drawn at −∞
    assert _drawn(_rgb(plot_curves(with_zero, tmp_path / "zero.png", log_y=True)))
    narrow = {"d_loss": [(0, 0.5), (10, 3.0)]}  # less than two decades: linear
    assert _diff(_rgb(plot_curves(narrow, tmp_path / "n1.png", log_y=None)),
                 _rgb(plot_curves(narrow, tmp_path / "n2.png"))) == 0


def test_plots_never_touch_pyplot():
    import subprocess
    import sys

    code = ("import sys, tempfile, torch; from pathlib import Path\n"
            "from ganzoo.callbacks.curves import plot_curves\nfrom ganzoo.callbacks import save_scatter\n"
            "d = Path(tempfile.mkdtemp())\nplot_curves({'d_loss': [(0, 1.0), (1, 2.0)]}, d / 'c.png')\n"
            "save_scatter(torch.randn(50, 2), d / 's.png')\nassert 'matplotlib.pyplot' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_loss_curves_callback_survives_resume(small_mnist, tmp_path, trainer_for):
    curves = LossCurves(tmp_path / "losses.png")
    trainer_for(small_mnist, 8, [curves, Checkpointer(tmp_path, every=8)]).fit()
    first = _rgb(tmp_path / "losses.png")
    assert first.shape == (360, 720, 3) and _drawn(first)
    assert not list(tmp_path.glob(".losses.png.*.tmp"))  # written atomically, nothing left behind
    again = LossCurves(tmp_path / "losses.png")
    resumed = trainer_for(small_mnist, 12, [again])
    resumed.resume(tmp_path / "last.pt")
    resumed.fit()
    assert [s for s, _ in again.series["d_loss"]] == [4, 8, 12]
    assert _diff(first, _rgb(tmp_path / "losses.png")) > 100  # redrawn with the new step


def test_progress_prints_plain_lines_off_a_terminal(small_mnist, trainer_for):
    buffer = io.StringIO()
    trainer_for(small_mnist, 8, [Progress(console=Console(file=buffer, width=200))]).fit()
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("step 4/8") and "d_loss" in lines[0] and "step/s" in lines[0]


def test_progress_draws_a_bar_on_a_terminal(small_mnist, trainer_for):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200)
    trainer_for(small_mnist, 8, [Progress(console=console, description="demo")]).fit()
    assert "demo" in buffer.getvalue() and "8/8" in buffer.getvalue()


def test_grid_layout_gives_one_row_per_class_only_when_that_fits():
    from ganzoo.callbacks.samples import grid_layout

    n, labels, nrow = grid_layout(None, 10)
    assert (n, nrow) == (80, 8) and labels.tolist() == [k for k in range(10) for _ in range(8)]
    n, labels, nrow = grid_layout(25, 10)  # 3 per row; the last row is short
    assert (n, nrow) == (25, 3) and labels.tolist()[:4] == [0, 0, 0, 1] and labels[-1] == 8
    # Stacked MNIST's 1000 classes cannot have a row each: the classes in turn, square grid.
    n, labels, nrow = grid_layout(None, 1000)
    assert (n, nrow) == (64, None) and labels.tolist() == list(range(64))
    assert grid_layout(16, None) == (16, None, None)


def test_scatter_draws_samples_and_modes(tmp_path):
    import pytest

    from ganzoo.callbacks import save_scatter

    modes = torch.tensor([[-1.0, -1.0], [1.0, 1.0]])
    upper = torch.tensor([[1.0, 1.0]]) + 0.05 * torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    image = _rgb(save_scatter(upper, tmp_path / "s.png", modes, 0.05, title="step 100"))
    assert image.shape == (480, 480, 3) and _drawn(image)
    red = (214, 39, 40)  # matplotlib's C3: the modes' crosses and 3σ circles
    assert _near(image, red) > 50 and _near(image, BLUE, tolerance=90) > 200
    lower = _rgb(save_scatter(-upper, tmp_path / "t.png", modes, 0.05, title="step 100"))
    assert _diff(image, lower) > 500  # the samples are drawn where they are
    small = _rgb(save_scatter(upper, tmp_path / "small.png", size=200))  # no modes: the samples' own view
    assert small.shape == (200, 200, 3) and _drawn(small) and _near(small, red) == 0
    with pytest.raises(ValueError, match="2-d points"):
        save_scatter(torch.zeros(4, 3), tmp_path / "bad.png")


def test_sample_scatter_plots_a_2d_generator_over_the_modes(data_dir, tmp_path, trainer_for):
    from ganzoo import Component, load_dataset
    from ganzoo.callbacks import SampleScatter

    ring = load_dataset(Component("ring", n=640), data_dir)
    trainer_for(ring, 4, [SampleScatter(tmp_path, every=2, n=300)]).fit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-000002.png", "step-000004.png"]
    first, last = _rgb(tmp_path / "step-000002.png"), _rgb(tmp_path / "step-000004.png")
    assert first.shape == last.shape == (480, 480, 3) and _drawn(first) and _diff(first, last) > 0
