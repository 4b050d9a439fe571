"""A recipe as a run: Python's ganzoo.Run and `ganzoo run` assemble the same run, and
every field of the recipe changes it."""

import dataclasses
import json

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError, Recipe
from ganzoo.callbacks import Callback
from ganzoo.cli import main
from ganzoo.hookspecs import hookimpl
from ganzoo.trainer import Trainer

# A small 2-d run: its data is generated, so every field can be tried in seconds.
BASE = ganzoo.get_recipe("gan-ring").replace(
    dataset=Component("ring", n=2000), generator=Component("mlp", latent_dim=4, hidden=(16,)),
    discriminator=Component("mlp", hidden=(16,)), steps=6, epochs=None, batch_size=50, log_every=2)

# A changed value for every field, as Python writes it and as `--set` does.
CHANGES = {
    "dataset": (Component("ring", n=1000), ["dataset.n=1000"]),
    "generator": (Component("mlp", latent_dim=4, hidden=(8,)), ["generator.hidden=[8]"]),
    "discriminator": (Component("mlp", hidden=(8,)), ["discriminator.hidden=[8]"]),
    "loss": (Component("minimax"), ["loss=minimax"]),
    "g_optim": (Component("sgd", lr=0.01), ["g_optim=sgd", "g_optim.lr=0.01"]),
    "d_optim": (Component("adam", lr=1e-3, betas=(0.8, 0.999)), ["d_optim.lr=1e-3"]),
    "schedule": (Component("decay", lr_decay=1.01), ["schedule=decay", "schedule.lr_decay=1.01"]),
    "callbacks": ((Component("probe", tag="x"),), ["callbacks=[probe]", "callbacks.probe.tag=x"]),
    "batch_size": (40, ["batch_size=40"]),
    "steps": (8, ["steps=8"]),
    "epochs": (1, ["epochs=1"]),  # with steps None, as --set epochs=N implies
    "n_critic": (2, ["n_critic=2"]),
    "g_steps": (2, ["g_steps=2"]),
    "simultaneous": (True, ["simultaneous=true", "g_steps=1"]),
    "seed": (7, ["seed=7"]),
    "amp": (True, ["amp=true"]),
    "sync_batchnorm": (True, ["sync_batchnorm=true"]),
    "log_every": (3, ["log_every=3"]),
    "sample_every": (3, ["sample_every=3"]),
    "checkpoint_every": (3, ["checkpoint_every=3"]),
    "eval_every": (3, ["eval_every=3"]),
    "eval_metrics": (("modes",), ["eval_every=3", "eval_metrics=[\"modes\"]"]),
    "eval_n": (200, ["eval_n=200"]),
    "d_ema": (0.5, ["d_ema=0.5"]),
    "g_ema": (0.9, ["g_ema=0.9"]),
    "augment": (Component("jitter", scale=0.5), ["augment=jitter", "augment.scale=0.5"]),
    "name": ("renamed", ["name=renamed"]),
    "description": ("another", ["description=another"]),
}
EXTRA = {"epochs": {"steps": None}, "simultaneous": {"g_steps": 1}, "eval_metrics": {"eval_every": 3}}


class Probe(Callback):
    """A registered callback a recipe can list: records events, saves state."""

    def __init__(self, tag: str = "t") -> None:
        self.tag, self.run_dir, self.events = tag, None, []

    def on_step_end(self, trainer) -> None:
        self.events.append(trainer.step)

    def state_dict(self) -> dict:
        return {"tag": self.tag, "events": list(self.events)}

    def load_state_dict(self, state: dict) -> None:
        self.events = list(state["events"])


class Jitter:
    """A registered augmentation that takes any data: Gaussian noise of ``scale``."""

    def __init__(self, scale: float = 0.1) -> None:
        self.scale = scale

    def __call__(self, x):
        return x + self.scale * torch.randn_like(x)


class ProbePlugin:
    @hookimpl
    def register_callbacks(self, register):
        register("probe", Probe)

    @hookimpl
    def register_augmentations(self, register):
        register("jitter", Jitter)

    @hookimpl
    def register_recipes(self, register):
        register("walk-base", BASE)


@pytest.fixture
def probe_plugin():
    registry = ganzoo.default_registry()
    registry.register(ProbePlugin(), name="probe-plugin")
    yield
    registry.unregister("probe-plugin")


def fingerprint(trainer: Trainer) -> dict:
    """What decides a run and what watches it, as plain data."""
    def plain(obj):
        return {k: v for k, v in sorted(vars(obj).items())
                if isinstance(v, (int, float, str, bool, tuple, type(None))) and not k.startswith("_")}

    return {
        "loop": {k: getattr(trainer, k) for k in ("batch_size", "steps", "epochs", "n_critic", "g_steps", "simultaneous",
                                                 "seed", "amp", "sync_batchnorm", "log_every",
                                                 "total_steps")},
        "data": (len(trainer.data), float(trainer.data.x.sum())),
        "models": [(type(m).__name__, {k: tuple(v.shape) for k, v in m.state_dict().items()},
                    float(sum(p.detach().sum() for p in m.parameters()))) for m in (trainer.generator, trainer.discriminator)],
        "loss": type(trainer.loss).__name__,
        "d_in_training": _d_in_training(trainer.discriminator),
        "optims": [(type(o).__name__, {k: v for k, v in o.defaults.items() if isinstance(v, (int, float, tuple))})
                   for o in (trainer.g_optim, trainer.d_optim)],
        "callbacks": [(type(c).__name__, plain(c)) for c in trainer.callbacks if type(c).__name__ != "Progress"],
        "recipe": trainer.recipe,
    }


