"""Simulated prostate T2-weighted MRI volumes with their gland masks (no PROMISE12 download exists here).

A case is a pelvis in physical coordinates (mm, x = patient left-right, y = anterior(-)/posterior(+),
z = inferior(-)/superior(+)): a textured body of muscle and fat, femoral heads, a bright fluid-filled
bladder above and in front of the gland, a rectum behind it, and the prostate: a pear-shaped ellipsoid
(about 40 x 30 x 35 mm) with a smooth random deformation of its surface, a darker central gland, a
brighter peripheral zone and a thin dark capsule. Intensities are drawn in tissue units (0 = air,
~1 = fluid), then each *site* (scanner/protocol) applies its own in-plane resolution, slice
thickness, intensity scale, contrast curve, Rician noise and, for endorectal-coil sites, a bright
signal halo around the rectum, on top of a smooth multiplicative bias field. Site differences are
the source's reason for a learned normalization (its Fig. 12).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter


@dataclass(frozen=True)
class Site:
    """One scanner/protocol; PROMISE12 mixes four sites with and without endorectal coils."""

    name: str
    spacing: float  # in-plane pixel size, mm
    thickness: float  # slice spacing, mm
    matrix: int  # in-plane pixels
    scale: float  # signal units of tissue intensity 1
    gamma: float  # contrast curve: signal ~ tissue ** gamma
    noise: float  # Rician noise sigma, in units of ``scale``
    coil: float  # endorectal-coil gain at the rectal wall (0 = body coil)


SITES: dict[str, Site] = {
    "A": Site("A", 0.8, 3.6, 192, 400.0, 1.0, 0.04, 0.0),
    "B": Site("B", 1.0, 4.0, 160, 1500.0, 0.8, 0.06, 3.0),
    "C": Site("C", 0.625, 3.0, 256, 90.0, 1.25, 0.05, 0.0),
    "D": Site("D", 0.7, 3.3, 224, 2600.0, 1.1, 0.03, 5.0),
}
Z_EXTENT = 84.0  # mm covered by the slices of every site


def case_rng(seed: int, index: int) -> np.random.Generator:
    """The stream of case ``index`` under root ``seed`` (independent of how cases are spread)."""
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def grid(site: Site) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Broadcastable physical coordinates (z[:, None, None], y[None, :, None], x[None, None, :]), mm."""
    nz = int(round(Z_EXTENT / site.thickness))
    z = (np.arange(nz) - (nz - 1) / 2) * site.thickness
    xy = (np.arange(site.matrix) - (site.matrix - 1) / 2) * site.spacing
    return z[:, None, None], xy[None, :, None], xy[None, None, :]


def smooth_field(rng: np.random.Generator, shape: tuple, site: Site, sigma_mm: float) -> np.ndarray:
    """Gaussian random field of unit standard deviation and correlation length ``sigma_mm``."""
    s = (sigma_mm / site.thickness, sigma_mm / site.spacing, sigma_mm / site.spacing)
    f = gaussian_filter(rng.standard_normal(shape).astype(np.float32), s, mode="wrap")
    return f / (f.std() + 1e-12)


