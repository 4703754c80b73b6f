"""A simple calorimeter: final-state particles deposit their energy in towers of a regular (eta, phi)
grid; each tower's energy is smeared with the resolution sigma_E / E = a / sqrt(E) (+) b (stochastic
and constant terms added in quadrature, E in GeV) and kept above a threshold. Towers are massless
4-vectors at the tower centre, as in ATLAS/CMS calorimeter jets (e.g. de Oliveira et al. 2016,
"Jet-images - deep learning edition", arXiv 1511.05190: 0.1 x 0.1 towers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physml.tasks.options import option


@dataclass(frozen=True)
class Calorimeter:
    cell: float = option(0.04, "calorimeter tower size in eta and (about) phi, radians")
    eta_max: float = 2.5  # acceptance |eta| < eta_max
    stochastic: float = option(
        0.5,
        "calorimeter sigma_E/E = A/sqrt(E/GeV) (+) B (hadronic: A 0.5 - 1.0)",
        flag="--resolution",
        pair="constant",
        metavar=("A", "B"),
    )
    constant: float = 0.03  # b
    threshold: float = option(0.5, "tower energy threshold, GeV (towers below are dropped)")

    def __post_init__(self):
        if not 0 < self.cell <= 1:
            raise ValueError(f"cell = {self.cell}: must be in (0, 1] radians")
        if not self.eta_max > 0:
            raise ValueError(f"eta_max = {self.eta_max}: must be > 0")
        if self.stochastic < 0 or self.constant < 0 or self.threshold < 0:
            raise ValueError(
                f"stochastic = {self.stochastic}, constant = {self.constant}, threshold = "
                f"{self.threshold}: must be >= 0"
            )

    @property
    def n_eta(self) -> int:
        return int(np.ceil(2 * self.eta_max / self.cell))

    @property
    def n_phi(self) -> int:
        return int(round(2 * np.pi / self.cell))

    def resolution(self, energy: np.ndarray) -> np.ndarray:
        """sigma_E / E for tower energies E (GeV)."""
        e = np.maximum(energy, 1e-9)
        return np.sqrt(self.stochastic**2 / e + self.constant**2)


def eta_phi(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT, pseudorapidity and azimuth (-pi, pi] of 4-vectors float[..., 4] = (px, py, pz, E)."""
    pt = np.hypot(p4[..., 0], p4[..., 1])
    eta = np.arcsinh(p4[..., 2] / np.maximum(pt, 1e-12))
    return pt, eta, np.arctan2(p4[..., 1], p4[..., 0])


def deposit(p4: np.ndarray, calo: Calorimeter, rng: np.random.Generator | None) -> np.ndarray:
    """Towers float[m, 4] (px, py, pz, E; massless, at tower centres) from particles float[n, 4] in
    GeV. ``rng = None`` turns smearing off (an ideal calorimeter of the same granularity)."""
    pt, eta, phi = eta_phi(p4)
    keep = (np.abs(eta) < calo.eta_max) & (pt > 0)
    ie = np.minimum(((eta[keep] + calo.eta_max) / calo.cell).astype(np.int64), calo.n_eta - 1)
    dphi = 2 * np.pi / calo.n_phi
    ip = np.floor((phi[keep] + np.pi) / dphi).astype(np.int64) % calo.n_phi
    flat = ie * calo.n_phi + ip
    cells, inverse = np.unique(flat, return_inverse=True)
    energy = np.bincount(inverse, weights=p4[keep, 3], minlength=len(cells))
    if rng is not None:
        energy = energy * (1 + calo.resolution(energy) * rng.standard_normal(len(energy)))
    on = energy > calo.threshold
    cells, energy = cells[on], energy[on]
    eta_c = -calo.eta_max + (cells // calo.n_phi + 0.5) * calo.cell
    phi_c = -np.pi + (cells % calo.n_phi + 0.5) * dphi
    pt_c = energy / np.cosh(eta_c)
    return np.stack([pt_c * np.cos(phi_c), pt_c * np.sin(phi_c), pt_c * np.sinh(eta_c), energy], 1)
