"""lensing: the simulator against lensing theory (Einstein radii from G, c and the distances; the
point-mass deflection; the SIE's point symmetry; the ring at theta_E), SNR, the subhalo and vortex
populations, the models' shapes, contrastive divergence against enumeration, AUC on constructed cases,
bad inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from astropy import constants as const
from astropy import units as u
from astropy.cosmology import FlatLambdaCDM

from physml.config import from_dict
from physml.tasks.lensing import evaluation, lenses, nets
from physml.tasks.lensing.lenses import (
    LensParams,
    draw_system,
    lens_model,
    observe,
    render,
)
from physml.tasks.lensing.source import LensingParams, LensingSource
from physml.tasks.lensing.task import Lensing, LensingConfig, normalise

COSMO = FlatLambdaCDM(H0=70, Om0=0.3)
ARCSEC = 180 / np.pi * 3600


def _distances(zl, zs):
    return (
        COSMO.angular_diameter_distance(zl),
        COSMO.angular_diameter_distance(zs),
        COSMO.angular_diameter_distance(zl, zs),
    )


@pytest.mark.parametrize("zl,zs", [(0.5, 1.0), (0.3, 2.0)])
def test_einstein_radii_from_constants_and_distances(zl, zs):
    dl, ds, dls = _distances(zl, zs)
    m = 1e10 * u.Msun
    point = np.sqrt(4 * const.G * m / const.c**2 * dls / (dl * ds)).decompose().value * ARCSEC
    # lenstronomy's G and M_sun differ from astropy's CODATA values at 1e-4
    assert lenses.point_mass_theta_e(1e10, zl, zs) == pytest.approx(point, rel=1e-3)
    sis = 4 * np.pi * (250 * u.km / u.s / const.c).decompose().value ** 2 * (dls / ds).decompose().value * ARCSEC
    assert lenses.sie_theta_e(250.0, zl, zs) == pytest.approx(sis, rel=1e-3)
    # the mass inside theta_E of a point mass is the point mass itself
    assert lenses.mass_in_theta_e(point, zl, zs) == pytest.approx(1e10, rel=1e-3)


def test_power_law_masses_follow_the_cdf():
    rng = np.random.default_rng(1)
    lo, hi, a = 1e8, 1e10, -1.9
    m = lenses.power_law_masses(rng, 40000, lo, hi, a)
    assert m.min() >= lo and m.max() <= hi
    for q in (3e8, 1e9, 3e9):
        exact = (q ** (a + 1) - lo ** (a + 1)) / (hi ** (a + 1) - lo ** (a + 1))
        se = np.sqrt(exact * (1 - exact) / len(m))
        assert abs((m < q).mean() - exact) < 5 * se


def _smooth(s: dict) -> dict:
    return {**s, "sub_x": np.zeros(0), "sub_y": np.zeros(0), "sub_m": np.zeros(0)}


@pytest.mark.parametrize("kind", ["spherical", "vortex"])
def test_substructure_adds_the_point_mass_deflection(kind):
    """alpha(with subhalos) - alpha(smooth) = sum_i theta_i^2 (x - x_i) / |x - x_i|^2 (point-mass lensing)."""
    s = draw_system(np.random.default_rng(3), LensParams(), kind)
    assert len(s["sub_m"]) > 0
    x, y = np.meshgrid(np.linspace(-2.1, 2.1, 9), np.linspace(-2.05, 2.05, 9))
    x, y = x.ravel(), y.ravel()
    lm, kw = lens_model(s)
    lm0, kw0 = lens_model(_smooth(s))
    dx, dy = (np.asarray(a) - np.asarray(b) for a, b in zip(lm.alpha(x, y, kw), lm0.alpha(x, y, kw0)))
    te2 = lenses.point_mass_theta_e(s["sub_m"], s["z_lens"], s["z_source"]) ** 2
    rx, ry = x[:, None] - s["sub_x"][None], y[:, None] - s["sub_y"][None]
    r2 = rx**2 + ry**2
    far = (r2 > 0.05**2).all(1)
    assert far.sum() > 60
    np.testing.assert_allclose(dx[far], (te2 * rx / r2).sum(1)[far], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dy[far], (te2 * ry / r2).sum(1)[far], rtol=1e-6, atol=1e-9)


def _centred(s: dict) -> dict:
    return {**s, "gamma": 0.0, "src_x": 0.0, "src_y": 0.0, "src_q": 1.0}


def test_smooth_lens_image_is_point_symmetric_and_substructure_breaks_it():
    """An SIE centred on the axis, no shear, a round source on the axis: the image is invariant under
    (x, y) -> (-x, -y); subhalos or a vortex break the symmetry."""
    p = LensParams(size=64)
    rng = np.random.default_rng(5)
    smooth = render(_centred(draw_system(rng, p, "none")), p)
    scale = smooth.max()
    assert np.abs(smooth - smooth[::-1, ::-1]).max() < 1e-6 * scale
    for kind in ("spherical", "vortex"):
        img = render(_centred(draw_system(rng, p, kind)), p)
        assert np.abs(img - img[::-1, ::-1]).max() > 0.05 * img.max()


def test_compact_source_on_axis_makes_a_ring_at_theta_e():
    p = LensParams(size=150, psf_fwhm=0.03)
    s = {**_centred(draw_system(np.random.default_rng(7), p, "none")), "q": 0.999, "src_r": 0.02, "src_n": 1.0}
    img = render(s, p)
    c = lenses.coordinates(p)
    r = np.hypot(*np.meshgrid(c, c))
    edges = np.arange(0, 2.0, p.pixel_scale)
    profile = [img[(r >= a) & (r < b)].mean() for a, b in zip(edges[:-1], edges[1:])]
    peak = edges[int(np.argmax(profile))] + p.pixel_scale / 2
    assert abs(peak - s["theta_e"]) < 1.5 * p.pixel_scale


@pytest.mark.parametrize("model,lo,hi", [("A", 20.0, 20.0), ("B", 10.0, 30.0)])
def test_snr_is_peak_over_background_sigma(model, lo, hi):
    p = LensParams(model=model, size=64)
    rng = np.random.default_rng(11)
    measured, stored = [], []
    for _ in range(12):
        s = draw_system(rng, p, "none")
        clean, noisy = observe(render(s, p), s, p, rng)
        corners = np.concatenate(
            [noisy[:8, :8].ravel(), noisy[:8, -8:].ravel(), noisy[-8:, :8].ravel(), noisy[-8:, -8:].ravel()]
        )
        assert clean[:8, :8].max() < 0.01 * clean.max()  # the corners hold sky only
        measured.append(clean.max() / corners.std(ddof=1))
        stored.append(s["snr"])
        assert lo <= s["snr"] <= hi
    # sigma from 256 pixels has a relative standard error of 1/sqrt(2 * 255) = 4.4%: 5 SE over 12 images
    ratio = np.array(measured) / np.array(stored)
    assert abs(ratio.mean() - 1) < 5 * 0.044 / np.sqrt(12)
    if model == "B":
        assert np.ptp(stored) > 5


def test_class_populations():
    p = LensParams()
    rng = np.random.default_rng(13)
    none = [draw_system(rng, p, "none") for _ in range(50)]
    assert all(len(s["sub_m"]) == 0 for s in none)
    sph = [draw_system(rng, p, "spherical") for _ in range(300)]
    counts = np.array([len(s["sub_m"]) for s in sph])
    assert abs(counts.mean() - p.n_sub) < 5 * np.sqrt(p.n_sub / len(counts))  # Poisson mean, 5 SE
    r = np.concatenate([np.hypot(s["sub_x"], s["sub_y"]) / s["theta_e"] for s in sph])
    assert r.max() <= p.sub_radius
    for s in (draw_system(rng, p, "vortex") for _ in range(50)):
        frac = s["vortex_mass"] / lenses.mass_in_theta_e(s["theta_e"], s["z_lens"], s["z_source"])
        assert p.vortex_fraction[0] <= frac <= p.vortex_fraction[1]
        assert s["sub_m"].sum() == pytest.approx(s["vortex_mass"])
        ends = np.hypot(s["sub_x"][-1] - s["sub_x"][0], s["sub_y"][-1] - s["sub_y"][0])
        assert ends == pytest.approx(s["vortex_length"])


def test_model_b_varies_redshifts_model_a_fixes_them():
    rng = np.random.default_rng(17)
    a = [draw_system(rng, LensParams(model="A"), "none") for _ in range(20)]
    b = [draw_system(rng, LensParams(model="B"), "none") for _ in range(20)]
    assert {s["z_lens"] for s in a} == {0.5} and {s["z_source"] for s in a} == {1.0}
    assert np.ptp([s["z_lens"] for s in b]) > 0.1 and all(s["z_source"] > s["z_lens"] for s in b)


def test_source_items_and_rows():
    src = LensingSource(LensingParams(n=3, n_none=5, lens=LensParams(size=32)))
    items = src.items()
    assert [(i["substructure"], i["n"]) for i in items] == [("none", 5), ("vortex", 3), ("spherical", 3)]
    t = src.make(items[2])
    assert t.num_rows == 3 and set(t.column("label").to_pylist()) == {2}
    assert len(t.column("image")[0]) == 32 * 32
    again = src.make(items[2])
    assert t.column("image").to_pylist() == again.column("image").to_pylist()  # seeded


def test_bad_simulator_parameters():
    with pytest.raises(ValueError, match="model = 'C'"):
        LensParams(model="C")
    with pytest.raises(ValueError, match="behind the lens"):
        LensParams(z_lens=1.2, z_source=1.0)
    with pytest.raises(ValueError, match="snr_range"):
        LensParams(snr_range=(30.0, 10.0))
    with pytest.raises(ValueError, match="substructure 'cdm'"):
        draw_system(np.random.default_rng(0), LensParams(), "cdm")


@pytest.mark.parametrize(
    "kind,size,depth",
    [("dcae", 32, 3), ("vae", 48, 4), ("aae", 96, 4), ("rbm", 16, 4), ("resnet", 64, 4), ("resnet", 150, 4)],
)
def test_model_shapes(kind, size, depth):
    cfg = from_dict(
        LensingConfig,
        {
            "data": {"size": size, "resize": 0},
            "model": {"kind": kind, "depth": depth, "latent": 8, "channels": 4, "hidden": 16},
        },
    )
    model = Lensing().model(cfg).eval()
    x = torch.rand(3, 1, size, size)
    out = model(x)
    if kind == "resnet":
        assert out.shape == (3, 3)
        return
    assert out["recon"].shape == x.shape
    if kind != "rbm":
        assert out["z"].shape == (3, 8)


def test_encoder_size_error_names_the_sizes_that_work():
    with pytest.raises(ValueError, match=r"image size 150: .* multiple of 16, e.g. .*144.*160"):
        from_dict(LensingConfig, {"data": {"size": 150, "resize": 0}, "model": {"kind": "dcae", "depth": 4}})
    with pytest.raises(ValueError, match="model.kind = 'gan'"):
        from_dict(LensingConfig, {"model": {"kind": "gan"}})
    with pytest.raises(ValueError, match="data.crop = 200"):
        from_dict(LensingConfig, {"data": {"crop": 200}})


@pytest.mark.parametrize("kind", ["dcae", "vae", "aae", "rbm", "resnet"])
def test_one_loop_step_for_all_kinds_trains_every_parameter(kind):
    """Every group's training step (one for most kinds, the discriminator then the autoencoder for
    the AAE) reaches every parameter of its group, and the groups cover the model."""
    cfg = from_dict(
        LensingConfig,
        {
            "data": {"size": 32, "resize": 0},
            "model": {"kind": kind, "depth": 3, "latent": 4, "channels": 4, "hidden": 8},
        },
    )
    task = Lensing()
    model = task.model(cfg).train()
    groups = task.param_groups(model, cfg)
    assert sorted(id(p) for ps in groups.values() for p in ps) == sorted(id(p) for p in model.parameters())
    batch = {"x": torch.rand(6, 1, 32, 32), "y": torch.tensor([0, 1, 2, 0, 0, 1])}
    for group, params in groups.items():
        model.zero_grad()
        out = task.training_step(model, batch, cfg, group, 0)
        assert out["loss"].ndim == 0 and torch.isfinite(out["loss"])
        out["loss"].backward()
        assert all(p.grad is not None for p in params), group


def test_aae_discriminator_step_moves_only_the_discriminator():
    """The discriminator's loss reaches only D's weights (the codes carry no gradient); the
    autoencoder's step reaches the encoder and the decoder."""
    torch.manual_seed(0)
    aae = nets.AAE(16, 4, 2, 3).train()
    x = torch.rand(5, 1, 16, 16)
    aae(x, player="discriminator")["d_loss"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in aae.discriminator.parameters())
    assert all(p.grad is None for p in [*aae.encoder.parameters(), *aae.decoder.parameters()])
    aae.zero_grad()
    out = aae(x)
    ((out["recon"] - x) ** 2).sum().add(out["e_loss"]).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in aae.encoder.parameters())


