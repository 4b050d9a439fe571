"""Callbacks hang off the trainer's events: logs, checkpoints, sample grids, curves, progress."""

import io
import json

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


def test_loss_curves_draw_each_series_where_its_values_are(tmp_path):
    # Values 0.5..3 over steps 0..10 fill the plot area x 60..590, y 20..320 (the legend is
    # right of it): value v at step s is at x = 60 + 53 s, y = 320 - 120 (v - 0.5).
    path = plot_curves({"d_loss": [(0, 1.0), (10, 0.5)], "g_loss": [(0, 2.0), (10, 3.0)]}, tmp_path / "c.png")
    image = Image.open(path).convert("RGB")
    blue, red = (31, 119, 180), (214, 39, 40)

    def rows(colour, x):  # where a column of the plot area holds the colour
        return [y for y in range(21, 320) if image.getpixel((x, y)) == colour]

    inside = [image.getpixel((x, y)) for x in range(61, 590) for y in range(21, 320)]
    assert inside.count(blue) > 500 and inside.count(red) > 500  # lines across the plot, not a legend entry
    for x, d_loss, g_loss in ((113, 0.95, 2.1), (325, 0.75, 2.5), (537, 0.55, 2.9)):  # steps 1, 5, 9
        assert rows(blue, x) and all(abs(y - (320 - 120 * (d_loss - 0.5))) <= 3 for y in rows(blue, x))
        assert rows(red, x) and all(abs(y - (320 - 120 * (g_loss - 0.5))) <= 3 for y in rows(red, x))


def test_dashed_series_leave_gaps_along_the_line(tmp_path):
    # 8 pixels drawn, 5 skipped: a dashed line covers about 8/13 of the solid one.
    series = {"avg": [(0, 0.0), (10, 1.0)]}
    blue = (31, 119, 180)

    def pixels(image_path):
        image = Image.open(image_path).convert("RGB")
        return sum(image.getpixel((x, y)) == blue for x in range(image.width) for y in range(image.height))

    solid = pixels(plot_curves(series, tmp_path / "solid.png"))
    dashed = pixels(plot_curves(series, tmp_path / "dashed.png", dashed={"avg"}))
    assert 0.5 * solid < dashed < 0.75 * solid


def test_curves_on_a_log_scale_put_a_geometric_midpoint_halfway_up(tmp_path):
    # 1, 10, 100 at x = 0, 1, 2 is a straight line on a log scale: at x = 1 it crosses
    # the middle of the plot area (x 60..590, y 20..320), where a linear scale is blank.
    series = {"wrong": [(0, 1.0), (1, 10.0), (2, 100.0), (3, 0.0)]}
    middle = (325, 170)
    log = Image.open(plot_curves({"wrong": series["wrong"][:3]}, tmp_path / "log.png", log_y=True)).convert("RGB")
    linear = Image.open(plot_curves({"wrong": series["wrong"][:3]}, tmp_path / "lin.png")).convert("RGB")
    assert log.getpixel(middle) == (31, 119, 180)
    assert linear.getpixel(middle) == (255, 255, 255)
    with_zero = Image.open(plot_curves(series, tmp_path / "zero.png", log_y=True)).convert("RGB")
    assert with_zero.getpixel(middle) == (31, 119, 180)  # the 0 is left out, not drawn at −∞


def test_loss_curves_callback_survives_resume(small_mnist, tmp_path, trainer_for):
    curves = LossCurves(tmp_path / "losses.png")
    trainer_for(small_mnist, 8, [curves, Checkpointer(tmp_path, every=8)]).fit()
    again = LossCurves(tmp_path / "losses.png")
    resumed = trainer_for(small_mnist, 12, [again])
    resumed.resume(tmp_path / "last.pt")
    resumed.fit()
    assert [s for s, _ in again.series["d_loss"]] == [4, 8, 12]


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


def test_scatter_draws_samples_where_they_are_and_modes_as_circles(tmp_path):
    import pytest

    from ganzoo.callbacks import save_scatter

    modes = torch.tensor([[-1.0, -1.0], [1.0, 1.0]])
    samples = torch.tensor([[1.0, 1.0]]).repeat(50, 1)  # all at the upper-right mode
    image = Image.open(save_scatter(samples, tmp_path / "s.png", modes, 0.05, size=200)).convert("RGB")
    # The view spans [-1.5, 1.5]: (1, 1) is at pixel (166, 33), (-1, -1) at (33, 166).
    assert image.getpixel((166, 33)) == (31, 119, 180)  # a sample
    assert image.getpixel((33, 166)) == (255, 255, 255)  # no sample at the empty mode's centre
    ring = [image.getpixel((33 + dx, 166)) for dx in range(-10, 11)]
    assert (214, 39, 40) in ring  # but its circle
    with pytest.raises(ValueError, match="2-d points"):
        save_scatter(torch.zeros(4, 3), tmp_path / "bad.png")
