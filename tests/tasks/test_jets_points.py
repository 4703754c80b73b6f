"""Point-cloud jet taggers: what a set function must satisfy, and the features they read."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physml.tasks.jets.evaluation import bootstrap
from physml.tasks.jets.points import EdgeConvNet, ParticleFlowNetwork, point_features

F = 6  # features per constituent, the mask last


def _cloud(n: int = 6, p: int = 12, real: int = 9, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, p, F, generator=g)
    x[..., -1] = 0.0
    x[:, :real, -1] = 1.0
    x[:, real:, :-1] = 0.0
    return x


@pytest.mark.parametrize("net", [ParticleFlowNetwork(16, 8), EdgeConvNet((8, 16), k=3, dense=8)])
def test_taggers_ignore_the_order_and_the_padding_of_constituents(net):
    torch.manual_seed(0)
    x = _cloud()
    out = net(x)
    perm = torch.cat([torch.randperm(9), torch.arange(9, 12)])
    assert torch.allclose(net(x[:, perm]), out, atol=1e-5)
    padded = torch.cat([x, torch.zeros(6, 7, F)], 1)  # more padding rows: the same jets
    assert torch.allclose(net(padded), out, atol=1e-5)
    garbage = x.clone()
    garbage[:, 9:, :-1] = 100.0  # whatever the padding holds, the mask hides it
    assert torch.allclose(net(garbage), out, atol=1e-5)


def _columns(jets: list[tuple]) -> tuple:
    cols = [np.empty(len(jets), object) for _ in range(4)]
    for j, jet in enumerate(jets):
        for c, v in zip(cols, jet):
            c[j] = np.asarray(v, np.float32)
    return tuple(cols)


def test_point_features_are_relative_to_the_jet_and_cut_to_size():
    jets = [([300, 200, 100], [0.1, 0.2, 0.3], [3.1, -3.1, 3.0], [310, 205, 120]), ([50.0],) * 4]
    axis = (np.array([600.0, 50.0]), np.array([0.2, 50.0]), np.array([3.14, 50.0]))
    f = point_features(*_columns(jets), *axis, np.array([True, False]), 2)
    assert f.shape == (1, 2, 6) and np.allclose(f[0, :, -1], 1)
    assert np.allclose(f[0, :, 0], np.log([0.5, 200 / 600]), atol=1e-6)
    assert np.allclose(f[0, :, 3], np.log(np.array([310, 205]) / 515), atol=1e-6)  # energies of the kept ones
    dphi = np.array([3.1 - 3.14, -3.1 - 3.14 + 2 * np.pi])  # wrapped across +-pi
    assert np.allclose(f[0, :, 4], np.hypot([-0.1, 0.0], dphi), atol=1e-5)
    # the standardised frame: two points on a line, the pT centroid at 0, the line along y, heavier up
    x, y, w = f[0, :, 1], f[0, :, 2], np.array([300.0, 200.0])
    assert np.allclose([(w * x).sum(), (w * y).sum()], 0, atol=1e-5) and np.allclose(x, 0, atol=1e-5)
    assert y[0] > 0 and np.isclose(y[0] - y[1], np.hypot(0.1, dphi[1] - dphi[0]), atol=1e-5)


def test_the_standardised_frame_forgets_a_rotation_about_the_jet_axis():
    rng = np.random.default_rng(2)
    k = 20
    pt, e = rng.exponential(20, k) + 1, rng.exponential(30, k) + 1
    deta, dphi = rng.normal(0, 0.3, k), rng.normal(0, 0.3, k) + 0.2 * (np.arange(k) % 3)
    a = 0.7
    rot = (np.cos(a) * deta - np.sin(a) * dphi, np.sin(a) * deta + np.cos(a) * dphi)
    jets = [(pt, 0.5 + deta, 1.0 + dphi, e), (pt, 0.5 + rot[0], 1.0 + rot[1], e)]
    axis = (np.full(2, pt.sum()), np.full(2, 0.5), np.full(2, 1.0))
    f = point_features(*_columns(jets), *axis, np.array([True, True]), k)
    assert np.allclose(f[0], f[1], atol=1e-4)


def test_bootstrap_error_of_the_auc_matches_the_hanley_mcneil_formula():
    """For a Gaussian-separated score the bootstrap standard error of the AUC agrees with the
    Hanley & McNeil (1982) variance within 25% (the bootstrap's own spread with 100 draws is ~7%)."""
    rng = np.random.default_rng(3)
    n = 2000
    y = np.r_[np.zeros(n), np.ones(n)]
    score = np.r_[rng.normal(0, 1, n), rng.normal(1.5, 1, n)]
    from sklearn.metrics import roc_auc_score

    a = roc_auc_score(y, score)
    q1, q2 = a / (2 - a), 2 * a**2 / (1 + a)
    hm = np.sqrt((a * (1 - a) + (n - 1) * (q1 - a**2) + (n - 1) * (q2 - a**2)) / (n * n))
    assert abs(bootstrap(y, score)["auc"] / hm - 1) < 0.25
