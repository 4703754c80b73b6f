"""Event classes of the toy detector (:mod:`.detector`), each drawn from its physics:

* ``ibd``: the prompt positron of inverse beta decay, visible 1-8 MeV with a reactor spectrum's shape
  (:func:`prompt_energies`), anywhere in the target;
* ``delayed``: neutron capture on Gd, a gamma cascade of about 8 MeV (a tenth lose some of it,
  visible 6-8 MeV), in the target;
* ``muon``: a cosmic muon crossing from the top, 2 MeV/cm along its path, the PMTs saturating;
* ``flasher``: a PMT discharging: its own charge 300-3,000 p.e. (saturating) and the light it emits crossing to
  the far side (a source just in front of it);
* ``background``: low-energy radioactivity near the walls (0.7 MeV + an exponential of 1 MeV).

Each returns expected p.e. float[n, 8, 24] and (energy MeV, x, y, z m) per event."""

from __future__ import annotations

import numpy as np

from .detector import COLUMNS, RINGS, Detector

CLASSES = ("ibd", "delayed", "muon", "flasher", "background")


def _in_cylinder(n: int, r_lo: float, r_hi: float, z_max: float, rng: np.random.Generator) -> np.ndarray:
    r = np.sqrt(rng.uniform(r_lo**2, r_hi**2, n))
    phi = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(phi), r * np.sin(phi), rng.uniform(-z_max, z_max, n)], 1)


def prompt_energies(n: int, rng: np.random.Generator) -> np.ndarray:
    """Visible prompt energies (MeV) with the shape of a reactor spectrum: 1 MeV (the annihilation
    gammas) + a Gamma(3, 0.9 MeV) positron energy, peaking near 3 MeV, cut at 8 MeV (a sketch of
    flux x cross-section, e.g. Vogel & Beacom, PRD 60, 053003 (1999); An et al., PRL 108, 171803 (2012))."""
    e = 1.0 + rng.gamma(3.0, 0.9, n)
    while (bad := e > 8.0).any():
        e[bad] = 1.0 + rng.gamma(3.0, 0.9, int(bad.sum()))
    return e


def ibd(det: Detector, n: int, rng: np.random.Generator):
    x, e = _in_cylinder(n, 0, det.target_radius, det.target_radius, rng), prompt_energies(n, rng)
    return det.expected(x, e), e, x


def delayed(det: Detector, n: int, rng: np.random.Generator):
    x = _in_cylinder(n, 0, det.target_radius, det.target_radius, rng)
    e = np.where(rng.random(n) < 0.1, rng.uniform(6.0, 8.0, n), rng.normal(8.0, 0.25, n))
    return det.expected(x, e), e, x


def muon(det: Detector, n: int, rng: np.random.Generator, step: float = 0.05):
    """Straight tracks entering through the top at z = H, cos(zenith) uniform in [0.5, 1]."""
    mus, energies, entries = [], [], []
    H, R = det.half_height, det.pmt_radius - 0.05
    for _ in range(n):
        start = np.r_[_in_cylinder(1, 0, R, 0, rng)[0, :2], H]
        c = rng.uniform(0.5, 1.0)
        phi = rng.uniform(0, 2 * np.pi)
        u = np.array([np.sqrt(1 - c * c) * np.cos(phi), np.sqrt(1 - c * c) * np.sin(phi), -c])
        pts = start + np.arange(0, 6.0, step)[:, None] * u
        pts = pts[(np.hypot(pts[:, 0], pts[:, 1]) < R) & (pts[:, 2] > -H)]
        dep = 2.0 * step * 100  # MeV per point: 2 MeV/cm
        mus.append(det.expected(pts, np.full(len(pts), dep)).sum(0))
        energies.append(dep * len(pts))
        entries.append(start)
    return np.array(mus), np.array(energies), np.array(entries)


def flasher(det: Detector, n: int, rng: np.random.Generator):
    pos, _ = det.pmts()
    k = rng.integers(0, RINGS * COLUMNS, n)
    x = pos[k] * np.array([0.93, 0.93, 1.0])
    e = rng.uniform(1.0, 10.0, n)
    mu = det.expected(x, e).reshape(n, -1)
    mu[np.arange(n), k] = rng.uniform(300, 3000, n)
    return mu.reshape(n, RINGS, COLUMNS), e, pos[k]


def background(det: Detector, n: int, rng: np.random.Generator):
    x = _in_cylinder(n, 1.8, 2.05, 1.9, rng)
    e = 0.7 + rng.exponential(1.0, n)
    return det.expected(x, e), e, x


MAKERS = {"ibd": ibd, "delayed": delayed, "muon": muon, "flasher": flasher, "background": background}
