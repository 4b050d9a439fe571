"""CollapseWatch: one warning when D rejects every generated sample for long enough."""

import io
import math
from types import SimpleNamespace

import pytest
from rich.console import Console

from ganzoo import Component
from ganzoo.callbacks import Callback, CollapseWatch


def _watch(**kwargs):
    out = io.StringIO()
    return CollapseWatch(Console(file=out, width=400), **kwargs), out


def _feed(watch, log_every, d_fakes, trainer=None):
    """Logs ``d_fakes`` one interval of ``log_every`` steps each, as the trainer would;
    returns the stand-in trainer so that a later call can go on where this one stopped."""
    trainer = trainer or SimpleNamespace(step=0, log_every=log_every)
    for value in d_fakes:
        trainer.step += log_every
        watch.on_log(trainer, {} if value is None else {"d_fake": value})
    return trainer


def _report(watch, trainer, step):
    """What the Evaluate callback's ``trainer.report(...)`` sends through ``on_log``
    at ``step``: the step and epoch and its metrics, no losses."""
    trainer.step = step
    watch.on_log(trainer, {"step": step, "epoch": 0.1, "eval_test-error": 0.2, "eval_seconds": 1.0})


def test_warns_once_after_patience_steps_below_the_threshold():
    watch, out = _watch(threshold=0.01, patience=300)
    trainer = _feed(watch, 100, [0.3, 0.2, 0.005, 0.004])  # low over steps 200-400: 200 steps, not yet
    assert watch.warned_at is None and out.getvalue() == ""
    _feed(watch, 100, [0.003, 0.002, 0.001], trainer)  # 300 steps at step 500, then still low
    text = out.getvalue()
    assert watch.warned_at == 500 and text.count("warning") == 1  # once, though D(G(z)) stays low
    assert "below 0.01 since step 200 (300 steps, now 0.0030)" in text and "another --seed" in text
    assert text.count("\n") == 1  # one line


def test_the_count_starts_where_the_first_low_interval_began():
    watch, out = _watch(threshold=0.01, patience=300)
    _feed(watch, 100, [0.5, 0.005, 0.005, 0.005])
    # low in the intervals 100-200, 200-300, 300-400: 300 steps by step 400
    assert watch.warned_at == 400 and "since step 100 (300 steps" in out.getvalue()


def test_one_interval_above_the_threshold_starts_the_count_again():
    watch, out = _watch(threshold=0.01, patience=300)
    _feed(watch, 100, [0.005, 0.005, 0.02, 0.005, 0.005])  # never 300 steps low in a row
    assert watch.warned_at is None and out.getvalue() == ""


def test_losses_that_log_no_d_fake_are_not_watched():
    watch, out = _watch(threshold=0.01, patience=100)
    _feed(watch, 100, [None] * 10)
    assert watch.warned_at is None and out.getvalue() == ""


def test_evaluation_logs_between_training_logs_neither_reset_nor_shift_the_count():
    # ssgan-mnist-100's shape: evaluation (every 600 steps) far more often than the patience
    # (2,000), each reporting through on_log with no d_fake, at a log step and between logs.
    watch, out = _watch(threshold=0.01, patience=2000)
    trainer = SimpleNamespace(step=0, log_every=100)
    for step in range(100, 2301, 100):
        trainer.step = step
        watch.on_log(trainer, {"d_fake": 0.5 if step == 100 else 0.001, "step": step})
        if step % 600 == 0:
            _report(watch, trainer, step)  # after the training log of the same step
        if step % 700 == 0:
            _report(watch, trainer, step + 50)  # halfway through the next interval
            trainer.step = step
    # low from the interval 100-200 on: 2,000 steps at step 2,100, evaluations or not
    assert watch.warned_at == 2100 and "since step 100 (2000 steps" in out.getvalue()


def test_an_evaluation_log_does_not_move_where_the_next_interval_began():
    watch, out = _watch(threshold=0.01, patience=300)
    trainer = _feed(watch, 100, [0.5])
    _report(watch, trainer, 150)  # mid-interval: the next training log still covers steps 100-200
    trainer.step = 100
    _feed(watch, 100, [0.005, 0.005, 0.005], trainer)
    assert watch.warned_at == 400 and "since step 100 (300 steps" in out.getvalue()


