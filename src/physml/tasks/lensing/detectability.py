"""How visible is a lens's substructure at all? The chi-square distance between its noiseless image
and the smooth lens that fits it best: the substructure's signal after what the macro model can
absorb (Vegetti & Koopmans 2009, MNRAS 392, 945, judge subhalo detections by this Delta chi^2).

The smooth model is the system's own SIE + shear + Sersic source with the substructure removed; the
fit moves 11 parameters: theta_E, the SIE's and the shear's ellipticity components, the Sersic
source's position, size, ellipticity and index; and the amplitude (linear, solved exactly). It starts
at the true smooth parameters, so the refit chi^2 is at most the plain one. Pixels: the central
``crop``, weights 1 / (1 + S / exposure), the noise variance of :func:`~.lenses.observe` in background sigmas.

An ideal observer that knew the two templates (the lens and its best smooth twin) separates them with
AUC Phi(sqrt(Delta chi^2 / 2)) (two Gaussian-noise templates at distance d = sqrt(Delta chi^2));
averaged over images, that bounds what any classifier can reach on them from above (the smooth lens
itself is not known to a classifier: the true limit is lower)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from .lenses import LensParams, image_model, lens_kwargs, source_kwargs

MARGIN = 8  # pixels rendered around the crop: the PSF (sigma 1.1 px at 0.03"/px) reaches < 5 px


def crop_params(p: LensParams, crop: int) -> LensParams:
    """The parameters that render exactly the central ``crop`` x ``crop`` pixels of ``p``'s images."""
    if not 0 < crop <= p.size or (p.size - crop) % 2:
        raise ValueError(f"crop = {crop}: need 0 < crop <= {p.size} with size - crop even")
    return dataclasses.replace(p, size=crop, fov=crop * p.pixel_scale)


def _smooth(s: dict, th: np.ndarray) -> dict:
    """System ``s`` without substructure, with the fitted parameters th float[11] (as :func:`_start`;
    ellipticities Cartesian)."""
    from lenstronomy.Util.param_util import ellipticity2phi_q, shear_cartesian2polar

    theta_e, e1, e2, g1, g2, x, y, r, se1, se2, n = th
    phi, q = ellipticity2phi_q(e1, e2)
    phi_g, g = shear_cartesian2polar(g1, g2)
    src_phi, src_q = ellipticity2phi_q(se1, se2)
    return dict(
        s,
        theta_e=theta_e,
        phi=phi,
        q=q,
        phi_gamma=phi_g,
        gamma=g,
        src_x=x,
        src_y=y,
        src_r=abs(r),
        src_phi=src_phi,
        src_q=src_q,
        src_n=float(np.clip(n, 0.3, 8.0)),
        sub_x=np.zeros(0),
        sub_y=np.zeros(0),
        sub_m=np.zeros(0),
    )


def _start(s: dict) -> np.ndarray:
    from lenstronomy.Util.param_util import phi_q2_ellipticity, shear_polar2cartesian

    e1, e2 = phi_q2_ellipticity(s["phi"], s["q"])
    g1, g2 = shear_polar2cartesian(s["phi_gamma"], s["gamma"])
    se1, se2 = phi_q2_ellipticity(s["src_phi"], s["src_q"])
    return np.array([s["theta_e"], e1, e2, g1, g2, s["src_x"], s["src_y"], s["src_r"], se1, se2, s["src_n"]], float)


