"""The alternating protocol, on real MNIST: who is frozen when, which way each phase
pushes D, exact resume, n_critic, and the event order."""

import math

import pytest
import torch

import ganzoo
from ganzoo.callbacks import Callback
from ganzoo import Component, GanzooError, Trainer, checkpoint
from ganzoo.trainer import resolve_device


def make_trainer(data, steps=10, g_lr=2e-4, d_lr=2e-4, **kwargs):
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", latent_dim=32, hidden=(64, 128)), data.spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(128, 64)), data.spec)
    return Trainer(
        G, D, ganzoo.create("losses", "non-saturating"), data, batch_size=32, steps=steps,
        g_optim=ganzoo.optimizer(Component("adam", lr=g_lr, betas=(0.5, 0.999))),
        d_optim=ganzoo.optimizer(Component("adam", lr=d_lr, betas=(0.5, 0.999))),
        device="cpu", log_every=5, **kwargs,
    )


class SpyLoss(ganzoo.GANLoss):
    """Wraps the real loss and records what each phase saw."""

    def __init__(self):
        self.inner = ganzoo.create("losses", "non-saturating")
        self.seen = []

    def discriminator_loss(self, batch, G, D):
        self.seen.append(("D", any(p.requires_grad for p in G.parameters()),
                          all(p.requires_grad for p in D.parameters()),
                          [p.detach().clone() for p in G.parameters()], len(batch)))
        return self.inner.discriminator_loss(batch, G, D)

    def generator_loss(self, batch, G, D):
        self.seen.append(("G", all(p.requires_grad for p in G.parameters()),
                          any(p.requires_grad for p in D.parameters()),
                          [p.detach().clone() for p in D.parameters()], len(batch)))
        return self.inner.generator_loss(batch, G, D)


def test_each_step_trains_d_with_g_frozen_then_g_with_d_frozen(small_mnist):
    trainer = make_trainer(small_mnist, steps=1)
    spy = trainer.loss = SpyLoss()
    g_before = [p.detach().clone() for p in trainer.generator.parameters()]
    trainer.fit()
    (d_phase, g_grad, d_grad, g_at_d, n1), (g_phase, g_grad2, d_grad2, d_at_g, n2) = spy.seen
    assert (d_phase, g_grad, d_grad) == ("D", False, True)
    assert (g_phase, g_grad2, d_grad2) == ("G", True, False)
    assert n1 == n2 == 32
    # G did not move during the D phase; D did not move during the G phase; G moved after.
    assert all(torch.equal(a, b) for a, b in zip(g_before, g_at_d))
    assert all(torch.equal(a, b) for a, b in zip(d_at_g, trainer.discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, trainer.generator.parameters()))


def test_discriminator_phase_calls_real_real_and_fakes_fake(small_mnist):
    logs = []

    class Recorder(Callback):
        def on_log(self, t, metrics): logs.append(metrics)

    make_trainer(small_mnist, steps=30, g_lr=0.0, d_lr=1e-3, callbacks=[Recorder()]).fit()  # only D learns
    assert logs[-1]["d_real"] > 0.8 and logs[-1]["d_fake"] < 0.2
    assert logs[-1]["d_real"] > logs[0]["d_real"] and logs[-1]["d_fake"] < logs[0]["d_fake"]


def test_generator_phase_makes_d_call_its_samples_real(small_mnist):
    trainer = make_trainer(small_mnist, steps=1, g_lr=2e-3)
    trainer.fit()
    trainer.d_optim.param_groups[0]["lr"] = 0.0  # D fixed from now on: only G learns
    batch = small_mnist.take(torch.arange(256))
    def d_on_fakes():
        torch.manual_seed(1)
        with torch.no_grad():
            return torch.sigmoid(trainer.discriminator(trainer.sample(256))).mean().item()
    before = d_on_fakes()
    trainer.steps = 31
    trainer.fit()
    assert d_on_fakes() > before + 0.1
    assert batch.x.shape == (256, 1, 28, 28)


def test_n_critic_makes_that_many_d_updates_per_g_update(small_mnist):
    trainer = make_trainer(small_mnist, steps=3, n_critic=4)
    spy = trainer.loss = SpyLoss()
    trainer.fit()
    assert [phase for phase, *_ in spy.seen] == (["D"] * 4 + ["G"]) * 3


def test_g_steps_makes_that_many_g_updates_through_the_same_d(small_mnist):
    trainer = make_trainer(small_mnist, steps=2, n_critic=2, g_steps=3)
    spy = trainer.loss = SpyLoss()
    g0 = [p.detach().clone() for p in trainer.generator.parameters()]
    trainer.fit()
    assert [phase for phase, *_ in spy.seen] == (["D"] * 2 + ["G"] * 3) * 2
    assert trainer.g_optim.state_dict()["state"][0]["step"].item() == 6  # three updates a step
    assert trainer.d_optim.state_dict()["state"][0]["step"].item() == 4
    g_phases = [d_at_g for phase, _, _, d_at_g, _ in spy.seen if phase == "G"]
    for first, later in ((g_phases[0], g_phases[1]), (g_phases[0], g_phases[2])):
        assert all(torch.equal(a, b) for a, b in zip(first, later))  # D held still across G's updates
    assert not all(torch.equal(a, b) for a, b in zip(g0, trainer.generator.parameters()))