def test_aae_discriminator_learns_the_prior_apart_from_codes():
    """Trained alone (the codes fixed far from the prior), the discriminator's loss falls well below
    its chance value 2 ln 2."""
    torch.manual_seed(0)
    aae = nets.AAE(16, 4, 2, 3).train()
    with torch.no_grad():
        for p in aae.encoder.parameters():
            p.zero_()
        aae.encoder.fc.bias.fill_(3.0)
    opt = torch.optim.Adam(aae.discriminator.parameters(), lr=1e-2)
    x = torch.rand(64, 1, 16, 16)
    for _ in range(200):
        opt.zero_grad()
        loss = aae(x, player="discriminator")["d_loss"]
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * 2 * math.log(2)


def test_rbm_free_energy_matches_enumeration_of_hidden_states():
    """F(v) = -log sum_h exp(-E(v, h)) with E = |v - b|^2 / (2 sigma^2) - c.h - (v / sigma).W h."""
    torch.manual_seed(0)
    rbm = nets.RBM(size=2, hidden=3, sigma=0.5)
    with torch.no_grad():
        for p in rbm.parameters():
            p.normal_()
    v = torch.randn(5, 4, dtype=torch.float32)
    hs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)))
    energy = ((v - rbm.b) ** 2).sum(1, keepdim=True) / (2 * 0.25) - hs @ rbm.c - (v / 0.5) @ rbm.W @ hs.T
    exact = -torch.logsumexp(-energy, dim=1)
    np.testing.assert_allclose(rbm.free_energy(v).detach().numpy(), exact.detach().numpy(), rtol=1e-5)