def _d_in_training(discriminator) -> float:
    """D's scores of fixed points in training mode under a fixed seed: what an augmentation changes."""
    x = torch.linspace(-1, 1, 8).view(4, 2)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(0)
        return float(discriminator.train()(x).sum())


@pytest.fixture
def built(monkeypatch):
    """Runs are assembled and their directories written, but nothing trains."""
    trainers = []

    def no_training(self):
        trainers.append(self)
        return self

    monkeypatch.setattr(Trainer, "fit", no_training)
    return trainers


def test_every_field_changes_the_python_run_as_it_changes_ganzoo_run(probe_plugin, built, tmp_path):
    assert set(CHANGES) == {f.name for f in dataclasses.fields(Recipe)}  # a new field must be added here
    ganzoo.Run(BASE, tmp_path / "base", device="cpu").fit()
    base = fingerprint(built.pop())
    for name, (value, sets) in CHANGES.items():
        ganzoo.Run(BASE.replace(**{name: value, **EXTRA.get(name, {})}), tmp_path / f"py-{name}", device="cpu").fit()
        python = fingerprint(built.pop())
        args = [a for s in sets for a in ("--set", s)]
        assert main(["run", "walk-base", *args, "--out", str(tmp_path / f"cli-{name}"), "--device", "cpu"]) == 0
        cli = fingerprint(built.pop())
        cli["recipe"]["name"] = python["recipe"]["name"] = None if name != "name" else python["recipe"]["name"]
        assert python == cli, name
        assert python != base, f"recipe field {name} changes nothing in the run"
        assert json.loads((tmp_path / f"py-{name}" / "recipe.json").read_text())[name] == \
            json.loads((tmp_path / f"cli-{name}" / "recipe.json").read_text())[name]


def test_ganzoo_build_honours_every_field_that_needs_no_directory(tmp_path):
    recipe = BASE.replace(schedule=Component("decay", lr_decay=1.01), d_ema=0.5, eval_every=3,
                          eval_metrics=("modes",), eval_n=200)
    names = [type(c).__name__ for c in ganzoo.build(recipe, device="cpu").callbacks]
    assert names == ["Schedule", "EMA", "Evaluate"]
    trainer = ganzoo.build(recipe, device="cpu").fit()
    assert trainer.d_optim.param_groups[0]["lr"] == pytest.approx(1e-4 * 1.01 ** -6)
    assert "eval_modes" in trainer.last_metrics or trainer.callbacks[2].history  # evaluated at steps 3 and 6
    assert [h["step"] for h in trainer.callbacks[2].history] == [3, 6]


def test_a_listed_callback_runs_is_saved_under_its_name_and_resumes(probe_plugin, tmp_path):
    out = tmp_path / "run"
    run = ganzoo.Run(BASE.replace(callbacks=(Component("probe", tag="a"),)), out, device="cpu")
    run.fit()
    probe = next(c for c in run.trainer.callbacks if isinstance(c, Probe))
    assert probe.events == [1, 2, 3, 4, 5, 6] and probe.run_dir == out
    state = ganzoo.checkpoint.load(out / "checkpoints" / "last.pt")
    assert state["callbacks"]["probe"] == {"tag": "a", "events": [1, 2, 3, 4, 5, 6]}
    assert main(["run", "--resume", str(out / "checkpoints" / "last.pt"), "--set", "steps=8"]) == 0
    state = ganzoo.checkpoint.load(out / "checkpoints" / "last.pt")
    assert state["callbacks"]["probe"]["events"] == [1, 2, 3, 4, 5, 6, 7, 8]  # continued, not restarted


def test_two_callbacks_saving_under_one_key_are_refused(probe_plugin, tmp_path):
    recipe = BASE.replace(callbacks=(Component("probe"), Component("probe", tag="b")))
    with pytest.raises(GanzooError, match="two callbacks save their state under 'probe'"):
        ganzoo.Run(recipe, tmp_path / "r", device="cpu").fit()
    assert not (tmp_path / "r").exists()  # failed before its first step: nothing left behind


def test_an_unknown_callback_or_schedule_is_one_line_before_anything_is_written(tmp_path, capsys):
    for setting, says in (("callbacks=[tensorbord]", "unknown callback 'tensorbord'"),
                          ("schedule=decai", "unknown schedule 'decai'"),
                          ("schedule.lr_decay=2", "the recipe has no schedule; choose one first"),
                          ("callbacks.probe.tag=x", "naming a listed callback")):
        assert main(["run", "gan-ring", "--set", setting, "--out", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, setting
        assert not (tmp_path / "r").exists()


def test_optimizer_names_come_from_plugins_and_the_trainer_takes_factories(small_mnist, trainer_for):
    trainer = trainer_for(small_mnist, 1, [], g_optim=ganzoo.optimizer("rmsprop"),
                          d_optim=lambda params: torch.optim.SGD(params, lr=0.1))
    assert type(trainer.g_optim).__name__ == "RMSprop" and type(trainer.d_optim).__name__ == "SGD"
    with pytest.raises(GanzooError, match="is a callable taking parameters"):
        trainer_for(small_mnist, 1, [], g_optim="adam")