def test_simultaneous_updates_take_both_gradients_before_either_step(small_mnist):
    trainer = make_trainer(small_mnist, steps=2, simultaneous=True)
    spy = trainer.loss = SpyLoss()
    g0 = [p.detach().clone() for p in trainer.generator.parameters()]
    d0 = [p.detach().clone() for p in trainer.discriminator.parameters()]
    trainer.fit()
    assert [(phase, grad, other) for phase, grad, other, *_ in spy.seen] == [("G", True, False), ("D", False, True)] * 2
    (_, _, _, d_at_g, _), (_, _, _, g_at_d, _) = spy.seen[:2]
    assert all(torch.equal(a, b) for a, b in zip(d_at_g, d0))  # G's phase saw D before its update
    assert all(torch.equal(a, b) for a, b in zip(g_at_d, g0))  # D's phase saw G before its update


@pytest.mark.parametrize("simultaneous", [True, False])
def test_only_simultaneous_g_updates_ignore_the_same_steps_d_update(small_mnist, simultaneous):
    # One step with D's learning rate 0 and one with a large one: G's update is the same
    # exactly when it was computed through the D from before the step.
    after = [make_trainer(small_mnist, steps=1, d_lr=d_lr, simultaneous=simultaneous).fit() for d_lr in (0.0, 0.1)]
    same_g = all(torch.equal(a, b) for a, b in zip(*(t.generator.parameters() for t in after)))
    assert same_g == simultaneous


@pytest.mark.parametrize("n_critic, g_steps", [(2, 1), (1, 3)])
def test_simultaneous_updates_need_one_update_of_each_per_step(small_mnist, n_critic, g_steps):
    with pytest.raises(GanzooError, match=f"set n_critic=1 and g_steps=1 \\(got {n_critic} and {g_steps}\\)"):
        make_trainer(small_mnist, n_critic=n_critic, g_steps=g_steps, simultaneous=True)


def test_epochs_set_the_length_and_fire_epoch_events(small_mnist):
    events = []

    class Recorder(Callback):
        def on_train_start(self, t): events.append("start")
        def on_epoch_end(self, t): events.append(("epoch", t.step, t.epoch))
        def on_train_end(self, t): events.append("end")

    trainer = make_trainer(small_mnist, steps=None, epochs=2, callbacks=[Recorder()])
    assert trainer.total_steps == 40  # 640 samples / 32 = 20 steps per epoch
    trainer.fit()
    assert events == ["start", ("epoch", 20, 1), ("epoch", 40, 2), "end"]


def test_log_averages_are_read_every_log_every_steps(small_mnist):
    logs = []

    class Recorder(Callback):
        def on_log(self, t, metrics): logs.append(metrics)

    make_trainer(small_mnist, steps=12, callbacks=[Recorder()]).fit()
    assert [m["step"] for m in logs] == [5, 10, 12]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "step_time", "epoch"} <= set(logs[0])
    assert all(isinstance(v, float) for m in logs for k, v in m.items() if k != "step")