def test_auc_on_constructed_scores():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    s = np.array([1, 2, 3, 4, 2.5, 3.5, 4.5, 5.5, 10, 11], float)
    got = evaluation.anomaly_aucs(s, y)
    assert got["auc_vortex"] == pytest.approx(13 / 16)  # pairs (vortex > none) / all pairs
    assert got["auc_spherical"] == pytest.approx(1.0)
    assert got["auc_macro"] == pytest.approx((13 / 16 + 1) / 2)
    assert got["auc"] == pytest.approx((13 + 8) / 24)


def test_bootstrap_standard_error_matches_the_spread_over_independent_samples():
    """The AUC of 300 none against 200 vortex scores (unit Gaussians 1 sigma apart): its bootstrap standard
    error from one sample against the spread of the AUC over 400 independent samples (the truth)."""
    rng = np.random.default_rng(7)
    y = np.r_[np.zeros(300, int), np.ones(200, int)]
    draw = lambda: np.r_[rng.normal(0, 1, 300), rng.normal(1, 1, 200)]
    truth = np.std([evaluation.anomaly_aucs(draw(), y)["auc"] for _ in range(400)], ddof=1)
    boot = np.array(
        [evaluation.bootstrap_se(evaluation.class_aucs, y, (draw(),), n=150, seed=i)["auc_se"] for i in range(8)]
    )
    # the two estimates' relative standard errors: the 8 bootstrap values' spread, and 1/sqrt(2 (M - 1)) for M = 400
    rel = np.hypot(boot.std(ddof=1) / np.sqrt(len(boot)) / boot.mean(), 1 / np.sqrt(2 * 399))
    assert abs(boot.mean() / truth - 1) < 4 * rel, (boot.mean(), truth, rel)