def gland(rng: np.random.Generator, z, y, x) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, normalized radius, posterior flag) of a deformed pear-shaped ellipsoid.

    Semi-axes a, b, c ~ 20, 15, 17 mm (+-15%), centre jittered +-6 mm in-plane and +-8 mm in z; the
    surface radius is 1 + sum_k alpha_k cos(k phi + beta_k) sin^k(theta) + g cos(theta).
    """
    a, b, c = np.array([20.0, 15.0, 17.0]) * rng.uniform(0.85, 1.15, 3)
    cx, cy, cz = rng.uniform(-6, 6), rng.uniform(-6, 6), rng.uniform(-8, 8)
    w = (z - cz) / c
    taper = 1.0 + 0.2 * np.clip(w, -1, 1)  # base (superior) wider than apex
    u, v = (x - cx) / (a * taper), (y - cy) / (b * taper)
    rho = np.sqrt(u * u + v * v + w * w)
    phi = np.arctan2(v, u)
    sin_t = np.sqrt(u * u + v * v) / np.maximum(rho, 1e-6)
    radius = 1.0 + rng.uniform(-0.1, 0.1) * w / np.maximum(rho, 1e-6)
    for k in (1, 2, 3):
        radius = radius + rng.uniform(-0.12, 0.12) * np.cos(k * phi + rng.uniform(0, 2 * np.pi)) * sin_t**k
    r = rho / radius
    return r < 1.0, r, v > 0.15


def tissue(rng: np.random.Generator, site: Site) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tissue intensity float32[nz, n, n], gland mask bool[nz, n, n], rectal-wall distance in mm)."""
    z, y, x = grid(site)
    shape = np.broadcast_shapes(z.shape, y.shape, x.shape)
    ax, ay = rng.uniform(70, 80), rng.uniform(55, 65)
    body = (x / ax) ** 2 + (y / ay) ** 2 < 1.0
    fat = smooth_field(rng, shape, site, 6.0) > 0.9
    t = np.where(fat, 0.8, 0.36).astype(np.float32) * body
    for side in (-1, 1):  # femoral heads: fatty marrow, dark cortex
        d = np.sqrt((x - side * 50) ** 2 + (y - 5) ** 2 + (z + 10) ** 2 * 0.3)
        t = np.where(d < 21, 0.55, np.where(d < 24, 0.05, t))
    fill = rng.uniform(0.6, 1.2)
    bz = (z - 22) / (18 * fill)
    bladder = ((x / (28 * fill)) ** 2 + ((y + 26) / (22 * fill)) ** 2 + bz**2) < 1.0
    t = np.where(bladder, 0.95, t)
    rx, ry = rng.uniform(-3, 3), rng.uniform(24, 30)
    dr = np.sqrt((x - rx) ** 2 + (y - ry) ** 2) * np.ones_like(z)
    t = np.where(dr < 6, 0.1, np.where(dr < 10, 0.25, t))
    mask, r, post = gland(rng, z, y, x)
    inner = np.where(post & (r > 0.55), 0.62, 0.44)  # peripheral zone brighter than central gland
    t = np.where(mask, np.where(r > 0.92, 0.28, inner), t)
    t = t + 0.05 * smooth_field(rng, shape, site, 2.0) * body
    return np.clip(t, 0.0, 1.2), np.broadcast_to(mask, shape).copy(), np.maximum(dr - 10, 0)


def acquire(rng: np.random.Generator, t: np.ndarray, coil_distance: np.ndarray, site: Site) -> np.ndarray:
    """Signal float32 of tissue ``t`` at ``site``: bias field, contrast curve, coil halo, Rician noise."""
    z, y, x = grid(site)
    p = rng.uniform(-1, 1, 5)
    bias = np.exp(0.25 * (p[0] * x / 80 + p[1] * y / 80 + p[2] * z / 40 + p[3] * (x / 80) ** 2 + p[4] * x * y / 6400))
    s = (bias * t) ** site.gamma * (1.0 + site.coil * np.exp(-coil_distance / 12.0))
    sigma = site.noise
    noisy = np.sqrt((s + sigma * rng.standard_normal(s.shape)) ** 2 + (sigma * rng.standard_normal(s.shape)) ** 2)
    return (site.scale * noisy).astype(np.float32)


def phantom(seed: int, index: int, site: str) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float]]:
    """(image float32[nz, n, n], mask uint8[nz, n, n], spacing (x, y, z) in mm) of one case."""
    if site not in SITES:
        raise ValueError(f"site {site!r}: choose one of {', '.join(SITES)}")
    rng = case_rng(seed, index)
    s = SITES[site]
    t, mask, coil_distance = tissue(rng, s)
    return acquire(rng, t, coil_distance, s), mask.astype(np.uint8), (s.spacing, s.spacing, s.thickness)