def test_resume_continues_the_same_run_exactly(small_mnist, tmp_path):
    straight = make_trainer(small_mnist, steps=30).fit()  # crosses the epoch boundary at 20

    first = make_trainer(small_mnist, steps=13).fit()
    first.save(tmp_path / "half.pt")
    resumed = make_trainer(small_mnist, steps=30)
    resumed.resume(tmp_path / "half.pt")
    assert resumed.step == 13
    resumed.fit()

    for a, b in zip(straight.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(straight.discriminator.parameters(), resumed.discriminator.parameters()):
        assert torch.equal(a, b)


def test_without_resume_a_different_run_differs(small_mnist):
    a = make_trainer(small_mnist, steps=5, seed=0).fit()
    b = make_trainer(small_mnist, steps=5, seed=1).fit()
    assert not torch.equal(next(a.generator.parameters()), next(b.generator.parameters()))


def test_too_few_samples_for_a_batch_is_an_error(small_mnist):
    with pytest.raises(GanzooError, match="exceeds"):
        make_trainer(small_mnist, n_critic=100)


def test_cuda_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(GanzooError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


@pytest.mark.parametrize("amp", [True, False])
def test_amp_runs_both_phases_under_bfloat16_autocast_and_trains(small_mnist, amp):
    trainer = make_trainer(small_mnist, steps=3, amp=amp)
    seen = []  # per loss phase: (autocast on, dtype of D's first activation, of G's)
    activations = {}
    for name, net in (("D", trainer.discriminator), ("G", trainer.generator)):
        first = next(m for m in net.modules() if isinstance(m, torch.nn.Linear))
        first.register_forward_hook(lambda m, args, out, name=name: activations.__setitem__(name, out.dtype))

    class Recording(ganzoo.GANLoss):
        inner = ganzoo.create("losses", "non-saturating")

        def discriminator_loss(self, batch, G, D):
            return self._record(self.inner.discriminator_loss(batch, G, D))

        def generator_loss(self, batch, G, D):
            return self._record(self.inner.generator_loss(batch, G, D))

        def _record(self, result):
            seen.append((torch.is_autocast_enabled("cpu"), activations.pop("D"), activations.pop("G")))
            return result

    trainer.loss = Recording()
    params = [p.detach().clone() for net in (trainer.generator, trainer.discriminator) for p in net.parameters()]
    trainer.fit()
    want = torch.bfloat16 if amp else torch.float32
    assert seen == [(amp, want, want)] * 6  # D's and G's phase, 3 steps
    after = [p for net in (trainer.generator, trainer.discriminator) for p in net.parameters()]
    assert all(p.dtype == torch.float32 for p in after)  # autocast computes in bfloat16, keeps float32 weights
    assert all(not torch.equal(a, b) for a, b in zip(params, after))  # every tensor of both nets moved
    assert all(math.isfinite(trainer.last_metrics[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake"))


class _Losses(Callback):
    """Every logged d_loss and g_loss."""

    def __init__(self):
        self.seen = []

    def on_log(self, trainer, metrics):
        self.seen.append((metrics["d_loss"], metrics["g_loss"]))


@pytest.mark.parametrize("schedule", [{}, {"simultaneous": True}, {"n_critic": 2, "g_steps": 2}])
def test_compiled_networks_train_as_the_eager_ones(small_mnist, trainer_for, caplog, schedule):
    runs = {}
    for mode in (None, "default"):
        losses = _Losses()
        trainer = trainer_for(small_mnist, 6, [losses], log_every=1, compile=mode, **schedule)
        trainer.fit()
        assert trainer.compiled is (mode is not None)
        runs[mode] = (losses.seen, [p.detach().clone() for p in trainer.generator.parameters()])
    assert not [r for r in caplog.records if "torch.compile" in r.getMessage()]  # it compiled: no fallback
    (eager_losses, eager_weights), (compiled_losses, compiled_weights) = runs[None], runs["default"]
    assert len(eager_losses) == len(compiled_losses) == 6
    # The compiler fuses and reorders float arithmetic: equal to rounding, over 6 steps
    # in which the losses move by ~1e-2.
    assert max(abs(a - b) for x, y in zip(eager_losses, compiled_losses) for a, b in zip(x, y)) < 1e-4
    assert max(float((a - b).abs().max()) for a, b in zip(eager_weights, compiled_weights)) < 1e-4
    assert abs(eager_losses[0][0] - eager_losses[-1][0]) > 1e-3


def test_a_compiler_that_fails_leaves_one_warning_and_the_eager_run(cli, tmp_path):
    tiny = ["--set", "generator.hidden=[64,128]", "--set", "discriminator.hidden=[128,64]", "--set", "steps=4",
            "--device", "cpu"]
    eager = cli("run", "vanilla-mnist", *tiny, "--out", str(tmp_path / "eager"))
    assert eager.returncode == 0, eager.stderr
    # No C++ compiler: torch.compile cannot build its CPU kernels.
    fallen = cli("run", "vanilla-mnist", *tiny, "--out", str(tmp_path / "fallen"), "--compile", "reduce-overhead",
                 env={"CXX": str(tmp_path / "no-such-compiler")})
    assert fallen.returncode == 0, fallen.stderr
    warnings = [line for line in fallen.stderr.splitlines() if "torch.compile" in line]
    assert len(warnings) == 1 and "reduce-overhead" in warnings[0] and "training eagerly" in warnings[0], warnings
    assert "Traceback" not in fallen.stderr
    a, b = (checkpoint.load(tmp_path / run / "checkpoints" / "last.pt") for run in ("eager", "fallen"))
    for net in ("generator", "discriminator"):
        assert all(torch.equal(v, b[net][k]) for k, v in a[net].items())  # the attempt left no trace


def test_an_unknown_compile_mode_is_one_line(small_mnist, trainer_for, cli):
    with pytest.raises(GanzooError, match="compile mode 'fast' is not one of default, reduce-overhead"):
        trainer_for(small_mnist, 2, [], compile="fast")
    result = cli("run", "vanilla-mnist", "--compile", "fast")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--compile" in result.stderr


def test_a_loss_that_differentiates_gradients_stays_eager(small_mnist, caplog):
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", latent_dim=16, hidden=(32,)), small_mnist.spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(32,)), small_mnist.spec)
    loss = ganzoo.create("losses", Component("non-saturating", r1_gamma=10))
    assert loss.double_backward and not ganzoo.create("losses", "non-saturating").double_backward
    trainer = Trainer(G, D, loss, small_mnist, batch_size=32, steps=2, device="cpu", compile="default")
    trainer.fit()  # torch.compile cannot take R1's double backward: the run trains eagerly
    assert not trainer.compiled
    said = [r.getMessage() for r in caplog.records if "torch.compile" in r.getMessage()]
    assert len(said) == 1 and "cannot differentiate through gradients" in said[0] and "eagerly" in said[0]
    assert trainer.step == 2
