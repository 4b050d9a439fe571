"""``ganzoo sample`` and ``ganzoo eval`` on what users hand them: sizes out of range,
outputs that cannot be written, checkpoints that do not fit their recipe, data no
metric applies to."""

import pytest
import torch

import ganzoo
from ganzoo import Component, DataSpec, TensorData, checkpoint, hookimpl
from ganzoo.cli import main

TINY = ["--set", "generator.hidden=[64,128]", "--set", "generator.latent_dim=32",
        "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=32", "--device", "cpu"]


@pytest.fixture
def ckpt(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=2", "--out", str(out)]) == 0
    capsys.readouterr()
    return out / "checkpoints" / "last.pt"


def _one_line(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("output, message", [
    ("out.txt", "must end in .png"),
    ("folder", "is a directory"),
    ("file/x.png", "is a file, not a folder"),
])
def test_sample_checks_its_output_before_drawing(capsys, ckpt, tmp_path, output, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    assert message in _one_line(capsys, ["sample", str(ckpt), "-o", str(tmp_path / output)])
    assert not (tmp_path / "out.txt").exists()


def test_sample_refuses_a_grid_too_large_to_draw_without_allocating_it(capsys, ckpt):
    # 10^8 images of 28 × 28 would be 300 GB; the refusal comes before any sampling.
    assert "at most 4096 images" in _one_line(capsys, ["sample", str(ckpt), "-n", "100000000"])


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_eval_with_too_few_samples_for_a_metric_is_one_line(capsys, ckpt, n):
    err = _one_line(capsys, ["eval", str(ckpt), "-n", str(n)])
    assert "too few" in err and "at least" in err


def test_eval_checks_its_json_output_first(capsys, ckpt, tmp_path):
    assert "must end in .json" in _one_line(capsys, ["eval", str(ckpt), "--json", str(tmp_path / "x.txt")])


def test_a_checkpoint_whose_recipe_does_not_fit_its_weights(capsys, ckpt, tmp_path):
    state = checkpoint.load(ckpt)
    state["recipe"]["generator"]["options"]["hidden"] = [32]
    misfit = checkpoint.save(state, tmp_path / "misfit.pt")
    for argv in (["sample", str(misfit), "-o", str(tmp_path / "g.png")], ["eval", str(misfit)]):
        assert "do not fit its recipe" in _one_line(capsys, argv)


@pytest.mark.parametrize("damage, message", [
    (lambda s: s.pop("data_spec"), "data_spec"),
    (lambda s: s["recipe"].update(steps="many"), "recipe is not valid"),
    (lambda s: s["recipe"].update(generator=42), "recipe is not valid"),
    (lambda s: s["recipe"].update(generator="mlp"), "weights do not fit"),  # a valid name, other widths
    (lambda s: s.pop("generator"), "no 'generator'"),
])
def test_a_checkpoint_missing_parts_is_one_line_for_every_command(capsys, ckpt, tmp_path, damage, message):
    state = checkpoint.load(ckpt)
    damage(state)
    broken = checkpoint.save(state, tmp_path / "broken.pt")
    for argv in (["sample", str(broken), "-o", str(tmp_path / "g.png")], ["eval", str(broken)],
                 ["run", "--resume", str(broken)]):
        assert message in _one_line(capsys, argv)


class _PointsPlugin:
    """A third-party dataset with no reference classifier and no known modes."""

    @hookimpl
    def register_datasets(self, register):
        def points(root, split: str = "train", n: int = 512):
            x = torch.randn(n, 3, generator=torch.Generator().manual_seed(int(split == "test")))
            return TensorData(x, DataSpec(shape=(3,), value_range=None))

        register("plain-points", points)


def test_eval_where_no_metric_applies_is_one_line_not_an_empty_table(capsys, registry, tmp_path, monkeypatch):
    registry.register(_PointsPlugin(), name="points-plugin")
    recipe = ganzoo.get_recipe("gan-ring").replace(dataset=Component("plain-points"), steps=2, batch_size=32)
    trainer = ganzoo.build(recipe, device="cpu")
    trainer.fit()
    saved = trainer.save(tmp_path / "points.pt")
    err = _one_line(capsys, ["eval", str(saved)])
    assert "no metric applies to dataset 'plain-points'" in err

    # The same recipe with eval_every is refused before its first step, leaving no run behind.
    monkeypatch.chdir(tmp_path)
    err = _one_line(capsys, ["run", "gan-ring", "--set", "dataset=plain-points", "--set", "eval_every=1",
                             "--set", "steps=2", "--device", "cpu", "--out", str(tmp_path / "points-run")])
    assert "no metric applies" in err and not (tmp_path / "points-run").exists()
