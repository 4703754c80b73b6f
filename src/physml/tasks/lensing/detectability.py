"""How visible is a lens's substructure at all? The chi-square distance between its noiseless image
and the smooth lens that fits it best: the substructure's signal after what the macro model can
absorb (Vegetti & Koopmans 2009, MNRAS 392, 945, judge subhalo detections by this Delta chi^2).

The smooth model is the system's own SIE + shear + Sersic source with the substructure removed; the
fit moves theta_E, the SIE's and the shear's ellipticity components, the source's position and size,
and the amplitude (linear, solved exactly). It starts at the true smooth parameters, so the refit
chi^2 is at most the plain one. Pixels: the central ``crop``, weights 1 / (1 + S / exposure), the
noise variance of :func:`~.lenses.observe` in background sigmas.

An ideal observer that knew the two templates (the lens and its best smooth twin) separates them with
AUC Phi(sqrt(Delta chi^2 / 2)) (two Gaussian-noise templates at distance d = sqrt(Delta chi^2));
averaged over images, that bounds what any classifier can reach on them from above (the smooth lens
itself is not known to a classifier: the true limit is lower)."""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from .lenses import LensParams, render

MARGIN = 8   # pixels rendered around the crop: the PSF (sigma 1.1 px at 0.03"/px) reaches < 5 px
FIT = ("theta_e", "e1", "e2", "g1", "g2", "src_x", "src_y", "src_r")   # the parameters the fit moves


def crop_params(p: LensParams, crop: int) -> LensParams:
    """The parameters that render exactly the central ``crop`` x ``crop`` pixels of ``p``'s images."""
    if not 0 < crop <= p.size or (p.size - crop) % 2:
        raise ValueError(f"crop = {crop}: need 0 < crop <= {p.size} with size - crop even")
    return dataclasses.replace(p, size=crop, fov=crop * p.pixel_scale)


def _smooth(s: dict, th: np.ndarray) -> dict:
    """System ``s`` without substructure, with the FIT parameters th float[8] (ellipticities Cartesian)."""
    from lenstronomy.Util.param_util import ellipticity2phi_q, shear_cartesian2polar
    theta_e, e1, e2, g1, g2, x, y, r = th
    phi, q = ellipticity2phi_q(e1, e2)
    phi_g, g = shear_cartesian2polar(g1, g2)
    return dict(s, theta_e=theta_e, phi=phi, q=q, phi_gamma=phi_g, gamma=g, src_x=x, src_y=y, src_r=abs(r),
                sub_x=np.zeros(0), sub_y=np.zeros(0), sub_m=np.zeros(0))


def _start(s: dict) -> np.ndarray:
    from lenstronomy.Util.param_util import phi_q2_ellipticity, shear_polar2cartesian
    e1, e2 = phi_q2_ellipticity(s["phi"], s["q"])
    g1, g2 = shear_polar2cartesian(s["phi_gamma"], s["gamma"])
    return np.array([s["theta_e"], e1, e2, g1, g2, s["src_x"], s["src_y"], s["src_r"]], float)


def smooth_fit_chi2(s: dict, clean: np.ndarray, p: LensParams, crop: int, exposure: float,
                    maxfev: int = 600) -> tuple[float, float]:
    """(Delta chi^2 against the same lens without substructure, Delta chi^2 against the best-fitting
    smooth lens) of the noiseless image ``clean`` float[size, size] (background sigmas, as
    :func:`~.lenses.observe` scales it) of system ``s``, on the central ``crop`` pixels."""
    lo = (p.size - crop) // 2
    target = np.asarray(clean, float)[lo:lo + crop, lo:lo + crop]
    w = 1.0 / (1.0 + np.clip(target, 0, None) / exposure)
    margin = min(MARGIN, lo)                 # the PSF reaches into the crop from outside
    pc = crop_params(p, crop + 2 * margin)

    def chi2(th: np.ndarray) -> float:
        m = render(_smooth(s, th), pc)[margin:margin + crop, margin:margin + crop]
        a = (w * m * target).sum() / max(float((w * m * m).sum()), 1e-30)
        return float((w * (target - a * m) ** 2).sum())

    th0 = _start(s)
    plain = chi2(th0)
    fit = minimize(chi2, th0, method="Powell", options={"maxfev": maxfev, "xtol": 1e-4, "ftol": 1e-4})
    return plain, min(plain, float(fit.fun))


def ideal_auc(delta_chi2: np.ndarray) -> float:
    """Mean over images of Phi(sqrt(Delta chi^2 / 2)): the AUC of an observer that knows each image's
    two templates (an upper bound for any classifier; 0.5 for invisible substructure)."""
    d = np.asarray(delta_chi2, float)
    if d.size == 0 or (d < 0).any():
        raise ValueError("delta_chi2: need a non-empty array of values >= 0")
    return float(norm.cdf(np.sqrt(d / 2)).mean())
