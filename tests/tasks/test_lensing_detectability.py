"""The substructure's Delta chi^2 after the smooth lens is refit (physml.tasks.lensing.detectability)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from physml.tasks.lensing import lenses
from physml.tasks.lensing.detectability import (
    crop_params,
    ideal_auc,
    replayed,
    smooth_fit_chi2,
    visibility,
)
from physml.tasks.lensing.lenses import LensParams, draw_system, render
from physml.tasks.lensing.source import LensingParams, LensingSource

P = LensParams()


def _round_lens_with_mass_at(x: float | None) -> tuple[dict, np.ndarray]:
    """An SIS without shear, a small round source on the axis (an Einstein ring), and a point mass of
    3% of the lens mass inside theta_E at (x, 0) (None: no point mass); image at peak SNR 20."""
    s = draw_system(np.random.default_rng(7), P, "none")
    s = {**s, "q": 0.999, "gamma": 0.0, "src_x": 0.0, "src_y": 0.0, "src_q": 1.0, "src_r": 0.1}
    if x is not None:
        m = 0.03 * lenses.mass_in_theta_e(s["theta_e"], s["z_lens"], s["z_source"])
        s = {**s, "sub_x": np.array([x]), "sub_y": np.array([0.0]), "sub_m": np.array([m])}
    img = render(s, P)
    return s, img * 20 / img.max()


def test_a_smooth_lens_fits_itself_exactly():
    s, img = _round_lens_with_mass_at(None)
    plain, fit = smooth_fit_chi2(s, img, P, 64, P.exposure)
    assert plain < 1e-12 * (img**2).sum() and fit <= plain


def test_a_central_mass_is_absorbed_by_theta_e_and_one_on_the_ring_is_not():
    """A point mass at the centre of a round lens only moves the ring: theta_E' solves
    theta^2 - theta_E theta - theta_p^2 = 0 and a larger SIS makes the same ring, so the refit
    absorbs it (to < 1%). The same mass on the ring splits it locally: no smooth lens makes that
    (more than a quarter stays). Both are thousands of chi^2 units before the refit."""
    s, img = _round_lens_with_mass_at(0.0)
    plain, fit = smooth_fit_chi2(s, img, P, 64, P.exposure)
    assert plain > 1000 and fit < 0.01 * plain
    s, img = _round_lens_with_mass_at(s["theta_e"])
    plain, fit = smooth_fit_chi2(s, img, P, 64, P.exposure)
    assert plain > 1000 and fit > 0.25 * plain


def test_ideal_auc_matches_the_likelihood_ratio_test_of_two_noisy_templates():
    """Two templates at chi^2 distance d^2 in unit Gaussian noise: the likelihood-ratio statistic's
    AUC over 20,000 draws each agrees with Phi(d / sqrt 2) within 4 standard errors."""
    rng = np.random.default_rng(0)
    n = 20000
    for d2 in (0.5, 2.0, 8.0):
        a, b = np.zeros(16), np.full(16, np.sqrt(d2 / 16))
        xa, xb = a + rng.standard_normal((n, 16)), b + rng.standard_normal((n, 16))
        t = np.r_[xa @ (b - a), xb @ (b - a)]
        auc = roc_auc_score(np.r_[np.zeros(n), np.ones(n)], t)
        want = ideal_auc(np.array([d2]))
        se = np.sqrt(want * (1 - want) / n)  # above the Hanley-McNeil standard error here
        assert abs(auc - want) < 4 * se + 1e-3
    assert ideal_auc(np.zeros(3)) == 0.5 and ideal_auc(np.array([400.0])) > 0.9999


def test_bad_crops_and_chi2_are_clear_errors():
    with pytest.raises(ValueError, match="crop = 63"):
        crop_params(P, 63)
    with pytest.raises(ValueError, match="crop = 200"):
        crop_params(P, 200)
    with pytest.raises(ValueError, match="delta_chi2"):
        ideal_auc(np.array([-1.0]))


def _tiny_dataset(uri: str) -> LensingSource:
    """Three 64 x 64 images per class with heavy substructure, written as the simulator lays them out."""
    import fsspec
    import pyarrow.parquet as pq

    src = LensingSource(LensingParams(n=3, seed=4, lens=LensParams(size=64, m_min=1e9, vortex_fraction=(0.03, 0.06))))
    fs, root = fsspec.core.url_to_fs(uri)
    for item in src.items():
        fs.makedirs(f"{root}/{item['substructure']}", exist_ok=True)
        with fs.open(f"{root}/{item['path']}", "wb") as f:
            pq.write_table(src.make(item), f)
    with fs.open(f"{root}/manifest.json", "w") as f:
        json.dump({"params": src.manifest_params()}, f)
    return src


def test_a_dataset_replayed_from_its_manifest_gives_its_images_and_their_visibility():
    import fsspec
    import pyarrow.parquet as pq

    uri = "memory://detectability/tiny"
    written = _tiny_dataset(uri)
    again = replayed(uri)
    assert again.p == written.p
    for item in again.items():
        with fsspec.open(f"{uri}/{item['path']}", "rb") as f:
            stored = pq.read_table(f)
        draws = list(again.draws(item))
        assert [r[0] for r in draws] == stored.column("id").to_pylist()
        np.testing.assert_array_equal(
            np.stack([r[3].ravel() for r in draws]), np.stack(stored.column("image").to_numpy(zero_copy_only=False))
        )
    none = visibility(uri, "none", split=None, crop=48, progress=False)
    assert len(none) == 3 and all(r["delta_chi2"] < 1e-9 for r in none)
    vortex = visibility(uri, "vortex", split=None, crop=48, limit=2)
    assert [r["id"] for r in vortex] == ["vortex-4-000000", "vortex-4-000001"]
    assert all(0 < r["delta_chi2"] <= r["delta_chi2_plain"] and r["offset"] <= 1 + 1e-9 for r in vortex)
    with pytest.raises(ValueError, match="kind = 'cdm'"):
        visibility(uri, "cdm")
