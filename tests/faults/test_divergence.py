"""A run whose loss or weights become NaN stops, keeps its last finite checkpoint,
and says so; nothing downstream (logs, sample, eval) turns NaN into a crash."""

import json
import math

import pytest
import torch

import ganzoo
from ganzoo import Component, checkpoint
from ganzoo.callbacks import Checkpointer, MetricsLog
from ganzoo.cli import main
from ganzoo.errors import TrainingDiverged

TINY = ["--set", "generator.hidden=[64,128]", "--set", "generator.latent_dim=32",
        "--set", "discriminator.hidden=[128,64]", "--set", "batch_size=32", "--device", "cpu"]


class NaNAfter:
    """The non-saturating loss, whose discriminator loss turns NaN from its ``k``-th call."""

    def __init__(self, k: int) -> None:
        self.inner, self.k, self.calls = ganzoo.create("losses", "non-saturating"), k, 0

    def discriminator_loss(self, batch, G, D):
        self.calls += 1
        loss, logs = self.inner.discriminator_loss(batch, G, D)
        return (loss * math.nan if self.calls >= self.k else loss), logs

    def generator_loss(self, batch, G, D):
        return self.inner.generator_loss(batch, G, D)


def _trainer(data, loss, callbacks, steps=60):
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", latent_dim=16, hidden=(32,)), data.spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(32,)), data.spec)
    return ganzoo.Trainer(G, D, loss, data, batch_size=32, steps=steps, log_every=5, device="cpu",
                          callbacks=callbacks)


def test_a_nan_loss_stops_training_and_keeps_the_last_finite_checkpoint(small_mnist, tmp_path):
    checkpoints = Checkpointer(tmp_path, every=10, every_seconds=None)
    trainer = _trainer(small_mnist, NaNAfter(26), [MetricsLog(tmp_path / "metrics.jsonl"), checkpoints])
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit()
    message = str(info.value)
    # The NaN of step 26 is seen when step 30's interval is averaged, before step 30 is saved.
    assert "diverged at step 30" in message and "d_loss" in message
    assert str(tmp_path / "last.pt") in message and "(step 20)" in message and "\n" not in message
    saved = checkpoint.load(tmp_path / "last.pt")
    assert saved["step"] == 20 and sorted(p.name for p in tmp_path.glob("step-*.pt")) == [
        "step-0000010.pt", "step-0000020.pt"]
    assert all(bool(torch.isfinite(t).all()) for t in saved["discriminator"].values() if t.is_floating_point())
    assert trainer.step == 30 and trainer.diverged == message


def test_logs_write_nan_as_null_so_strict_readers_accept_them(small_mnist, tmp_path):
    trainer = _trainer(small_mnist, NaNAfter(1), [MetricsLog(tmp_path / "metrics.jsonl")])
    with pytest.raises(TrainingDiverged):
        trainer.fit()

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    lines = [json.loads(line, parse_constant=refuse) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines[0]["d_loss"] is None and lines[0]["step"] == 5


def test_weights_that_are_not_finite_are_never_saved(small_mnist, tmp_path):
    trainer = _trainer(small_mnist, ganzoo.create("losses", "non-saturating"), [], steps=3)
    trainer.fit()
    good = trainer.save(tmp_path / "last.pt")
    before = good.read_bytes()
    with torch.no_grad():
        next(trainer.generator.parameters())[0, 0] = math.inf
    with pytest.raises(TrainingDiverged, match="generator's .* became NaN or infinite"):
        trainer.save(tmp_path / "last.pt")
    assert (tmp_path / "last.pt").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_a_diverging_run_from_the_command_line_exits_3_with_one_line(cli, tmp_path):
    out = tmp_path / "run"
    result = cli("run", "vanilla-mnist", *TINY, "--set", "steps=400", "--set", "d_optim=sgd",
                 "--set", "d_optim.lr=1e20", "--out", str(out), env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "training diverged at step" in errors[0]
    assert "Traceback" not in result.stderr
    assert not (out / "checkpoints" / "last.pt").exists()  # it diverged before any finite save
    assert None in json.loads((out / "metrics.jsonl").read_text().splitlines()[-1]).values()


def test_sample_and_eval_refuse_a_checkpoint_with_nan_weights(capsys, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "vanilla-mnist", *TINY, "--set", "steps=2", "--out", str(out)]) == 0
    state = checkpoint.load(out / "checkpoints" / "last.pt")
    key = next(k for k, v in state["generator"].items() if v.is_floating_point())
    state["generator"][key] = torch.full_like(state["generator"][key], math.nan)
    bad = checkpoint.save(state, tmp_path / "nan.pt")  # as an older ganzoo or a script could have written it
    capsys.readouterr()
    for argv in (["sample", str(bad), "-o", str(tmp_path / "g.png")], ["eval", str(bad), "-n", "100"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "NaN or infinite" in err and "earlier checkpoint" in err
    assert not (tmp_path / "g.png").exists()
