"""Bad input to the Python API raises :class:`ganzoo.GanzooError` with one line,
never a raw TypeError / ValueError / RuntimeError / IndexError / KeyError, and the same
mistake made through the CLI and through the API is described in the same words.

The trainers are tiny MLP GANs on a real MNIST slice (640 images), on the CPU.
"""

from __future__ import annotations

import functools

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError, Recipe, Trainer
from ganzoo.cli import main


def _models(spec):
    torch.manual_seed(0)
    G = ganzoo.create("generators", Component("mlp", latent_dim=16, hidden=(32,)), spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(32,)), spec)
    return G, D


@pytest.fixture
def make_trainer(small_mnist):
    """``make_trainer(**kwargs)``: a small trainer on ``small_mnist``; kwargs go to Trainer."""

    def make(**kwargs):
        G, D = _models(small_mnist.spec)
        kwargs = {"batch_size": 32, "steps": 2, "device": "cpu", **kwargs}
        return Trainer(G, D, ganzoo.create("losses", "non-saturating"), small_mnist, **kwargs)

    return make


@pytest.fixture
def trainer(make_trainer):
    return make_trainer()


@pytest.fixture
def conditional_trainer(small_mnist):
    G = ganzoo.create("generators", Component("conditional", base="mlp", latent_dim=8, hidden=(16,)),
                      small_mnist.spec)
    D = ganzoo.create("discriminators", Component("projection", trunk="mlp", hidden=(16,)), small_mnist.spec)
    return Trainer(G, D, ganzoo.create("losses", "non-saturating"), small_mnist, batch_size=32, steps=1, device="cpu")


@pytest.fixture
def recipe() -> Recipe:
    return ganzoo.get_recipe("vanilla-mnist")


def one_line(exc_info) -> str:
    """The error's message, checked: a GanzooError with one non-empty line."""
    exc = exc_info.value
    assert isinstance(exc, GanzooError) and not isinstance(exc, (TypeError, ValueError, RuntimeError, KeyError,
                                                                 IndexError, AttributeError))
    message = str(exc)
    assert message.strip() and "\n" not in message, message
    assert "Traceback" not in message
    return message


# --------------------------------------------------------------------------- the trainer
@pytest.mark.parametrize("n, expected", [
    (-1, "the number of samples: expected an integer at least 1, got -1"),
    (0, "the number of samples: expected an integer at least 1, got 0"),
    (2.5, "the number of samples: expected an integer at least 1, got 2.5"),
    (True, "got True"),
    ("3", "got '3'"),
])
def test_sample_count(trainer, n, expected):
    with pytest.raises(GanzooError) as info:
        trainer.sample(n)
    assert expected in one_line(info)


def test_sample_batch(trainer):
    with pytest.raises(GanzooError) as info:
        trainer.sample(3, batch=0)
    assert "the sampling batch size" in one_line(info)


def test_labels_for_an_unconditional_generator(trainer):
    with pytest.raises(GanzooError) as info:
        trainer.sample(3, y=torch.tensor([0, 1, 2]))
    assert "not conditional" in one_line(info)


@pytest.mark.parametrize("labels, expected", [
    ([0, 1, 10], "class 10 is outside this generator's classes 0..9"),
    ([0, -1, 2], "class -1 is outside this generator's classes 0..9"),
    ([0, 1], "3 samples need 3 labels"),
])
def test_conditional_sample_with_bad_classes(conditional_trainer, labels, expected):
    with pytest.raises(GanzooError) as info:
        conditional_trainer.sample(3, y=torch.tensor(labels))
    assert expected in one_line(info)


@pytest.mark.parametrize("kwargs, expected", [
    ({"batch_size": 0}, "Trainer batch_size: expected an integer at least 1, got 0"),
    ({"batch_size": 2.5}, "Trainer batch_size: expected an integer at least 1, got 2.5"),
    ({"batch_size": True}, "Trainer batch_size"),
    ({"log_every": 0}, "Trainer log_every: expected an integer at least 1, got 0"),
    ({"steps": -5}, "Trainer steps: expected an integer at least 1, got -5"),
    ({"steps": "10"}, "Trainer steps"),
    ({"steps": None, "epochs": 0}, "Trainer epochs"),
    ({"steps": None, "epochs": None}, "Trainer needs a length"),
    ({"n_critic": 0}, "Trainer n_critic"),
    ({"g_steps": 0}, "Trainer g_steps"),
    ({"seed": 2**70}, f"Trainer seed: expected an integer between 0 and {2**63 - 1}, got {2**70}"),
    ({"seed": -1}, "Trainer seed"),
    ({"seed": 1.5}, "Trainer seed"),
    ({"simultaneous": True, "n_critic": 2}, "set n_critic=1 and g_steps=1"),
    ({"batch_size": 10**6}, "exceeds the 640 samples"),
    ({"device": "foo"}, "unknown device 'foo'"),
    ({"g_optim": Component("nope")}, "Trainer g_optim is a callable taking parameters"),
    ({"g_optim": "sgd"}, "ganzoo.optimizer(Component("),
    ({"g_optim": lambda params: 3}, "Trainer g_optim returned int, not a torch.optim.Optimizer"),
])
def test_trainer_arguments(make_trainer, kwargs, expected):
    with pytest.raises(GanzooError) as info:
        make_trainer(**kwargs)
    assert expected in one_line(info)