def test_bootstrap_errors_of_the_three_class_auc_vanish_only_for_a_perfect_classifier():
    y = np.repeat([0, 1, 2], 40)
    perfect = np.eye(3)[y] * 0.85 + 0.05  # rows (0.9, 0.05, 0.05)
    se = evaluation.bootstrap_se(evaluation.class_aucs, y, (1 - perfect[:, 0], perfect), n=50)
    assert set(se) == {"auc_se", "auc_vortex_se", "auc_spherical_se", "auc_macro_se"}
    assert max(se.values()) == 0.0
    logits = np.log(perfect) + np.random.default_rng(0).normal(0, 2, perfect.shape)
    noisy = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    se = evaluation.bootstrap_se(evaluation.class_aucs, y, (1 - noisy[:, 0], noisy), n=50)
    assert min(se.values()) > 0.005


def test_missing_class_is_a_clear_error():
    with pytest.raises(ValueError, match="holds none: .*vortex, spherical"):
        evaluation.check_classes(np.zeros(5, int))
    with pytest.raises(ValueError, match="holds vortex"):
        evaluation.check_classes(np.ones(5, int))
    assert evaluation.check_classes(np.array([0, 2, 2])) == [2]


def test_normalise_crops_resizes_and_scales_to_peak():
    img = np.zeros((2, 150, 150), np.float32)
    img[:, 75, 75] = 8.0
    img[:, 0, 0] = 100.0  # outside the central crop
    x = normalise(img, resize=48, crop=96)
    assert x.shape == (2, 1, 48, 48)
    assert x.max() == pytest.approx(1.0)
    assert normalise(img, 0, 0).shape == (2, 1, 150, 150)


