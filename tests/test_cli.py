"""The ganzoo command, run as a user runs it, on the real MNIST."""

import json
import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo import Component, checkpoint
from ganzoo.cli import main

TINY = ["--set", "generator.hidden=[64,128]", "--set", "generator.latent_dim=32",
        "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=32"]


def test_run_writes_a_complete_run_directory(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("run", "vanilla-mnist", *TINY, "--set", "steps=40", "--set", "log_every=10",
                 "--set", "sample_every=20", "--out", str(out), "--device", "cpu", "--seed", "3")
    assert result.returncode == 0, result.stderr
    recipe = json.loads((out / "recipe.json").read_text())
    assert recipe["name"] == "vanilla-mnist" and recipe["steps"] == 40 and recipe["seed"] == 3
    assert recipe["generator"]["options"]["hidden"] == [64, 128]
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [10, 20, 30, 40]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "step_time"} <= set(lines[-1])
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step-000020.png", "step-000040.png"]
    grid = Image.open(out / "samples" / "step-000040.png")
    assert grid.size == (8 * 30 + 2, 8 * 30 + 2)  # 64 samples of 28 px, 2 px padding
    losses = Image.open(out / "losses.png").convert("RGB")  # drawn: many colours, not blank
    assert losses.size == (720, 360) and len(losses.getcolors(1 << 16) or range(1 << 16)) > 50
    assert Image.eval(losses, lambda v: 255 - v).getbbox() is not None  # some pixel is not white
    state = checkpoint.load(out / "checkpoints" / "last.pt")
    assert state["step"] == 40 and state["recipe"]["name"] == "vanilla-mnist"
    assert "s/epoch" in result.stderr and "checkpoint" in result.stderr


def test_sample_draws_a_grid_from_a_checkpoint(cli, tmp_path):
    out = tmp_path / "run"
    assert cli("run", "vanilla-mnist", *TINY, "--set", "steps=3", "--out", str(out)).returncode == 0
    result = cli("sample", str(out / "checkpoints" / "last.pt"), "-n", "16", "-o", str(tmp_path / "g.png"))
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "g.png").size == (4 * 30 + 2, 4 * 30 + 2)


def test_ctrl_c_saves_a_checkpoint_and_resume_continues(cli, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganzoo.cli", "run", "vanilla-mnist", *TINY, "--set", "steps=100000",
         "--set", "log_every=5", "--out", str(out), "--device", "cpu"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    metrics = out / "metrics.jsonl"
    deadline = time.time() + 120
    while not (metrics.exists() and metrics.read_text().count("\n") >= 2):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "resume with: ganzoo run --resume" in stderr and "Traceback" not in stderr
    state = checkpoint.load(out / "checkpoints" / "last.pt")
    stopped = state["step"]
    assert stopped >= 10

    # Resuming names no recipe: the checkpoint's own is used, and a new length is allowed.
    result = cli("run", "--resume", str(out / "checkpoints" / "last.pt"), "--set", f"steps={stopped + 7}")
    assert result.returncode == 0, result.stderr
    assert f"resuming vanilla-mnist from step {stopped}" in result.stderr
    assert checkpoint.load(out / "checkpoints" / "last.pt")["step"] == stopped + 7
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] == stopped + 7


@pytest.fixture
def saved_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=2", "--out", str(out)]) == 0
    capsys.readouterr()
    return out / "checkpoints" / "last.pt"


def one_line_error(capsys, argv, expected):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "vanila-mnist"], "did you mean vanilla-mnist"),
        (["run", "vanilla-mnist", "--set", "generator=mpl"], "unknown generator 'mpl' (did you mean mlp"),
        (["run", "vanilla-mnist", "--set", "dataset=minst"], "unknown dataset 'minst' (did you mean mnist"),
        (["run", "vanilla-mnist", "--set", "stepz=3"], "unknown recipe field 'stepz'"),
        (["run", "vanilla-mnist", "--set", "steps=many"], "expected an integer or null, got 'many'"),
        (["run", "vanilla-mnist", "--set", "g_optim=adamm"], "unknown optimizer 'adamm' (did you mean adam"),
        (["run", "vanilla-mnist", "--set", "dataset.download=false", "--data-dir", "/nonexistent/data"],
         "train-images-idx3-ubyte.gz not found in /nonexistent/data/mnist"),
        (["run"], "name a recipe"),
    ],
)
def test_bad_input_is_one_clear_line(capsys, tmp_path, argv, expected):
    one_line_error(capsys, argv + ["--out", str(tmp_path / "r")], expected)