def test_resume_from_a_directory(trainer, tmp_path):
    with pytest.raises(GanzooError) as info:
        trainer.resume(tmp_path)
    assert "is a directory, not a checkpoint file" in one_line(info)


def test_resume_from_a_text_file(trainer, tmp_path):
    (tmp_path / "notes.txt").write_text("not a checkpoint\n")
    with pytest.raises(GanzooError) as info:
        trainer.resume(tmp_path / "notes.txt")
    assert "is corrupt or" in one_line(info)


def test_resume_from_a_missing_file(trainer, tmp_path):
    with pytest.raises(GanzooError) as info:
        trainer.resume(tmp_path / "missing.pt")
    assert "does not exist" in one_line(info)


def test_resume_other_models(trainer, small_mnist, tmp_path):
    path = trainer.save(tmp_path / "last.pt")
    G = ganzoo.create("generators", Component("mlp", latent_dim=16, hidden=(64,)), small_mnist.spec)
    D = ganzoo.create("discriminators", Component("mlp", hidden=(32,)), small_mnist.spec)
    other = Trainer(G, D, ganzoo.create("losses", "non-saturating"), small_mnist, batch_size=32, steps=2, device="cpu")
    with pytest.raises(GanzooError) as info:
        other.resume(path)
    assert "checkpoint's weights do not fit these models" in one_line(info)


def test_save_onto_a_directory(trainer, tmp_path):
    with pytest.raises(GanzooError) as info:
        trainer.save(tmp_path)
    one_line(info)


# --------------------------------------------------------------------------- build and create
@pytest.mark.parametrize("generator, expected", [
    (Component("mlp", hidden=(-1,)), "generator 'mlp' option hidden: expected a list of integers each at least 1"),
    (Component("mlp", hidden=()), "generator 'mlp' option hidden: expected a list of integers each at least 1"),
    (Component("mlp", latent_dim=0), "generator 'mlp' option latent_dim: expected an integer at least 1, got 0"),
    (Component("mlp", widht=3), "generator 'mlp' has no option 'widht'"),
    (Component("mpl"), "unknown generator 'mpl' (did you mean mlp"),
    (Component("conditional", base="mlp", hidden=[512, -1]), "generator 'mlp' option hidden"),
])
def test_build_with_bad_generator(recipe, generator, expected):
    with pytest.raises(GanzooError) as info:
        ganzoo.build(recipe.replace(generator=generator), device="cpu")
    assert expected in one_line(info)


def test_create_with_an_unknown_option(small_mnist):
    with pytest.raises(GanzooError) as info:
        ganzoo.create("generators", Component("mlp", widht=3), small_mnist.spec)
    assert "generator 'mlp' has no option 'widht'" in one_line(info)
    assert "options: latent_dim, hidden" in str(info.value)


@pytest.mark.parametrize("call, expected", [
    (lambda spec: ganzoo.create("nope", Component("mlp"), spec), "unknown kind 'nope'"),
    (lambda spec: ganzoo.create("generators", Component("mlp")), "missing a required argument: 'spec'"),
    (lambda spec: ganzoo.create("generators", Component("mlp"), "spec"), "could not be built"),
    (lambda spec: ganzoo.create("discriminators", Component("mlp", dropout=1.0), spec), "option dropout"),
])
def test_create(small_mnist, call, expected):
    with pytest.raises(GanzooError) as info:
        call(small_mnist.spec)
    assert expected in one_line(info)