def test_w1_is_zero_for_a_perfect_reconstruction_and_the_shift_otherwise():
    class Echo(torch.nn.Module):
        def __init__(self, shift):
            super().__init__()
            self.shift, self.p = shift, torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return {"recon": x + self.shift}

    batch = {"x": torch.rand(4, 1, 8, 8), "y": torch.tensor([0, 0, 1, 2])}
    assert evaluation.score(evaluation.collect(Echo(0.0), [batch], "dcae"), "dcae")["w1"] == pytest.approx(0, abs=1e-7)
    assert evaluation.score(evaluation.collect(Echo(0.25), [batch], "dcae"), "dcae")["w1"] == pytest.approx(0.25)


def test_init_state_starts_the_loop_from_given_weights():
    """train.init_from's state dict replaces the seeded initialisation (lr ~ 0: the weights stay)."""
    from physml.platform.training.inline import train_inline
    from physml.platform.training.runplan import RunPlan

    cfg = from_dict(
        LensingConfig,
        {
            "data": {"size": 32, "resize": 0},
            "model": {"kind": "dcae", "depth": 3, "latent": 4, "channels": 4},
            "train": {"epochs": 1, "lr": 1e-30, "batch_size": 4},
        },
    )
    torch.manual_seed(123)
    donor = Lensing().model(cfg)
    x = np.random.default_rng(0).random((8, 1, 32, 32)).astype(np.float32)
    y = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    splits = {"train": {"x": x[:4], "y": y[:4]}, "val": {"x": x, "y": y}}
    fresh, _ = train_inline(Lensing(), RunPlan("lensing", cfg), splits)
    tuned, _ = train_inline(Lensing(), RunPlan("lensing", cfg, init_state=donor.state_dict()), splits)
    for (name, a), b, _ in zip(donor.named_parameters(), tuned.parameters(), fresh.parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=1e-12, err_msg=name)
    assert any(not torch.equal(a, c) for a, c in zip(donor.parameters(), fresh.parameters()))


def test_chi2_is_one_for_the_true_image_under_background_and_poisson_noise():
    """x = s + noise with var = sigma_b^2 + sigma_b s / E (the simulator's noise in peak units): the
    reduced chi^2 of the true s is 1 (64 x 64 pixels: SE sqrt(2 / 4096) = 0.022), whatever the
    brightness, while the MSE grows with it; a wrong reconstruction raises chi^2."""
    rng = np.random.default_rng(21)
    sb, e = 0.05, 25.0
    yy, xx = np.mgrid[:64, :64]
    ring = np.exp(-((np.hypot(xx - 31.5, yy - 31.5) - 15) ** 2) / 8.0)
    s = np.stack([ring * a for a in (0.3, 1.0, 3.0)])
    x = s + rng.standard_normal(s.shape) * np.sqrt(sb**2 + sb * s / e)
    c = evaluation.chi2(x, s, e)
    assert np.all(np.abs(c - 1) < 5 * np.sqrt(2 / 4096))
    mse = ((x - s) ** 2).reshape(3, -1).mean(1)
    assert mse[2] > 1.1 * mse[0]  # +25% expected; 1.1 is 4.5 standard errors
    assert np.all(evaluation.chi2(x, np.zeros_like(s), e) > 1.5)
    np.testing.assert_allclose(evaluation.background_sigma(x), sb, rtol=5 * 0.035)  # MAD of ~1000 pixels