def test_a_nan_d_fake_is_divergence_not_a_winning_discriminator():
    watch, out = _watch(threshold=0.01, patience=100)
    _feed(watch, 100, [math.nan] * 10)
    assert watch.warned_at is None and out.getvalue() == ""


def test_a_nan_d_fake_starts_the_count_again():
    watch, out = _watch(threshold=0.01, patience=300)
    trainer = _feed(watch, 100, [0.005, 0.005, math.nan, 0.005, 0.005])  # never 300 finite low steps in a row
    assert watch.warned_at is None and out.getvalue() == ""
    _feed(watch, 100, [0.005], trainer)  # 300 steps low since the NaN's interval ended, at step 500
    assert watch.warned_at == 600 and "since step 300 (300 steps" in out.getvalue()


@pytest.mark.parametrize("kwargs, message", [({"threshold": 0.0}, "threshold must be in"),
                                             ({"threshold": 1.5}, "threshold must be in"),
                                             ({"patience": 0}, "patience must be at least 1")])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CollapseWatch(**kwargs)


def test_a_real_run_whose_discriminator_wins_outright_is_flagged(small_mnist, trainer_for):
    # G's learning rate 0: a fixed, untrained G that D, at a brisk rate, learns to reject on real MNIST.
    watch, out = _watch(threshold=0.01, patience=50)
    trainer = trainer_for(small_mnist, 200, [watch], log_every=10, g_optim=Component("adam", lr=0.0),
                          d_optim=Component("adam", lr=1e-3)).fit()
    assert trainer.last_metrics["d_fake"] < 0.01  # D did win: the warning is about something real
    assert watch.warned_at is not None and "D(G(z)) has averaged below 0.01" in out.getvalue()


def test_a_healthy_run_is_not_flagged(small_mnist, trainer_for):
    watch, out = _watch(threshold=0.01, patience=50)
    trainer = trainer_for(small_mnist, 200, [watch], log_every=10).fit()
    assert trainer.last_metrics["d_fake"] > 0.01
    assert watch.warned_at is None and out.getvalue() == ""


def test_evaluating_more_often_than_the_patience_does_not_hide_a_real_collapse(small_mnist, trainer_for):
    # The run above, with metrics reported through Trainer.report every 7 steps, as the
    # Evaluate callback does with an eval_every far below the patience.
    class Reports(Callback):
        def on_step_end(self, trainer):
            if trainer.step % 7 == 0:
                trainer.report({"eval_score": 1.0})

    watch, out = _watch(threshold=0.01, patience=50)
    trainer = trainer_for(small_mnist, 200, [Reports(), watch], log_every=10, g_optim=Component("adam", lr=0.0),
                          d_optim=Component("adam", lr=1e-3)).fit()
    assert trainer.last_metrics["d_fake"] < 0.01
    assert watch.warned_at is not None and "D(G(z)) has averaged below 0.01" in out.getvalue()


def test_ganzoo_run_warns_on_stderr_when_the_discriminator_wins_outright(cli, tmp_path):
    # G's learning rate 0 and tiny nets: D rejects G's samples (D(G(z)) < 0.01) from about
    # step 150 on, so the command's own watch (patience 2,000 steps) warns by step 2,150.
    # About 10 s on one thread; nets this small only lose time to a second one, and a lot
    # of it (minutes) when the cores are busy with other work.
    result = cli("run", "vanilla-mnist", "--out", str(tmp_path / "run"), "--device", "cpu",
                 "--set", "steps=2200", "--set", "batch_size=16", "--set", "log_every=50",
                 "--set", "g_optim.lr=0", "--set", "d_optim.lr=1e-3",
                 "--set", "generator.latent_dim=16", "--set", "generator.hidden=[32]",
                 "--set", "discriminator.hidden=[32]",
                 "--set", "sample_every=100000", "--set", "checkpoint_every=100000", env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "D(G(z)) has averaged below 0.01" in line]
    assert len(warnings) == 1, result.stderr
    assert "(2000 steps" in warnings[0] and "another --seed" in warnings[0]