def smooth_fit_chi2(
    s: dict, clean: np.ndarray, p: LensParams, crop: int, exposure: float, maxfev: int = 1500
) -> tuple[float, float]:
    """(Delta chi^2 against the same lens without substructure, Delta chi^2 against the best-fitting
    smooth lens) of the noiseless image ``clean`` float[size, size] (background sigmas, as
    :func:`~.lenses.observe` scales it) of system ``s``, on the central ``crop`` pixels."""
    lo = (p.size - crop) // 2
    target = np.asarray(clean, float)[lo : lo + crop, lo : lo + crop]
    w = 1.0 / (1.0 + np.clip(target, 0, None) / exposure)
    margin = min(MARGIN, lo)  # the PSF reaches into the crop from outside
    model = image_model(crop_params(p, crop + 2 * margin), ["SIE", "SHEAR"])

    def chi2(th: np.ndarray) -> float:
        smooth = _smooth(s, th)
        m = model.image(kwargs_lens=lens_kwargs(smooth)[1], kwargs_source=source_kwargs(smooth))
        m = np.asarray(m, float)[margin : margin + crop, margin : margin + crop]
        a = (w * m * target).sum() / max(float((w * m * m).sum()), 1e-30)
        return float((w * (target - a * m) ** 2).sum())

    th0 = _start(s)
    plain = chi2(th0)
    if plain <= 1e-12 * float((w * target**2).sum()):  # no substructure: nothing to fit
        return plain, plain
    fit = minimize(chi2, th0, method="Powell", options={"maxfev": maxfev, "xtol": 1e-4, "ftol": 1e-4})
    return plain, min(plain, float(fit.fun))


def ideal_auc(delta_chi2: np.ndarray) -> float:
    """Mean over images of Phi(sqrt(Delta chi^2 / 2)): the AUC of an observer that knows each image's
    two templates (an upper bound for any classifier; 0.5 for invisible substructure)."""
    d = np.asarray(delta_chi2, float)
    if d.size == 0 or (d < 0).any():
        raise ValueError("delta_chi2: need a non-empty array of values >= 0")
    return float(norm.cdf(np.sqrt(d / 2)).mean())


def replayed(uri: str):
    """The :class:`~.source.LensingSource` that wrote the dataset at ``uri`` (from its manifest.json):
    its ``draws(item)`` give the dataset's systems and images again."""
    import fsspec

    from .source import LensingSource

    with fsspec.open(f"{str(uri).rstrip('/')}/manifest.json", "rt") as f:
        params = {k: v for k, v in json.load(f)["params"].items() if k != "model"}
    return LensingSource.from_dict(params)


def visibility(
    uri: str, kind: str, split: int | None = 1, holdout: int = 10, limit: int = 0, crop: int = 96, progress: bool = True
) -> list[dict]:
    """Rows (``id``, ``delta_chi2_plain``, ``delta_chi2`` as :func:`smooth_fit_chi2`, ``offset``: the
    substructure's mean distance from the lens centre in Einstein radii) for the images of class
    ``kind`` of the dataset at ``uri`` in ``split`` (1 = test, as the lensing task splits rows; None:
    all), at most ``limit`` (0: all). The shards do not keep subhalo positions or noiseless images: the
    dataset is replayed from its manifest (the same draws), ~3-10 s per image and core."""
    from tqdm.auto import tqdm

    from physml.tasks.splits import split_of

    from .lenses import CLASSES

    if kind not in CLASSES:
        raise ValueError(f"kind = {kind!r}: choose one of {', '.join(CLASSES)}")
    src = replayed(uri)
    p, rows = src.p.lens, []
    bar = tqdm(desc=f"visibility of {kind}", unit="image", total=limit or None, disable=not progress)
    for item in (i for i in src.items() if i["substructure"] == kind):
        for row_id, s, clean, _ in src.draws(item):
            if split is not None and split_of([row_id], holdout)[0] != split:
                continue
            plain, fit = smooth_fit_chi2(s, clean, p, crop, p.exposure)
            x, y = (float(np.mean(s[k])) if len(s[k]) else 0.0 for k in ("sub_x", "sub_y"))
            rows.append(
                {
                    "id": row_id,
                    "delta_chi2_plain": plain,
                    "delta_chi2": fit,
                    "offset": float(np.hypot(x, y) / s["theta_e"]),
                }
            )
            bar.update()
            if limit and len(rows) >= limit:
                bar.close()
                return rows
    bar.close()
    return rows
