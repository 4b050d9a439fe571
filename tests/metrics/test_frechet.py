"""Fréchet distance, checked against scipy's sqrtm formula on random covariances."""

import numpy as np
import pytest
import scipy.linalg
import torch

from ganzoo.metrics.frechet import frechet_distance, frechet_distance_from_stats, gaussian_stats


def scipy_fd(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.parametrize("dim, seed", [(2, 0), (16, 1), (128, 2)])
def test_matches_the_scipy_formula(dim, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
    s1, s2 = a @ a.T / dim + 0.1 * np.eye(dim), b @ b.T / dim + 0.1 * np.eye(dim)
    mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
    ours = frechet_distance_from_stats(*(torch.from_numpy(t) for t in (mu1, s1, mu2, s2)))
    assert ours == pytest.approx(scipy_fd(mu1, s1, mu2, s2), rel=1e-8, abs=1e-8)


def test_rank_deficient_covariances_stay_real_and_non_negative():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(64, 5))  # rank 5 in 64 dimensions
    s = a @ a.T
    value = frechet_distance_from_stats(torch.zeros(64), torch.from_numpy(s), torch.zeros(64), torch.from_numpy(s))
    assert isinstance(value, float) and abs(value) < 1e-6 * np.trace(s)


def test_same_features_give_zero_and_a_mean_shift_gives_its_square():
    torch.manual_seed(0)
    f = torch.randn(5000, 8)
    assert frechet_distance(f, f) == pytest.approx(0.0, abs=1e-8)
    shifted = f + torch.tensor([3.0] + [0.0] * 7)
    assert frechet_distance(f, shifted) == pytest.approx(9.0, rel=1e-6)


def test_gaussian_stats_are_the_unbiased_estimates():
    f = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    mu, cov = gaussian_stats(f)
    assert mu.tolist() == [3.0, 6.0]
    assert torch.allclose(cov, torch.from_numpy(np.cov(f.numpy().T)))
