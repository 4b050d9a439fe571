"""The optim plugin's decay schedule: learning rates and momenta set from the step count, and resumed exactly."""

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError
from ganzoo.callbacks import Callback, Checkpointer
from ganzoo_optim import Schedule


SGD = Component("sgd", lr=0.1, momentum=0.5)


def sgd_trainer(trainer_for, data, steps, callbacks, optim=SGD):
    return trainer_for(data, steps, callbacks, g_optim=optim, d_optim=optim)


class EpochProbe(Callback):
    """What the optimisers were set to at the end of each epoch."""

    def __init__(self):
        self.seen = []

    def on_epoch_end(self, trainer):
        groups = trainer.g_optim.param_groups + trainer.d_optim.param_groups
        self.seen.append([(g["lr"], g.get("momentum", g.get("betas", (None,))[0])) for g in groups])


def test_learning_rate_is_divided_every_step_down_to_the_floor(small_mnist, trainer_for):
    trainer = sgd_trainer(trainer_for, small_mnist, 25, [Schedule(lr_decay=1.01)]).fit()
    for optim in (trainer.g_optim, trainer.d_optim):
        assert optim.param_groups[0]["lr"] == pytest.approx(0.1 * 1.01 ** -25, rel=1e-12)
    trainer = sgd_trainer(trainer_for, small_mnist, 25, [Schedule(lr_decay=1.5, min_lr=1e-3)]).fit()
    assert 0.1 * 1.5 ** -25 < 1e-3  # the floor is reached within the run
    assert trainer.d_optim.param_groups[0]["lr"] == 1e-3
    # Far past the floor, where lr_decay**step is too large for a float, it stays there.
    assert Schedule(lr_decay=1.5, min_lr=1e-3).learning_rate(0.1, 10**6) == 1e-3


def test_the_decayed_learning_rate_is_the_one_sgd_uses(small_mnist, trainer_for):
    """A decay so steep that every update after the first is ~1e-13 of it: five steps
    leave the weights where one step put them."""
    one = sgd_trainer(trainer_for, small_mnist, 1, [Schedule(lr_decay=1e12)]).fit()
    five = sgd_trainer(trainer_for, small_mnist, 5, [Schedule(lr_decay=1e12)]).fit()
    unscheduled = sgd_trainer(trainer_for, small_mnist, 5, []).fit()
    for model in ("generator", "discriminator"):
        a, b, c = (list(getattr(t, model).parameters()) for t in (one, five, unscheduled))
        assert all(torch.allclose(x, y, rtol=0, atol=1e-9) for x, y in zip(a, b))
        assert max((x - z).abs().max() for x, z in zip(a, c)) > 1e-4  # without it, steps 2-5 move them


def test_momentum_rises_linearly_between_the_start_and_saturate_epochs(small_mnist, trainer_for):
    # 640 images in batches of 32: 20 steps an epoch, 4 epochs.
    probe = EpochProbe()
    schedule = Schedule(final_momentum=0.9, momentum_start=1, momentum_saturate=3)
    sgd_trainer(trainer_for, small_mnist, 80, [schedule, probe]).fit()
    momenta = [sorted({m for _, m in epoch}) for epoch in probe.seen]
    expected = [0.5, 0.5 + 0.4 / 2, 0.9, 0.9]  # epochs 1..4: α = 0, 1/2, 1, 1
    assert [len(m) for m in momenta] == [1, 1, 1, 1]  # every group of both optimisers alike
    assert [m[0] for m in momenta] == pytest.approx(expected)


def test_linear_decay_holds_the_rate_then_lowers_it_to_zero_by_epoch(small_mnist, trainer_for):
    # The semi-supervised reference: lr₀ · min(3 − e/100, 1) at epoch e (0-based), 301 epochs.
    schedule = Schedule(linear_decay=(200, 300))
    for epoch in range(0, 320):
        reference = max(1e-3 * min(3 - epoch / 100, 1), 0.0)
        assert schedule.learning_rate(1e-3, step=epoch * 600, epoch=epoch) == pytest.approx(reference, abs=1e-15)
    # In training: 20 steps an epoch; seen at the end of epochs 1..4, i.e. the next epoch's rate.
    probe = EpochProbe()
    sgd_trainer(trainer_for, small_mnist, 80, [Schedule(linear_decay=(1, 3)), probe]).fit()
    assert [sorted({lr for lr, _ in epoch}) for epoch in probe.seen] == [[0.1], [0.05], [0.0], [0.0]]


def test_after_the_linear_decay_the_weights_stay_put(small_mnist, trainer_for):
    one = sgd_trainer(trainer_for, small_mnist, 20, [Schedule(linear_decay=(0, 1))]).fit()
    two = sgd_trainer(trainer_for, small_mnist, 40, [Schedule(linear_decay=(0, 1))]).fit()
    unscheduled = sgd_trainer(trainer_for, small_mnist, 40, []).fit()
    for model in ("generator", "discriminator"):
        a, b, c = (list(getattr(t, model).parameters()) for t in (one, two, unscheduled))
        assert all(torch.equal(x, y) for x, y in zip(a, b))
        assert max((x - z).abs().max() for x, z in zip(a, c)) > 1e-4  # without it, epoch 2 moves them