def test_unwritable_output_directory(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    one_line_error(capsys, ["run", "vanilla-mnist", "--out", str(tmp_path / "file" / "run")],
                   "is a file, not a folder")


def test_cuda_without_cuda(capsys, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    one_line_error(capsys, ["run", "vanilla-mnist", "--device", "cuda", "--out", str(tmp_path / "r")],
                   "CUDA is not available")


def test_resume_with_different_models_is_refused(capsys, saved_run):
    one_line_error(capsys, ["run", "vanilla-mnist", *TINY, "--set", "generator.hidden=[64,64]",
                            "--resume", str(saved_run)], "checkpoint's generator is")


def test_resume_with_different_loss_is_refused(capsys, saved_run):
    one_line_error(capsys, ["run", "--resume", str(saved_run), "--set", "loss=minimax"], "checkpoint's loss is")


@pytest.mark.parametrize("content, expected", [
    (b"not a checkpoint at all", "corrupt"),
    (None, "not a ganzoo checkpoint"),
])
def test_resume_from_a_bad_checkpoint(capsys, tmp_path, content, expected):
    path = tmp_path / "bad.pt"
    if content is None:
        torch.save({"weights": torch.zeros(1)}, path)
    else:
        path.write_bytes(content)
    one_line_error(capsys, ["run", "--resume", str(path)], expected)
    one_line_error(capsys, ["sample", str(path)], expected)


def test_list_and_plugins_and_data(capsys, data_dir):
    assert main(["list", "recipes"]) == 0
    out = capsys.readouterr().out
    assert "vanilla-mnist" in out and "vanilla" in out
    assert main(["list", "optimizers"]) == 0  # the names g_optim / d_optim accept
    out = capsys.readouterr().out
    assert "adam-eps-inside" in out and "rmsprop" in out and "torch" in out
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "datasets" in out and "ganzoo" in out and "0.1.0" in out
    assert main(["data", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│") and
            line.split("│")[1].strip()}
    assert "present" in rows["mnist"] and "present" in rows["fashion-mnist"]
    assert "missing" in rows["cifar10"]  # not on this machine: said, not an error
    assert "elsewhere" in rows["image-folder"]


def test_eval_prints_a_table_and_writes_json(cli, tmp_path, mnist_classifier):
    out = tmp_path / "run"
    assert cli("run", "vanilla-mnist", *TINY, "--set", "steps=5", "--out", str(out)).returncode == 0
    ckpt = out / "checkpoints" / "last.pt"
    from ganzoo.metrics.classifier import save_cached

    save_cached("mnist", mnist_classifier, tmp_path / "cache")
    empty = tmp_path / "env-cache"  # GANZOO_CACHE_DIR: --cache-dir wins over it, so nothing is trained here
    result = cli("eval", str(ckpt), "--metrics", "fd,precision,recall,classes", "-n", "500",
                 "--json", str(tmp_path / "e.json"), "--cache-dir", str(tmp_path / "cache"),
                 env={"GANZOO_CACHE_DIR": str(empty)}, timeout=600)
    assert result.returncode == 0, result.stderr
    assert not empty.exists()
    assert "fd" in result.stdout and "recall" in result.stdout
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["step"] == 5 and report["recipe"] == "vanilla-mnist"
    assert set(report["metrics"]) >= {"fd", "precision", "recall", "classes", "class_kl", "n"}
    assert report["metrics"]["fd"] > 0


def test_eval_every_logs_metrics_during_training(cli, tmp_path, mnist_classifier):
    out = tmp_path / "run"
    result = cli("run", "vanilla-mnist", *TINY, "--set", "steps=20", "--set", "eval_every=10",
                 "--set", "eval_n=300", "--set", "eval_metrics=[\"fd\",\"coverage\"]", "--out", str(out), timeout=600)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [m for m in lines if "eval_fd" in m]
    assert [m["step"] for m in evals] == [10, 20]
    assert all(m["eval_fd"] > 0 and 0 <= m["eval_coverage"] <= 1 for m in evals)


@pytest.fixture
def ring_run(tmp_path, capsys):
    out = tmp_path / "ring"
    assert main(["run", "vanilla-mnist", *TINY, "--set", "dataset=ring", "--set", "steps=2", "--out", str(out)]) == 0
    capsys.readouterr()
    return out / "checkpoints" / "last.pt"


@pytest.mark.parametrize("argv, expected", [
    (["--metrics", "fid"], "unknown metric 'fid' (did you mean fd"),
    (["--metrics", "fd"], "dataset 'ring' has no reference features; metrics that apply: modes"),
])
def test_eval_bad_input(capsys, ring_run, argv, expected):
    one_line_error(capsys, ["eval", str(ring_run), *argv], expected)


def test_eval_n_larger_than_the_test_set(capsys, saved_run, mnist_classifier):
    one_line_error(capsys, ["eval", str(saved_run), "--metrics", "fd", "-n", "20000"], "exceeds the 10000 test samples")


def test_eval_ring_counts_modes(capsys, ring_run):
    assert main(["eval", str(ring_run), "-n", "1000"]) == 0
    assert "modes" in capsys.readouterr().out


def _row(out: str, dataset: str) -> str:
    return next(line for line in out.splitlines() if f" {dataset} " in line)


def test_classifier_list_shows_what_is_cached_and_what_cannot_be_trusted(capsys, mnist_classifier, tmp_path):
    from ganzoo.metrics import classifier as clf

    clf.save_cached("mnist", mnist_classifier, tmp_path)
    assert main(["classifier", "list", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "cached" in _row(out, "mnist") and f"{100 * mnist_classifier.accuracy:.2f}%" in _row(out, "mnist")
    assert "not trained yet" in _row(out, "fashion-mnist")
    weights, _ = clf.cache_paths("mnist", tmp_path)
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert main(["classifier", "list", "--cache-dir", str(tmp_path)]) == 0
    assert "fails its checksum" in _row(capsys.readouterr().out, "mnist")


def test_classifier_train_trains_caches_and_checks_the_floor(capsys, caplog, monkeypatch, data_dir, tmp_path):
    from ganzoo.metrics import classifier as clf

    real, seen = clf.train_classifier, []

    def one_small_epoch(train_x, train_y, test_x, test_y, settings, progress=None):
        # Real training on the first 512 real training images: quick, and short of the floor.
        seen.append(len(train_x))
        return real(train_x[:512], train_y[:512], test_x, test_y, {**settings, "epochs": 1, "batch_size": 64}, progress)

    monkeypatch.setattr(clf, "train_classifier", one_small_epoch)
    argv = ["classifier", "train", "mnist", "--cache-dir", str(tmp_path), "--data-dir", str(data_dir)]
    assert main(argv) == 1
    assert seen == [60_000] and "cached in" in capsys.readouterr().out
    assert "test accuracy, below its 0.9930 floor" in caplog.text
    trained = clf.load_cached("mnist", tmp_path)
    test = ganzoo.load_dataset(Component("mnist", split="test"), data_dir)
    accuracy = (trained.probs(test.x, test.spec.value_range).argmax(1) == test.y).double().mean().item()
    assert trained.accuracy == pytest.approx(accuracy, abs=1e-4) and 0.1 < accuracy < 0.993
    assert main(argv) == 0  # cached: reported, not retrained
    assert "already cached" in capsys.readouterr().out and seen == [60_000]
    assert main([*argv, "--force"]) == 1 and seen == [60_000, 60_000]
    capsys.readouterr()
    one_line_error(capsys, ["classifier", "train", "mnst", "--cache-dir", str(tmp_path)],
                   "no reference classifier for dataset 'mnst' (did you mean mnist?)")


class CommandPlugin:
    @ganzoo.hookimpl
    def register_commands(self, register):
        def steps(argv):
            """Print the step of a checkpoint."""
            if not argv:
                raise ganzoo.GanzooError("ganzoo steps: name a checkpoint")
            print(f"step {ganzoo.load_run(argv[0]).step}")
            return 0

        register("steps", steps)
        register("run", steps)  # a built-in name: the built-in keeps it


def test_a_plugin_adds_a_command(tmp_path, capsys, data_dir):
    registry = ganzoo.default_registry()
    registry.register(CommandPlugin(), name="command-plugin")
    try:
        assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=3", "--out", str(tmp_path / "r")]) == 0
        capsys.readouterr()
        assert main(["steps", str(tmp_path / "r" / "checkpoints" / "last.pt")]) == 0
        assert capsys.readouterr().out.strip() == "step 3"
        assert main(["steps"]) == 2 and "error: ganzoo steps: name a checkpoint" in capsys.readouterr().err
        with pytest.raises(SystemExit):
            main(["--help"])
        shown = capsys.readouterr().out
        assert ",steps}" in shown and "steps Print the step of a checkpoint" in " ".join(shown.split())
    finally:
        registry.unregister("command-plugin")


def test_recipe_show_prints_toml_that_ganzoo_run_trains(tmp_path, capsys, data_dir):
    assert main(["recipe", "show", "vanilla-mnist"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# ganzoo recipe vanilla-mnist") and "[generator]" in text
    path = tmp_path / "mine.toml"
    path.write_text(text.replace("steps = 10000", "steps = 3").replace("hidden = [256, 512, 1024]", "hidden = [16]"))
    assert main(["run", str(path), "--out", str(tmp_path / "r")]) == 0
    saved = json.loads((tmp_path / "r" / "recipe.json").read_text())
    assert saved["steps"] == 3 and saved["generator"]["options"]["hidden"] == [16]
    # a run's recipe.json runs again as it is
    assert main(["run", str(tmp_path / "r" / "recipe.json"), "--out", str(tmp_path / "again")]) == 0
    assert json.loads((tmp_path / "again" / "recipe.json").read_text()) == saved
    path.write_text("base = \"vanilla-mnist\"\nstepz = 3\n")
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(tmp_path / "bad")]) == 2
    assert f"{path}: unknown recipe field 'stepz'" in capsys.readouterr().err and not (tmp_path / "bad").exists()
