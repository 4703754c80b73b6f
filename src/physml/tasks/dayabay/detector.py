"""A toy Daya Bay antineutrino detector written from optics, not noise (An et al., NIM A 811, 133
(2016) for the real one): a cylinder of liquid scintillator seen by 192 PMTs on the barrel, 8 rings x
24 columns (azimuth periodic), reflectors at top and bottom.

Expected photoelectrons at PMT k from an isotropic point source at x (metres) of visible energy E:
mu_k = Y E sum_images rho^n dOmega_k eps(cos theta_k) exp(-d_k / lambda) / norm, with the solid angle
dOmega = A cos theta / d^2 of a PMT of area A facing the axis, an angular acceptance eps(c) = (1 + c) / 2
for c > 0, attenuation length lambda, and the reflectors as mirror sources (images across z = +-H,
reflectivity rho, to second order). ``norm`` makes a source at the centre give Y = 165 p.e./MeV in
total. Observed charge: Poisson photoelectrons, each of gain 1 +- ``spe`` (Gaussian)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

RINGS, COLUMNS = 8, 24


@dataclass(frozen=True)
class Detector:
    pmt_radius: float = 2.19  # m, the PMTs' cylinder
    half_height: float = 2.0  # m, reflectors at z = +-H
    ring_span: float = 1.5  # m, the rings' z from -span to +span
    target_radius: float = 1.55  # m, the Gd-doped target
    pmt_area: float = np.pi * 0.1**2  # m^2 (8-inch PMTs)
    reflectivity: float = 0.95
    attenuation: float = 15.0  # m
    light_yield: float = 165.0  # p.e. per MeV for a source at the centre
    spe: float = 0.3  # single-p.e. charge resolution (relative)
    saturation: float = 1000.0  # p.e. a PMT reads at most (the electronics' range)

    @cached_property
    def _geometry(self) -> tuple[np.ndarray, np.ndarray]:
        return self._pmts()

    def pmts(self) -> tuple[np.ndarray, np.ndarray]:
        """(positions float[192, 3] ring-major, inward unit normals float[192, 3]), computed once."""
        return self._geometry

    def _pmts(self) -> tuple[np.ndarray, np.ndarray]:
        z = np.linspace(-self.ring_span, self.ring_span, RINGS)
        phi = 2 * np.pi * np.arange(COLUMNS) / COLUMNS
        zz, pp = np.meshgrid(z, phi, indexing="ij")
        pos = np.stack([self.pmt_radius * np.cos(pp), self.pmt_radius * np.sin(pp), zz], -1).reshape(-1, 3)
        normal = -np.stack([np.cos(pp), np.sin(pp), np.zeros_like(pp)], -1).reshape(-1, 3)
        return pos, normal

    def _weights(self, x: np.ndarray) -> np.ndarray:
        """Unnormalised light fraction per PMT float[..., 192] of sources x float[..., 3]."""
        pos, normal = self.pmts()
        H, total = self.half_height, 0.0
        images = [(0, 1.0)] + [(k, self.reflectivity ** abs(k)) for k in (-2, -1, 1, 2)]
        for k, weight in images:
            src = np.array(x, float)
            if k:  # mirror across z = +-H, k times: z -> 2kH + (-1)^k z
                src = src.copy()
                src[..., 2] = 2 * k * H + (-1) ** k * src[..., 2]
            v = pos - src[..., None, :]  # source -> PMT
            d = np.linalg.norm(v, axis=-1)
            cos = np.clip(-(v * normal).sum(-1) / d, 0.0, 1.0)  # light arriving against the normal
            total = total + weight * self.pmt_area * cos / d**2 * (1 + cos) / 2 * np.exp(-d / self.attenuation)
        return total

    @cached_property
    def _norm(self) -> float:
        """The light a centred source sends to all PMTs (unnormalised weights)."""
        return float(self._weights(np.zeros(3)).sum())

    def expected(self, x: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """Expected p.e. float[..., 8, 24] of point sources at x float[..., 3] (m) of visible energy (MeV)."""
        mu = self.light_yield * np.asarray(energy)[..., None] * self._weights(x) / self._norm
        return mu.reshape(*mu.shape[:-1], RINGS, COLUMNS)

    def observe(self, mu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Observed charges float32 (p.e.) of expected ``mu``: Poisson photoelectrons, each of gain
        1 +- spe, summed (Gaussian in n), saturating at ``saturation``."""
        n = rng.poisson(mu)
        q = n + self.spe * np.sqrt(n) * rng.standard_normal(n.shape)
        return np.clip(q, 0.0, self.saturation).astype(np.float32)