# --------------------------------------------------------------------------- recipes
@pytest.mark.parametrize("changes, expected", [
    ({"steps": "10"}, "recipe field steps: expected an integer or null, got '10'"),
    ({"batch_size": 2.5}, "recipe field batch_size: expected an integer, got 2.5"),
    ({"batch_size": 0}, "batch_size must be at least 1, got 0"),
    ({"seed": 2**63}, "recipe field seed"),
    ({"name": 3}, "recipe field name: expected a string, got 3"),
    ({"eval_metrics": "fd"}, "recipe field eval_metrics"),
    ({"d_ema": 2.0}, "d_ema is a rate per step in (0, 1]"),
    ({"lr_linear_decay": (3, 1)}, "unknown recipe field 'lr_linear_decay'"),
    ({"g_optim": functools.partial(torch.optim.NAdam, lr=1e-3)},
     "recipe field g_optim must be a Component (a registered name and its options), got partial"),
    ({"dataset": 3}, "recipe field dataset must be a Component"),
])
def test_recipe_replace(recipe, changes, expected):
    with pytest.raises(GanzooError) as info:
        recipe.replace(**changes)
    message = one_line(info)
    assert expected in message
    if "must be a Component" in message:  # the fix: a recipe stays plain data
        assert "plain data" in message and "Trainer" in message


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize("edit, expected", [
    (lambda d: _without(d, "generator"), "recipe lacks the fields ['generator']"),
    (lambda d: {**d, "generator": {"nam": "mlp"}}, 'recipe field generator must be {"name": ..., "options": {...}}'),
    (lambda d: {**d, "stepz": 3}, "recipe has unknown fields ['stepz']"),
    (lambda d: [d], "a recipe is a JSON object of fields, got list"),
    (lambda d: {**d, "generator": {"name": "mlp", "options": [1]}}, "recipe field generator must be"),
    (lambda d: {**d, "steps": "10"}, "recipe field steps: expected an integer or null, got '10'"),
])
def test_recipe_from_dict(recipe, edit, expected):
    with pytest.raises(GanzooError) as info:
        Recipe.from_dict(edit(recipe.to_dict()))
    assert expected in one_line(info)


def test_get_recipe_unknown():
    with pytest.raises(GanzooError) as info:
        ganzoo.get_recipe("nope")
    assert "unknown recipe 'nope'" in one_line(info)
    with pytest.raises(GanzooError) as info:
        ganzoo.get_recipe("vanila-mnist")
    assert "did you mean vanilla-mnist" in one_line(info)


@pytest.mark.parametrize("component, expected", [
    (Component("mnist", split="nope"), "mnist: unknown split 'nope'; use train or test"),
    (Component("nope"), "unknown dataset 'nope'"),
    (Component("mnist", value_range=(0,)), "dataset 'mnist' option value_range"),
    (Component("mnist", stop=0), "select no images"),
])
def test_load_dataset(component, expected, data_dir):
    with pytest.raises(GanzooError) as info:
        ganzoo.load_dataset(component, data_dir)
    assert expected in one_line(info)


# --------------------------------------------------------------------------- wrong types
# Calls that once ended in a raw exception: each is one GanzooError line now.
def _nostep_checkpoint(trainer, path):
    state = trainer.state_dict()
    del state["step"]
    torch.save(state, path)
    return path


RAW = [
    ("load_dataset('mnist', split='nope')", lambda t, c, r, tmp: ganzoo.load_dataset("mnist", split="nope"),
     "TypeError: load_dataset() takes no dataset options as keywords; only Component('mnist', split=...) "
     "is checked", TypeError),
    ("recipe.replace(stepz=3)", lambda t, c, r, tmp: r.replace(stepz=3),
     "TypeError from dataclasses.replace; the CLI's --set stepz=3 says 'unknown recipe field' with close "
     "matches", TypeError),
    ("get_recipe(3)", lambda t, c, r, tmp: ganzoo.get_recipe(3),
     "TypeError: 'int' object is not iterable, from difflib in did_you_mean", TypeError),
    ("create('generators', 3, spec)", lambda t, c, r, tmp: ganzoo.create("generators", 3, t.data.spec),
     "AttributeError: 'int' object has no attribute 'name'", AttributeError),
    ("create('generators', Component(3), spec)",
     lambda t, c, r, tmp: ganzoo.create("generators", Component(3), t.data.spec),
     "TypeError: 'int' object is not iterable, from difflib in did_you_mean", TypeError),
    ("Trainer(g_optim=3)", lambda t, c, r, tmp: Trainer(t.generator, t.discriminator, t.loss, t.data,
                                                        steps=1, batch_size=32, device="cpu", g_optim=3),
     "TypeError: 'int' object is not callable", TypeError),
    ("Trainer(g_optim=Component('adam', betas=0.5))",
     lambda t, c, r, tmp: Trainer(t.generator, t.discriminator, t.loss, t.data, steps=1, batch_size=32,
                                  device="cpu", g_optim=Component("adam", betas=0.5)),
     "TypeError: 'float' object is not iterable, from tuple(betas) before make_optimizer's try", TypeError),
    ("Trainer(Component('mlp'), ...)",
     lambda t, c, r, tmp: Trainer(Component("mlp"), t.discriminator, t.loss, t.data, steps=1, device="cpu"),
     "AttributeError: 'Component' object has no attribute 'to': the Trainer takes modules, a recipe "
     "Components", AttributeError),
    ("Trainer(..., data=<a tensor>)",
     lambda t, c, r, tmp: Trainer(t.generator, t.discriminator, t.loss, t.data.x, steps=1, device="cpu"),
     "AttributeError: 'Tensor' object has no attribute 'batches_per_epoch'", AttributeError),
    ("Trainer(device='meta').fit()",
     lambda t, c, r, tmp: Trainer(t.generator, t.discriminator, t.loss, t.data, steps=1, batch_size=32,
                                  device="meta").fit(),
     "NotImplementedError: Cannot copy out of meta tensor: any torch device type is accepted", NotImplementedError),
    ("sample(3, y=[0, 1, 'a'])", lambda t, c, r, tmp: c.sample(3, y=[0, 1, "a"]),
     "TypeError: 'str' object cannot be interpreted as an integer, from torch.as_tensor", TypeError),
    ("resume(<a checkpoint without 'step'>)",
     lambda t, c, r, tmp: t.resume(_nostep_checkpoint(t, tmp / "nostep.pt")),
     "KeyError: 'step': load_state_dict reads step, epoch, cursor and rng outside its try", KeyError),
]


