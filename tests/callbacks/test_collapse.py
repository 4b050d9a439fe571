"""CollapseWatch: one warning when D rejects every generated sample for long enough."""

import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from ganzoo import Component
from ganzoo.callbacks import CollapseWatch


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
