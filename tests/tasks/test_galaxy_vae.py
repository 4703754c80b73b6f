"""galaxy-vae's pieces against independent truth (no Ray): the importance-weighted bound on a
linear-Gaussian model whose marginal likelihood is exact, the Gaussian profile fit on GalSim's own
sheared Gaussian, and the simulator's flux."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from physml.tasks.galaxy_vae.gaussfit import fit
from physml.tasks.galaxy_vae.source import GalaxyParams, draw
from physml.tasks.galaxy_vae.vae import iwae


def _linear_gaussian(d: int = 3, D: int = 6, seed: int = 0, s2: float = 0.25):
    """z ~ N(0, I_d), x | z ~ N(W z + b, s2 I_D) with W's columns orthogonal, so the exact posterior is
    a diagonal Gaussian: Sigma = (I + W^T W / s2)^-1, mu = Sigma W^T (x - b) / s2; p(x) = N(b, W W^T + s2 I)."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(D, d, generator=g, dtype=torch.float64))
    W = q * torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
    b = torch.randn(D, generator=g, dtype=torch.float64)
    var = 1 / (1 + (W**2).sum(0) / s2)

    def decode(z):
        mean = z @ W.T + b
        return mean, torch.full_like(mean, np.log(s2))

    def exact_encode(x):
        return (x - b) @ W * var / s2, torch.log(var).expand(len(x), d)

    cov = W @ W.T + s2 * torch.eye(D, dtype=torch.float64)
    p = torch.distributions.MultivariateNormal(b, cov)
    return decode, exact_encode, p, d


def test_iwae_is_exact_with_the_exact_posterior_and_a_bound_that_tightens_with_k():
    decode, exact_encode, p, d = _linear_gaussian()
    torch.manual_seed(0)
    x = p.sample((200,))
    logp = p.log_prob(x)
    for k in (1, 5):  # the exact posterior: every importance weight equals p(x)
        assert torch.allclose(iwae(exact_encode, decode, x, k), logp, atol=1e-9)

    def wide(x):  # a worse q: the right mean, twice the standard deviation
        mu, logvar = exact_encode(x)
        return mu, logvar + np.log(4.0)

    gaps = [iwae(wide, decode, x, k) - logp for k in (1, 10, 100)]  # per x: <= 0 in expectation
    m = [float(d.mean()) for d in gaps]
    se = [float(d.std() / len(d) ** 0.5) for d in gaps]
    assert m[0] + 4 * se[0] < m[1] and m[1] + 4 * se[1] < m[2]  # tighter with K, by > 4 standard errors
    assert m[2] < 4 * se[2]  # still a lower bound (within 4 standard errors of the sample mean)
    assert abs(m[2]) < 0.2 * abs(m[0])  # K = 100 closes most of the gap


def test_the_gaussian_fit_recovers_galsims_sheared_gaussian():
    import galsim

    sigma, g, scale, flux = 0.6, 0.3, 0.2, 1000.0  # arcsec; shear along x
    img = galsim.Gaussian(sigma=sigma, flux=flux).shear(g1=g, g2=0.0).drawImage(nx=32, ny=32, scale=scale).array
    params, _ = fit(img.astype(np.float64))
    q = (1 - g) / (1 + g)  # axis ratio of a shear g; area preserved
    widths = sorted(np.exp(params[3:5]))
    assert params[0] == pytest.approx(flux, rel=1e-2)
    assert widths == pytest.approx([sigma * np.sqrt(q) / scale, sigma / np.sqrt(q) / scale], rel=1e-2)


def test_simulated_stamps_hold_their_flux():
    p = GalaxyParams(n=1, psf_fwhm=0.5)
    img = draw(p, 1000.0, 0.3, 0.5, 0.1, -0.1, 0.2, -0.3)
    assert img.shape == (32, 32) and img.sum() == pytest.approx(1000.0, rel=0.03)  # a compact galaxy: all inside