@pytest.mark.parametrize("call", [pytest.param(call, id=name) for name, call, why, raw in RAW])
def test_raw_exceptions(call, trainer, conditional_trainer, recipe, tmp_path):
    with pytest.raises(GanzooError) as info:
        call(trainer, conditional_trainer, recipe, tmp_path)
    one_line(info)


def test_conditional_sample_with_fractional_labels(conditional_trainer):
    with pytest.raises(GanzooError, match="labels must be integers"):
        conditional_trainer.sample(3, y=torch.tensor([0.5, 1.7, 2.2]))


def test_a_registered_optimizer_by_name_is_one_call_away(trainer):
    t = Trainer(trainer.generator, trainer.discriminator, trainer.loss, trainer.data, steps=1, batch_size=32,
                device="cpu", g_optim=ganzoo.optimizer("sgd"))
    assert isinstance(t.g_optim, torch.optim.SGD)
    for bad, says in ((Component("nope"), "unknown optimizer 'nope'"),
                      (Component("adam", lr=-1), "optimizer 'adam'"), (Component("adam", foo=1), "has no option 'foo'")):
        with pytest.raises(GanzooError, match=says):
            Trainer(trainer.generator, trainer.discriminator, trainer.loss, trainer.data, steps=1, batch_size=32,
                    device="cpu", g_optim=ganzoo.optimizer(bad))


# --------------------------------------------------------------------------- CLI and API agree
def _cli_message(argv, capsys, tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    return err.strip()[len("error: "):]


def _after_location(message: str) -> str:
    """A message without its location prefix (``--set steps``, ``recipe field steps``...)."""
    return message.split(": ", 1)[1]


def _api_message(call) -> str:
    with pytest.raises(GanzooError) as info:
        call()
    return one_line(info)


@pytest.mark.parametrize("argv, call", [
    (["--set", "generator.hidden=[512,-1]"],
     lambda r: ganzoo.build(r.replace(generator=Component("mlp", hidden=[512, -1])), device="cpu")),
    (["--set", "generator.latent_dim=0"],
     lambda r: ganzoo.build(r.replace(generator=Component("mlp", latent_dim=0)), device="cpu")),
    (["--set", 'steps="10"'], lambda r: r.replace(steps="10")),
    (["--set", "batch_size=2.5"], lambda r: r.replace(batch_size=2.5)),
    (["--set", "batch_size=0"], lambda r: r.replace(batch_size=0)),
    (["--seed", "-1"], lambda r: r.replace(seed=-1)),
    (["--set", "seed=-1"], lambda r: r.replace(seed=-1)),
    (["--set", "schedule=decay", "--set", "schedule.linear_decay=[3,1]"],
     lambda r: ganzoo.build(r.replace(schedule=Component("decay", linear_decay=(3, 1))), device="cpu")),
    (["--set", "generator=mpl"], lambda r: ganzoo.build(r.replace(generator=Component("mpl")), device="cpu")),
])
def test_cli_and_api_say_the_same(argv, call, recipe, capsys, tmp_path, monkeypatch):
    cli = _cli_message(["run", "vanilla-mnist", *argv], capsys, tmp_path, monkeypatch)
    api = _api_message(lambda: call(recipe))
    if ": " in cli and ": " in api and cli.startswith(("--set", "--seed")):
        cli, api = _after_location(cli), _after_location(api)
    assert cli == api


def test_trainer_and_cli_say_the_same_about_a_seed(make_trainer, capsys, tmp_path, monkeypatch):
    cli = _cli_message(["run", "vanilla-mnist", "--seed", str(2**70)], capsys, tmp_path, monkeypatch)
    api = _api_message(lambda: make_trainer(seed=2**70))
    assert _after_location(cli) == _after_location(api)