def test_adam_gets_its_beta1_ramped_and_keeps_beta2(small_mnist, trainer_for):
    adam = Component("adam", lr=1e-3, betas=(0.5, 0.99))
    schedule = Schedule(final_momentum=0.7, momentum_start=0, momentum_saturate=4)
    trainer = sgd_trainer(trainer_for, small_mnist, 40, [schedule], optim=adam).fit()
    assert trainer.g_optim.param_groups[0]["betas"] == pytest.approx((0.5 + 0.2 * 2 / 4, 0.99))


def test_resume_continues_the_schedule_from_the_initial_settings(small_mnist, tmp_path, trainer_for):
    schedule = dict(lr_decay=1.02, final_momentum=0.9, momentum_start=0, momentum_saturate=4)
    first = sgd_trainer(trainer_for, small_mnist, 30, [Schedule(**schedule), Checkpointer(tmp_path)]).fit()
    assert first.g_optim.param_groups[0]["lr"] == pytest.approx(0.1 * 1.02 ** -30)
    resumed = sgd_trainer(trainer_for, small_mnist, 60, [Schedule(**schedule)])
    resumed.resume(tmp_path / "last.pt")
    resumed.fit()
    whole = sgd_trainer(trainer_for, small_mnist, 60, [Schedule(**schedule)]).fit()
    for a, b in zip(resumed.g_optim.param_groups + resumed.d_optim.param_groups,
                    whole.g_optim.param_groups + whole.d_optim.param_groups):
        assert a["lr"] == pytest.approx(0.1 * 1.02 ** -60) == pytest.approx(b["lr"])
        assert a["momentum"] == pytest.approx(0.5 + 0.4 * 3 / 4) == pytest.approx(b["momentum"])


def test_schedule_settings_out_of_range_are_refused():
    with pytest.raises(GanzooError, match="lr_decay"):
        Schedule(lr_decay=0.9)
    with pytest.raises(GanzooError, match="final_momentum"):
        Schedule(final_momentum=1.0)
    with pytest.raises(GanzooError, match="start"):
        Schedule(final_momentum=0.7, momentum_start=5, momentum_saturate=2)
    for bad in ((300, 200), (200,), 300, (-1, 5), (0.5, 2)):
        with pytest.raises(GanzooError, match="linear_decay is"):
            Schedule(linear_decay=bad)


def test_momentum_ramp_on_an_optimizer_without_momentum_says_so(small_mnist, trainer_for):
    trainer = sgd_trainer(trainer_for, small_mnist, 2, [Schedule(final_momentum=0.7)],
                          optim=lambda params: torch.optim.Adagrad(params, lr=0.01))
    with pytest.raises(GanzooError, match="Adagrad has none"):
        trainer.fit()


def test_a_recipe_with_a_schedule_trains_with_it(tiny_recipe):
    assert ganzoo.build(tiny_recipe).callbacks == []  # off by default
    decay = Component("decay", lr_decay=1.01, min_lr=1e-4, final_momentum=0.6, momentum_saturate=2)
    recipe = tiny_recipe.replace(g_optim=Component("sgd", lr=0.05, momentum=0.5),
                                 d_optim=Component("sgd", lr=0.05, momentum=0.5), schedule=decay, steps=12)
    trainer = ganzoo.build(recipe).fit()
    assert [type(c) for c in trainer.callbacks] == [Schedule]
    assert trainer.d_optim.param_groups[0]["lr"] == pytest.approx(0.05 * 1.01 ** -12)
    with pytest.raises(GanzooError, match="lr_decay"):
        ganzoo.build(tiny_recipe.replace(schedule=Component("decay", lr_decay=0.99)))
    with pytest.raises(GanzooError, match="linear_decay"):
        ganzoo.build(tiny_recipe.replace(schedule=Component("decay", linear_decay=[3, 1])))


def test_recipes_saved_with_the_flat_schedule_fields_still_load():
    # recipe.json and checkpoints of earlier versions spelt the schedule as five fields
    old = {**ganzoo.get_recipe("goodfellow-mnist").to_dict(), "lr_decay": 1.000004, "min_lr": 1e-6,
           "final_momentum": 0.7, "momentum_saturate": 250, "lr_linear_decay": None}
    del old["schedule"], old["callbacks"]
    recipe = ganzoo.Recipe.from_dict(old)
    assert recipe.schedule == Component("decay", lr_decay=1.000004, min_lr=1e-6, final_momentum=0.7,
                                        momentum_saturate=250)
    assert recipe.to_dict() == ganzoo.get_recipe("goodfellow-mnist").to_dict()


def test_goodfellow_mnist_uses_the_reference_schedule():
    schedule = ganzoo.create("schedules", ganzoo.get_recipe("goodfellow-mnist").schedule)
    assert (schedule.lr_decay, schedule.min_lr, schedule.final_momentum) == (1.000004, 1e-6, 0.7)
    assert (schedule.momentum_start, schedule.momentum_saturate) == (1, 250)