def test_local_chi2_is_one_for_white_noise_and_finds_a_psf_sized_spot_the_mean_misses():
    """The PSF-smoothed residual has unit variance for white noise (all pixels averaged: 1 within 5
    standard errors of the mean over 100 images). A PSF-shaped spot of matched-filter SNR 8 on 96 x 96
    pixels of noise raises the whole-image reduced chi^2 by 64 / 9216 against its spread sqrt(2 / 9216):
    AUC at most Phi(0.47 / sqrt 2) = 0.63 (less with sigma_b from the border); the top 1% of the local
    score holds the spot (~64 at its peak)."""
    from scipy.ndimage import gaussian_filter
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    sb, sigma, n = 0.05, 1.13, 100
    noise = rng.standard_normal((2 * n, 96, 96)) * sb
    white = evaluation.local_chi2(noise[:n], np.zeros((n, 96, 96)), 1e12, sigma, top=1.0)
    assert abs(white.mean() - 1) < 5 * white.std() / np.sqrt(n)
    spot = np.zeros((n, 96, 96))
    for k, (i, j) in enumerate(rng.integers(20, 76, (n, 2))):
        spot[k, i, j] = 1.0
    spot = gaussian_filter(spot, (0, sigma, sigma))
    spot *= 8 * sb / np.sqrt((spot[0] ** 2).sum())  # matched-filter SNR 8
    x, y = noise + np.concatenate([np.zeros_like(spot), spot]), np.r_[np.zeros(n), np.ones(n)]
    zero = np.zeros_like(x)
    assert roc_auc_score(y, evaluation.chi2(x, zero, 1e12)) < 0.75
    assert roc_auc_score(y, evaluation.local_chi2(x, zero, 1e12, sigma)) > 0.95


def test_models_sweep_file_is_valid():
    from pathlib import Path

    from physml.platform.sweep.driver import prepare

    req = prepare("lensing", str(Path(__file__).resolve().parents[2] / "sweeps" / "lensing_models.toml"), [], {})
    assert req.total == 5 and req.settings.table_metric == "test/auc_macro"


def test_adapt_to_another_datasets_image_size():
    task = Lensing()
    cropped = {"data": {"size": 150, "crop": 96, "resize": 0}, "model": {}, "train": {}}
    assert task.adapt(cropped, {"lens": {"size": 200}})["data"]["size"] == 200
    with pytest.raises(ValueError, match="data.crop = 96: larger than the images"):
        from_dict(LensingConfig, task.adapt(cropped, {"lens": {"size": 64}}))
    whole = {"data": {"size": 64, "crop": 0, "resize": 0}, "model": {}, "train": {}}
    with pytest.raises(ValueError, match="its images are 150 px; the model takes 64 px"):
        task.adapt(whole, {"lens": {"size": 150}})


def test_same_simulation_reopens_its_dataset():
    """Params with tuples (stored as JSON lists) are the same command: the dataset resumes, not refuses."""
    from physml.platform.data.shards import DatasetWriter

    src = LensingSource(LensingParams(n=1, n_none=1, lens=LensParams(size=16)))
    uri = "memory://lensing-reopen"
    w = DatasetWriter(uri, "lensing", src.manifest_params(), 0, "test")
    item = src.items()[0]
    w.commit([w.put_shard(item["path"], src.make(item), substructure="none")])
    again = DatasetWriter(uri, "lensing", src.manifest_params(), 0, "test")
    assert [s["path"] for s in again.shards] == [item["path"]]


def test_dihedral_augmentation_applies_one_of_the_eight_square_symmetries_per_image():
    """An image with no symmetry of its own (a single bright pixel off every axis and diagonal) lands
    on one of its 8 images under rotations and reflections; over 400 draws each occurs (a fair choice:
    expected 50 each, the least must be above 50 - 4 x 6.6)."""
    from physml.tasks.lensing.task import dihedral

    base = torch.zeros(1, 1, 6, 6)
    base[0, 0, 1, 2] = 1.0
    orbit = [torch.rot90(base, k, dims=(-2, -1)) for k in range(4)]
    orbit += [o.flip(-1) for o in orbit]
    assert len({tuple(o.nonzero().flatten().tolist()) for o in orbit}) == 8
    out = dihedral(base.expand(400, 1, 6, 6), torch.Generator().manual_seed(0))
    which = [next(i for i, o in enumerate(orbit) if torch.equal(img[None], o)) for img in out]
    assert min(np.bincount(which, minlength=8)) > 50 - 4 * 6.6


