"""The optimizers a recipe can name (the optim plugin's, and the semi-supervised plugin's Adam
with its ε inside the square root)."""

import math

import pytest
import torch

import ganzoo
from ganzoo import Component, GanzooError, default_registry
from ganzoo_semisupervised import EpsInsideAdam


def make_optimizer(component, params):
    return ganzoo.optimizer(component)(params)


def _one_step(optimizer_cls, grad: float, **options) -> float:
    """How far one step moves a weight at 0 whose gradient is ``grad``."""
    w = torch.nn.Parameter(torch.zeros(1))
    optim = optimizer_cls([w], **options)
    w.grad = torch.tensor([grad])
    optim.step()
    return -float(w.detach())


def test_first_step_divides_by_root_of_g_squared_plus_eps():
    # After one step m̂ = g and v̂ = g², so the update is lr·g/√(g² + ε).
    for g in (1.0, 1e-2, 1e-4, 1e-6):
        moved = _one_step(EpsInsideAdam, g, lr=0.1, eps=1e-8)
        assert moved == pytest.approx(0.1 * g / math.sqrt(g * g + 1e-8), rel=1e-5)


def test_small_gradients_move_less_than_under_torch_adam():
    # torch's Adam moves a weight by about lr whatever the gradient's size; with ε
    # under the root a gradient of 1e-4 moves it lr/√2 and one of 1e-6 lr/100.
    assert _one_step(torch.optim.Adam, 1e-6, lr=0.1) == pytest.approx(0.1, rel=1e-2)
    assert _one_step(EpsInsideAdam, 1e-4, lr=0.1) == pytest.approx(0.1 / math.sqrt(2), rel=1e-4)
    assert _one_step(EpsInsideAdam, 1e-6, lr=0.1) == pytest.approx(1e-3, rel=1e-3)


def test_without_eps_it_is_torch_adam():
    # ε = 0 removes the only difference: the two follow the same path on the same gradients.
    torch.manual_seed(0)
    start = torch.randn(50)
    grads = [torch.randn(50) for _ in range(30)]
    paths = []
    for cls in (torch.optim.Adam, EpsInsideAdam):
        w = torch.nn.Parameter(start.clone())
        optim = cls([w], lr=0.01, betas=(0.5, 0.999), eps=0.0)
        for g in grads:
            w.grad = g.clone()
            optim.step()
        paths.append(w.detach())
    torch.testing.assert_close(paths[1], paths[0], rtol=1e-5, atol=1e-6)


def test_state_survives_a_state_dict_round_trip():
    torch.manual_seed(1)
    grads = [torch.randn(10) for _ in range(6)]

    def run(split: bool) -> torch.Tensor:
        w = torch.nn.Parameter(torch.ones(10))
        optim = EpsInsideAdam([w], lr=0.05, betas=(0.5, 0.999))
        for i, g in enumerate(grads):
            if split and i == 3:
                state = optim.state_dict()
                w = torch.nn.Parameter(w.detach().clone())
                optim = EpsInsideAdam([w], lr=0.05, betas=(0.5, 0.999))
                optim.load_state_dict(state)
            w.grad = g.clone()
            optim.step()
        return w.detach()

    assert torch.equal(run(split=True), run(split=False))


def test_recipes_can_name_it_and_bad_options_are_one_line():
    params = [torch.nn.Parameter(torch.zeros(3))]
    optim = make_optimizer(Component("adam-eps-inside", lr=3e-3, betas=[0.5, 0.999]), params)
    assert isinstance(optim, EpsInsideAdam) and optim.param_groups[0]["betas"] == (0.5, 0.999)
    with pytest.raises(GanzooError, match="adam-eps-inside.*eps must be at least 0"):
        make_optimizer(Component("adam-eps-inside", eps=-1.0), params)
    with pytest.raises(GanzooError, match="unknown optimizer 'adam-eps-insde'.*adam-eps-inside"):
        make_optimizer(Component("adam-eps-insde"), params)


def test_registry_lists_every_optimizer_with_its_plugin():
    entries = default_registry().entries("optimizers")
    assert {"adam", "adamw", "sgd", "rmsprop", "adam-eps-inside"} <= set(entries)
    assert entries["adam"].plugin == "optim" and entries["adam-eps-inside"].plugin == "semisupervised"


def test_adam_is_fused_and_checks_its_options():
    params = [torch.nn.Parameter(torch.zeros(3))]
    optim = make_optimizer(Component("adam", lr=1e-3, betas=[0.5, 0.99]), params)
    assert isinstance(optim, torch.optim.Adam) and optim.defaults["fused"] and optim.defaults["betas"] == (0.5, 0.99)
    for bad, says in ((dict(betas=[0.5]), "betas"), (dict(betas=[1.0, 0.9]), "betas"), (dict(lr=-1.0), "lr"),
                      (dict(momentum=0.9), "has no option 'momentum'")):
        with pytest.raises(GanzooError, match=says):
            make_optimizer(Component("adam", **bad), params)
    sgd = make_optimizer(Component("sgd", lr=0.1, momentum=0.5), params)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0.5
