"""Point-cloud jet taggers: what a set function must satisfy, and the features they read."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physml.tasks.jets.evaluation import bootstrap
from physml.tasks.jets.points import EdgeConvNet, ParticleFlowNetwork, point_features


def _cloud(n: int = 6, p: int = 12, real: int = 9, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, p, 5, generator=g)
    x[..., 4] = 0.0
    x[:, :real, 4] = 1.0
    x[:, real:, :4] = 0.0
    return x


@pytest.mark.parametrize("net", [ParticleFlowNetwork(16, 8), EdgeConvNet((8, 16), k=3, dense=8)])
def test_taggers_ignore_the_order_and_the_padding_of_constituents(net):
    torch.manual_seed(0)
    x = _cloud()
    out = net(x)
    perm = torch.cat([torch.randperm(9), torch.arange(9, 12)])
    assert torch.allclose(net(x[:, perm]), out, atol=1e-5)
    padded = torch.cat([x, torch.zeros(6, 7, 5)], 1)  # more padding rows: the same jets
    assert torch.allclose(net(padded), out, atol=1e-5)
    garbage = x.clone()
    garbage[:, 9:, :4] = 100.0  # whatever the padding holds, the mask hides it
    assert torch.allclose(net(garbage), out, atol=1e-5)


def test_point_features_are_relative_to_the_jet_and_cut_to_size():
    obj = np.empty(2, object)
    pt, eta, phi, e = (obj.copy() for _ in range(4))
    pt[0], eta[0], phi[0], e[0] = (
        np.array(v, np.float32) for v in ([300, 200, 100], [0.1, 0.2, 0.3], [3.1, -3.1, 3.0], [310, 205, 120])
    )
    pt[1], eta[1], phi[1], e[1] = (np.array([50.0], np.float32),) * 4
    f = point_features(
        pt,
        eta,
        phi,
        e,
        np.array([600.0, 50.0]),
        np.array([0.2, 50.0]),
        np.array([3.14, 50.0]),
        np.array([True, False]),
        2,
    )
    assert f.shape == (1, 2, 5) and np.allclose(f[0, :, 4], 1)
    assert np.allclose(f[0, :, 0], np.log([0.5, 200 / 600]), atol=1e-6)
    assert np.allclose(f[0, :, 1], [-0.1, 0.0], atol=1e-6)
    assert np.allclose(f[0, :, 2], [3.1 - 3.14, -3.1 - 3.14 + 2 * np.pi], atol=1e-5)  # wrapped across +-pi
    assert np.allclose(f[0, :, 3], np.log(np.array([310, 205]) / 515), atol=1e-6)  # energies of the kept ones


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