def test_test_time_averaging_over_the_square_symmetries():
    """With ``symmetries=8`` the ResNet's probabilities are the same for an image and its rotations
    and reflections (without, an untrained net's are not); an autoencoder that forgets one quadrant
    scores, averaged over the 8 symmetries (each quadrant forgotten twice), mean(x^2) / 4."""
    from physml.tasks.lensing.symmetry import square_symmetry

    torch.manual_seed(0)
    net = nets.ResNet18(3, 4).eval()
    x = torch.rand(6, 1, 16, 16)
    batches = [{"x": square_symmetry(x, g), "y": torch.tensor([0, 1, 2, 0, 1, 2])} for g in (0, 1, 6)]
    with torch.no_grad():
        plain = [evaluation.collect(net, [b], "resnet")["probs"] for b in batches]
        tta = [evaluation.collect(net, [b], "resnet", symmetries=8)["probs"] for b in batches]
    assert np.abs(plain[1] - plain[0]).max() > 1e-4
    for p in tta[1:]:
        np.testing.assert_allclose(p, tta[0], atol=1e-5)

    class ForgetsTopLeft(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.p = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            out = x.clone()
            out[..., :8, :8] = 0
            return {"recon": out}

    got = evaluation.collect(ForgetsTopLeft(), [batches[0]], "dcae", symmetries=8)
    np.testing.assert_allclose(got["mse"], (x**2).mean((1, 2, 3)).numpy() / 4, rtol=1e-5)
    assert evaluation.collect(ForgetsTopLeft(), [batches[0]], "dcae")["mse"] == pytest.approx(
        (x[..., :8, :8] ** 2).sum((1, 2, 3)).numpy() / 256, rel=1e-5
    )


def test_model_tta_makes_the_task_metrics_blind_to_a_quarter_turn_of_the_test_images():
    """``model.tta`` reaches the task's evaluation: with it, turning every test image by 90 degrees
    leaves the loss and AUCs unchanged; without it an untrained net's loss changes."""
    from physml.tasks.lensing.symmetry import square_symmetry

    torch.manual_seed(0)
    base = {"data": {"size": 32, "resize": 0}, "model": {"kind": "resnet", "depth": 3, "channels": 4}}
    task, x, y = Lensing(), torch.rand(12, 1, 32, 32), torch.tensor([0, 1, 2] * 4)
    model = task.model(from_dict(LensingConfig, base)).eval()
    results = {}
    for tta in (False, True):
        cfg = from_dict(LensingConfig, {**base, "model": {**base["model"], "tta": tta}})
        with torch.no_grad():
            results[tta] = [task.evaluate(model, [{"x": square_symmetry(x, g), "y": y}], cfg) for g in (0, 1)]
    plain, averaged = results[False], results[True]
    assert abs(plain[0]["loss"] - plain[1]["loss"]) > 1e-4
    for key in ("loss", "auc_macro", "auc_vortex", "auc_spherical"):
        assert averaged[1][key] == pytest.approx(averaged[0][key], abs=1e-5)


def test_resnet_without_the_stem_pool_keeps_twice_the_resolution_and_the_same_weights():
    """model.stem_pool = false: stage 1 at S/2 (48 for 96 pixels) instead of S/4; the parameters are
    the same, so a trained model's weights load into it (train.init_from)."""
    cfg = {"data": {"size": 96, "resize": 0}, "model": {"kind": "resnet", "channels": 4}}
    pooled = Lensing().model(from_dict(LensingConfig, cfg)).eval()
    fine = Lensing().model(from_dict(LensingConfig, {**cfg, "model": {**cfg["model"], "stem_pool": False}})).eval()
    fine.load_state_dict(pooled.state_dict())
    x = torch.rand(2, 1, 96, 96)
    assert pooled.stem(x).shape[-1] == 24 and fine.stem(x).shape[-1] == 48
    assert fine(x).shape == (2, 3)
