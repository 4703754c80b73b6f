"""Strong-lensing images with and without dark-matter substructure, ray-traced by lenstronomy
(Birrer & Amara 2018, Phys. Dark Univ. 22, 189), after DeepLense (Alexander et al. 2020, ApJ 893, 15;
Alexander et al. 2020, arXiv 2008.12731).

The main lens is a singular isothermal ellipsoid (SIE) whose Einstein radius follows from its velocity
dispersion, theta_E = 4 pi (sigma_v / c)^2 D_ls / D_s, plus external shear; the source is an elliptical
Sersic profile near the optical axis, so the images are arcs and rings. Substructure classes:

- ``none``: the smooth lens only;
- ``spherical`` (CDM subhalos): N ~ Poisson(n_sub) point masses, masses from dN/dm ~ m^slope in
  [m_min, m_max] (M_sun), uniform within ``sub_radius`` Einstein radii of the centre;
- ``vortex`` (a vortex of condensate / superfluid dark matter): a straight line of uniform mass density,
  length uniform in ``vortex_length`` (arcsec), random orientation, centre within one Einstein radius,
  mass a fraction ``vortex_fraction`` of the main lens's mass inside its Einstein radius; drawn as
  ``vortex_points`` point masses along the line (spacing below the PSF).

A point mass M has theta_E^2 = (4 G M / c^2) D_ls / (D_l D_s) = M / (pi Sigma_crit D_l^2). Noise: the
image is scaled so that its brightest noiseless pixel is ``snr`` background sigmas (Model A: SNR 20;
Model B: uniform 10-30), then Poisson noise of the source at ``exposure`` counts per unit flux plus
Gaussian background noise of sigma 1. Distances: flat LambdaCDM, H0 = 70, Omega_m = 0.3. Lengths in
arcsec, masses in M_sun.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from physml.tasks.options import option

CLASSES = ("none", "vortex", "spherical")  # label 0, 1, 2
SCORES = ("mse", "chi2", "local")  #: anomaly scores of the reconstruction models (evaluation.py)
C_KMS = 299792.458


@dataclass(frozen=True)
class LensParams:
    model: str = option(
        "A",
        "the source's Model A (fixed redshifts, SNR 20) or Model B (both vary)",
        flag="--lens-model",
        choices=("A", "B"),
    )
    size: int = option(150, "pixels per side")
    fov: float = option(4.5, 'field of view, arcsec (0.03"/px at 150 pixels)')
    psf_fwhm: float = 0.08  # Gaussian PSF, arcsec
    sigma_v: float = 260.0  # main lens velocity dispersion, km/s (mean) ...
    sigma_v_sd: float = 15.0  # ... and spread
    z_lens: float = 0.5  # Model A's redshifts (Model B draws them from the ranges)
    z_source: float = 1.0
    z_lens_range: tuple[float, float] = (0.3, 0.7)
    z_source_range: tuple[float, float] = (1.0, 2.0)
    snr_range: tuple[float, float] = (10.0, 30.0)  # Model B; Model A uses 20
    exposure: float = 25.0  # counts per unit flux (source Poisson noise)
    n_sub: float = option(25.0, "mean number of CDM subhalos (Poisson)")
    m_min: float = option(
        1e8, "CDM subhalo masses, M_sun, dN/dm ~ m^-1.9", flag="--subhalo-mass", pair="m_max", metavar=("LOW", "HIGH")
    )
    m_max: float = 1e10
    slope: float = -1.9  # dN/dm ~ m^slope
    sub_radius: float = 1.5  # subhalos within this many Einstein radii
    vortex_fraction: tuple[float, float] = option(
        (0.01, 0.03), "vortex mass / lens mass inside theta_E", metavar=("LOW", "HIGH")
    )
    vortex_length: tuple[float, float] = (0.5, 2.0)
    vortex_points: int = 40

    def __post_init__(self):
        if self.model not in ("A", "B"):
            raise ValueError(f"model = {self.model!r}: choose A (fixed redshifts, SNR 20) or B (varying)")
        if not 16 <= self.size <= 2048:
            raise ValueError(f"size = {self.size}: must be 16..2048 pixels")
        for name in ("fov", "psf_fwhm", "exposure"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} = {getattr(self, name)}: must be > 0")
        lo, hi = self.snr_range
        if not 0 < lo <= hi:
            raise ValueError(f"snr_range = {self.snr_range}: need 0 < low <= high")
        if not 0 < self.m_min < self.m_max:
            raise ValueError(f"subhalo_mass = {self.m_min:g} {self.m_max:g}: need 0 < low < high (Msun)")
        if not 0 <= self.vortex_fraction[0] <= self.vortex_fraction[1] < 1:
            raise ValueError(
                f"vortex_fraction = {self.vortex_fraction[0]:g} {self.vortex_fraction[1]:g}: need 0 <= low <= high < 1"
            )
        if self.z_source <= self.z_lens or self.z_source_range[0] <= self.z_lens_range[1]:
            raise ValueError("the source must lie behind the lens: z_source > z_lens for every draw")

    @property
    def pixel_scale(self) -> float:
        """arcsec per pixel."""
        return self.fov / self.size

    def snr_bounds(self) -> tuple[float, float]:
        return (20.0, 20.0) if self.model == "A" else self.snr_range


def psf_sigma_pixels(size: int, p: LensParams | None = None) -> float:
    """The Gaussian PSF's sigma in pixels of an image of ``size`` pixels over the field of view
    (defaults: 0.08" FWHM at 0.03"/px: 1.13 px)."""
    p = p or LensParams()
    return p.psf_fwhm / (2 * np.sqrt(2 * np.log(2))) / (p.fov / size)


@lru_cache(maxsize=256)
def _cosmo(z_lens: float, z_source: float):
    from astropy.cosmology import FlatLambdaCDM
    from lenstronomy.Cosmo.lens_cosmo import LensCosmo

    return LensCosmo(z_lens, z_source, cosmo=FlatLambdaCDM(H0=70, Om0=0.3))


def point_mass_theta_e(mass, z_lens: float, z_source: float) -> np.ndarray:
    """Einstein radius (arcsec) of point masses (M_sun): sqrt(M / (pi Sigma_crit)), Sigma_crit in
    M_sun / arcsec^2."""
    return np.sqrt(np.asarray(mass, float) / (np.pi * _cosmo(z_lens, z_source).sigma_crit_angle))


def sie_theta_e(sigma_v: float, z_lens: float, z_source: float) -> float:
    """SIS Einstein radius (arcsec) of velocity dispersion sigma_v (km/s): 4 pi (sigma_v/c)^2 D_ls/D_s."""
    return float(_cosmo(z_lens, z_source).sis_sigma_v2theta_E(sigma_v))


def mass_in_theta_e(theta_e: float, z_lens: float, z_source: float) -> float:
    """Projected mass (M_sun) inside the Einstein radius: pi theta_E^2 Sigma_crit."""
    return float(np.pi * theta_e**2 * _cosmo(z_lens, z_source).sigma_crit_angle)


def power_law_masses(rng: np.random.Generator, n: int, lo: float, hi: float, slope: float) -> np.ndarray:
    """n masses from dN/dm ~ m^slope on [lo, hi] by inverting the CDF (slope != -1)."""
    a = slope + 1.0
    u = rng.uniform(size=n)
    return (lo**a + u * (hi**a - lo**a)) ** (1.0 / a)


def draw_system(rng: np.random.Generator, p: LensParams, kind: str) -> dict:
    """The physical parameters of one lens system of class ``kind`` (see the module docstring)."""
    if kind not in CLASSES:
        raise ValueError(f"substructure {kind!r}: choose one of {', '.join(CLASSES)}")
    zl, zs = (
        (p.z_lens, p.z_source) if p.model == "A" else (rng.uniform(*p.z_lens_range), rng.uniform(*p.z_source_range))
    )
    sigma_v = max(150.0, rng.normal(p.sigma_v, p.sigma_v_sd))
    theta_e = sie_theta_e(sigma_v, zl, zs)
    q, phi = rng.uniform(0.7, 1.0), rng.uniform(0, np.pi)
    gamma, phi_g = rng.uniform(0.0, 0.05), rng.uniform(0, np.pi)
    s = {
        "kind": kind,
        "z_lens": zl,
        "z_source": zs,
        "sigma_v": sigma_v,
        "theta_e": theta_e,
        "q": q,
        "phi": phi,
        "gamma": gamma,
        "phi_gamma": phi_g,
        "snr": rng.uniform(*p.snr_bounds()),
        "src_r": rng.uniform(0.1, 0.35),
        "src_n": rng.uniform(0.8, 2.5),
        "src_q": rng.uniform(0.6, 1.0),
        "src_phi": rng.uniform(0, np.pi),
        "src_x": rng.normal(0, 0.1),
        "src_y": rng.normal(0, 0.1),
        "sub_x": np.zeros(0),
        "sub_y": np.zeros(0),
        "sub_m": np.zeros(0),
        "vortex_mass": 0.0,
        "vortex_length": 0.0,
    }
    if kind == "spherical":
        n = rng.poisson(p.n_sub)
        r, a = p.sub_radius * theta_e * np.sqrt(rng.uniform(size=n)), rng.uniform(0, 2 * np.pi, n)
        s.update(sub_x=r * np.cos(a), sub_y=r * np.sin(a), sub_m=power_law_masses(rng, n, p.m_min, p.m_max, p.slope))
    elif kind == "vortex":
        mass = rng.uniform(*p.vortex_fraction) * mass_in_theta_e(theta_e, zl, zs)
        length, angle = rng.uniform(*p.vortex_length), rng.uniform(0, np.pi)
        r, a = theta_e * np.sqrt(rng.uniform()), rng.uniform(0, 2 * np.pi)
        t = np.linspace(-0.5, 0.5, p.vortex_points) * length
        s.update(
            sub_x=r * np.cos(a) + t * np.cos(angle),
            sub_y=r * np.sin(a) + t * np.sin(angle),
            sub_m=np.full(p.vortex_points, mass / p.vortex_points),
            vortex_mass=mass,
            vortex_length=length,
        )
    return s


def lens_kwargs(s: dict) -> tuple[list[str], list[dict]]:
    """(lenstronomy lens model names, their kwargs) of system ``s``: SIE + SHEAR + one POINT_MASS per
    subhalo."""
    from lenstronomy.Util.param_util import phi_q2_ellipticity, shear_polar2cartesian

    e1, e2 = phi_q2_ellipticity(s["phi"], s["q"])
    g1, g2 = shear_polar2cartesian(s["phi_gamma"], s["gamma"])
    kwargs = [
        {"theta_E": s["theta_e"], "e1": e1, "e2": e2, "center_x": 0.0, "center_y": 0.0},
        {"gamma1": g1, "gamma2": g2, "ra_0": 0.0, "dec_0": 0.0},
    ]
    te = point_mass_theta_e(s["sub_m"], s["z_lens"], s["z_source"])
    kwargs += [
        {"theta_E": float(t), "center_x": float(x), "center_y": float(y)} for t, x, y in zip(te, s["sub_x"], s["sub_y"])
    ]
    return ["SIE", "SHEAR"] + ["POINT_MASS"] * len(te), kwargs


def lens_model(s: dict):
    """(lenstronomy LensModel, its kwargs list) of system ``s`` (see :func:`lens_kwargs`)."""
    from lenstronomy.LensModel.lens_model import LensModel

    names, kwargs = lens_kwargs(s)
    return LensModel(names), kwargs


def source_kwargs(s: dict) -> list[dict]:
    """lenstronomy kwargs of the SERSIC_ELLIPSE source of system ``s`` (unit amplitude)."""
    from lenstronomy.Util.param_util import phi_q2_ellipticity

    e1, e2 = phi_q2_ellipticity(s["src_phi"], s["src_q"])
    return [
        {
            "amp": 1.0,
            "R_sersic": s["src_r"],
            "n_sersic": s["src_n"],
            "e1": e1,
            "e2": e2,
            "center_x": s["src_x"],
            "center_y": s["src_y"],
        }
    ]


def image_model(p: LensParams, names: list[str]):
    """A lenstronomy ImageModel of ``p``'s pixel grid and PSF for lens models ``names`` and a Sersic
    source; ``.image(kwargs_lens=..., kwargs_source=...)`` renders float[size, size]."""
    from lenstronomy.Data.imaging_data import ImageData
    from lenstronomy.Data.psf import PSF
    from lenstronomy.ImSim.image_model import ImageModel
    from lenstronomy.LensModel.lens_model import LensModel
    from lenstronomy.LightModel.light_model import LightModel

    half = (p.size - 1) / 2 * p.pixel_scale
    data = ImageData(
        image_data=np.zeros((p.size, p.size)),
        ra_at_xy_0=-half,
        dec_at_xy_0=-half,
        transform_pix2angle=np.eye(2) * p.pixel_scale,
    )
    psf = PSF(psf_type="GAUSSIAN", fwhm=p.psf_fwhm, pixel_size=p.pixel_scale, truncation=4)
    return ImageModel(
        data,
        psf,
        lens_model_class=LensModel(names),
        source_model_class=LightModel(["SERSIC_ELLIPSE"]),
        kwargs_numerics={"supersampling_factor": 1},
    )


def coordinates(p: LensParams) -> np.ndarray:
    """float[size] pixel-centre coordinates along one axis, arcsec, centred on the lens."""
    return (np.arange(p.size) - (p.size - 1) / 2) * p.pixel_scale


def render(s: dict, p: LensParams) -> np.ndarray:
    """float64[size, size] noiseless image (row = y, column = x), PSF-convolved, before SNR scaling."""
    names, kw_lens = lens_kwargs(s)
    return np.asarray(image_model(p, names).image(kwargs_lens=kw_lens, kwargs_source=source_kwargs(s)), float)


def observe(clean: np.ndarray, s: dict, p: LensParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(noiseless, noisy) float32[size, size] in background sigmas: the peak scaled to ``s["snr"]``,
    source Poisson noise at ``p.exposure`` counts per unit, Gaussian background of sigma 1."""
    scaled = clean * (s["snr"] / max(float(clean.max()), 1e-30))
    noisy = rng.poisson(np.clip(scaled, 0, None) * p.exposure) / p.exposure + rng.standard_normal(scaled.shape)
    return scaled.astype(np.float32), noisy.astype(np.float32)


def draw_image(rng: np.random.Generator, p: LensParams, kind: str) -> tuple[dict, np.ndarray, np.ndarray]:
    """(system, noiseless, noisy) of one lens of class ``kind``."""
    s = draw_system(rng, p, kind)
    clean, noisy = observe(render(s, p), s, p, rng)
    return s, clean, noisy
