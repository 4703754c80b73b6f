"""Ground states of the dimensionless Gross-Pitaevskii equation (GPE) on a periodic grid.

    mu psi = [-1/2 nabla^2 + V(x) + g |psi|^2] psi,    int |psi|^2 d^d x = 1,

in d = 1 or 2 dimensions on the box [-L/2, L/2)^d with n points per side (lengths in units of the
oscillator length, energies in units of hbar omega_ref). The ground state is found by imaginary-time
propagation, psi <- exp(-H dtau) psi renormalised after each step (the normalised gradient flow of
Bao & Du, SIAM J. Sci. Comput. 25, 1674 (2004)), with Strang splitting: half a potential step
exp(-dtau (V + g psi^2) / 2), a kinetic step exp(-dtau k^2 / 2) in Fourier space, half a potential
step, both with the density of the (normalised) state the step starts from, so that the step is the
symmetric splitting of a linear operator whose fixed point solves the GPE. The splitting leaves an
O(dtau^2) error in the converged state, so the time step is lowered in
stages (``dtaus``); a stage ends when the energy changes by less than ``tol`` per unit of imaginary
time. The ground state is real and positive: psi is kept real (real FFTs, float64).

All functions work on batches: psi and V of shape (B, n) in 1D, (B, n, n) in 2D; g of shape (B,).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import fft


@dataclass(frozen=True)
class Grid:
    """A periodic grid: ``dim`` = 1 or 2 dimensions, ``n`` points per side, box side ``box``."""

    dim: int = 1
    n: int = 128
    box: float = 20.0

    def __post_init__(self):
        if self.dim not in (1, 2):
            raise ValueError(f"dim = {self.dim}: 1 or 2")
        if self.n < 8 or self.n % 2:
            raise ValueError(f"n = {self.n}: an even number of points >= 8")
        if not self.box > 0:
            raise ValueError(f"box = {self.box}: must be > 0")

    @property
    def dx(self) -> float:
        return self.box / self.n

    @property
    def dv(self) -> float:
        """Volume element dx^d."""
        return self.dx**self.dim

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n,) * self.dim

    @cached_property
    def coords(self) -> list[np.ndarray]:
        """Coordinates x_i, each broadcastable to ``shape``."""
        x = -self.box / 2 + self.dx * np.arange(self.n)
        return [x] if self.dim == 1 else [x[:, None], x[None, :]]

    @cached_property
    def k2(self) -> np.ndarray:
        """|k|^2 on the real-FFT grid (last axis halved)."""
        k = 2 * np.pi * fft.fftfreq(self.n, self.dx)
        kr = 2 * np.pi * fft.rfftfreq(self.n, self.dx)
        return kr**2 if self.dim == 1 else k[:, None] ** 2 + kr[None, :] ** 2

    def axes(self) -> tuple[int, ...]:
        return tuple(range(-self.dim, 0))


def normalise(psi: np.ndarray, grid: Grid) -> np.ndarray:
    """psi scaled so that sum |psi|^2 dx^d = 1 for each sample."""
    norm = np.sqrt(np.sum(psi**2, axis=grid.axes(), keepdims=True) * grid.dv)
    return psi / norm


def laplacian(psi: np.ndarray, grid: Grid) -> np.ndarray:
    """nabla^2 psi, spectrally."""
    ax = grid.axes()
    return fft.irfftn(-grid.k2 * fft.rfftn(psi, axes=ax), s=grid.shape, axes=ax)


def energies(psi: np.ndarray, V: np.ndarray, g: np.ndarray, grid: Grid) -> dict[str, np.ndarray]:
    """Per sample: kinetic, potential and interaction energies, E = their sum (the GPE functional
    E[psi] = int 1/2 |grad psi|^2 + V psi^2 + g/2 psi^4), mu = E_kin + E_pot + 2 E_int, and the
    residual ||H psi - mu psi||_2 (psi normalised first)."""
    psi = normalise(psi, grid)
    ax, dv = grid.axes(), grid.dv
    gb = np.reshape(g, (-1,) + (1,) * grid.dim)
    lap = laplacian(psi, grid)
    kin = -0.5 * np.sum(psi * lap, axis=ax) * dv
    pot = np.sum(V * psi**2, axis=ax) * dv
    inter = 0.5 * np.asarray(g) * np.sum(psi**4, axis=ax) * dv
    mu = kin + pot + 2 * inter
    h_psi = -0.5 * lap + V * psi + gb * psi**3
    mub = np.reshape(mu, (-1,) + (1,) * grid.dim)
    res = np.sqrt(np.sum((h_psi - mub * psi) ** 2, axis=ax) * dv)
    return {"kin": kin, "pot": pot, "int": inter, "E": kin + pot + inter, "mu": mu, "residual": res}


def initial_guess(V: np.ndarray, grid: Grid) -> np.ndarray:
    """A positive start: exp(-(V - min V) / 2), normalised (the ground state of a harmonic trap at g = 0
    is exp(-omega x^2 / 2), which this is when V = omega^2 x^2 / 2 and omega = 1)."""
    vmin = np.min(V, axis=grid.axes(), keepdims=True)
    return normalise(np.exp(-np.minimum(V - vmin, 60.0) / 2), grid)


def ground_states(
    V: np.ndarray,
    g: np.ndarray,
    grid: Grid,
    dtaus: tuple[float, ...] = (0.02, 0.005),
    tol: float = 1e-10,
    check: int = 50,
    max_steps: int = 40000,
    psi: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Ground states of a batch: (psi float64[B, *shape] normalised, {"steps": int[B], "converged":
    bool[B]} + :func:`energies`). Each stage runs until every sample's |dE/dtau| < ``tol`` (checked
    every ``check`` steps) or ``max_steps``; samples that converged stop being propagated."""
    V = np.asarray(V, np.float64)
    g = np.asarray(g, np.float64)
    gb = g.reshape((-1,) + (1,) * grid.dim)
    psi = initial_guess(V, grid) if psi is None else normalise(np.asarray(psi, np.float64), grid)
    steps = np.zeros(len(V), np.int64)
    converged = np.ones(len(V), bool)
    ax = grid.axes()
    for dtau in dtaus:
        kin = np.exp(-0.5 * dtau * grid.k2)
        active = np.arange(len(V))
        e_old = energies(psi, V, g, grid)["E"]
        for _ in range(0, max_steps, check):
            p, v, gg = psi[active], V[active], gb[active]
            for _ in range(check):
                half = np.exp(-0.5 * dtau * (v + gg * p**2))  # the step's density, frozen: symmetric
                p = half * fft.irfftn(kin * fft.rfftn(half * p, axes=ax), s=grid.shape, axes=ax)
                p = normalise(p, grid)
            psi[active] = p
            steps[active] += check
            e_new = energies(p, v, g[active], grid)["E"]
            done = np.abs(e_new - e_old[active]) < tol * check * dtau
            e_old[active] = e_new
            active = active[~done]
            if not len(active):
                break
        converged[active] = False
    return psi, {"steps": steps, "converged": converged, **energies(psi, V, g, grid)}
