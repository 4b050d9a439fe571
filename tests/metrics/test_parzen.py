"""The Parzen window estimate against densities known in closed form."""

import math

import pytest
import torch

from ganzoo.metrics.parzen import SIGMAS, parzen, parzen_log_likelihood, select_sigma


def gaussian_log_density(x, var):
    d = x.shape[1]
    return -(x * x).sum(1) / (2 * var) - d / 2 * math.log(2 * math.pi * var)


def test_one_centre_is_exactly_a_gaussian():
    x = torch.randn(50, 784, dtype=torch.float64)
    ll = parzen_log_likelihood(x, torch.zeros(7, 784), sigma=0.3)
    assert torch.allclose(ll, gaussian_log_density(x, 0.09), rtol=1e-10)


def test_many_centres_from_a_gaussian_give_the_convolved_density():
    # Centres ~ N(0, I) smoothed by σ = 0.5 estimate N(0, 1.25 I).
    gen = torch.Generator().manual_seed(0)
    centres = torch.randn(40_000, 2, generator=gen, dtype=torch.float64)
    x = torch.randn(4000, 2, generator=gen, dtype=torch.float64)
    ll = parzen_log_likelihood(x, centres, sigma=0.5)
    assert ll.mean().item() == pytest.approx(gaussian_log_density(x, 1.25).mean().item(), abs=0.02)


def test_sigma_grid_is_the_papers():
    assert len(SIGMAS) == 10 and SIGMAS[0] == pytest.approx(0.1) and SIGMAS[-1] == pytest.approx(1.0)


def test_sigma_is_chosen_by_validation_likelihood():
    gen = torch.Generator().manual_seed(1)
    centres = 0.3 * torch.randn(3000, 4, generator=gen)
    validation = 0.3 * torch.randn(500, 4, generator=gen)
    chosen = select_sigma(centres, validation)
    scores = {s: parzen_log_likelihood(validation, centres, s).mean().item() for s in SIGMAS}
    assert scores[chosen] == max(scores.values())
    result = parzen(centres, validation, validation[:100])
    assert result["parzen_sigma"] == chosen and result["parzen_se"] > 0
