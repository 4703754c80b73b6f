"""The family of random trapping potentials and interactions of the GPE dataset.

    V(x) = 1/2 omega^2 |x - x0|^2  +  s sum_i sin^2(k x_i)  +  sum_j a_j exp(-|x - c_j|^2 / (2 w_j^2))

a harmonic trap of random frequency omega and centre x0, an optical lattice of random depth s and
wave number k, and Gaussian disorder: ``bumps`` Gaussians of random sign and strength a_j ~ N(0,
disorder^2), centres c_j within the trap, widths w_j. The interaction g is drawn log-uniformly in
1 + g over [g_min, g_max]. V is shifted so that its minimum is 0 (the zero of energy is arbitrary;
this one makes E >= 0, so that relative energy errors are meaningful). The set spans the weak-
interaction regime (g -> 0: the Gaussian of the trap) and the Thomas-Fermi regime (mu >> omega:
|psi|^2 ~ (mu - V) / g where positive), as the family of Liang et al., Sci. Rep. 8, 16337 (2018)
spans harmonic, lattice and disordered traps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physml.tasks.options import option

from .solver import Grid


@dataclass(frozen=True)
class PotentialFamily:
    omega: tuple[float, float] = option((0.7, 2.0), "trap frequency range (uniform)", metavar=("LOW", "HIGH"))
    centre: float = 1.0  # trap centre: uniform in [-centre, centre] per dimension
    lattice: tuple[float, float] = option((0.0, 4.0), "optical-lattice depth range", metavar=("LOW", "HIGH"))
    wavenumber: tuple[float, float] = (1.0, 3.0)  # lattice wave number k range
    disorder: float = option(1.0, "standard deviation of the disorder bumps' strengths (0 = none)")
    bumps: int = 4  # Gaussian disorder bumps per potential
    bump_width: tuple[float, float] = (0.3, 1.0)  # their widths
    g: tuple[float, float] = option((0.0, 100.0), "interaction range (log-uniform in 1 + g)", metavar=("LOW", "HIGH"))

    def __post_init__(self):
        for name in ("omega", "lattice", "wavenumber", "bump_width", "g"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi or not np.isfinite(hi):
                raise ValueError(f"{name} = {lo} {hi}: need 0 <= low <= high, finite")
        if self.omega[0] <= 0:
            raise ValueError(f"omega = {self.omega[0]} {self.omega[1]}: the trap needs omega > 0")
        if self.disorder < 0 or self.bumps < 0 or self.centre < 0:
            raise ValueError(f"disorder = {self.disorder}, bumps = {self.bumps}: must be >= 0")


def draw(rng: np.random.Generator, family: PotentialFamily, grid: Grid, n: int) -> dict[str, np.ndarray]:
    """``n`` potentials and interactions: {"V": float64[n, *grid.shape], "g", "omega", "lattice",
    "disorder" (the largest |a_j|): float64[n]}."""
    d = grid.dim
    omega = rng.uniform(*family.omega, n)
    x0 = rng.uniform(-family.centre, family.centre, (n, d))
    depth = rng.uniform(*family.lattice, n)
    k = rng.uniform(*family.wavenumber, n)
    amp = rng.normal(0.0, family.disorder, (n, family.bumps)) if family.bumps else np.zeros((n, 0))
    centres = x0[:, None, :] + rng.uniform(-2.0, 2.0, (n, family.bumps, d))
    widths = rng.uniform(*family.bump_width, (n, family.bumps))
    g = np.expm1(rng.uniform(np.log1p(family.g[0]), np.log1p(family.g[1]), n))
    V = np.zeros((n, *grid.shape))
    r2 = sum((c[None] - x0[:, i].reshape((-1,) + (1,) * d)) ** 2 for i, c in enumerate(grid.coords))
    V += 0.5 * omega.reshape((-1,) + (1,) * d) ** 2 * r2
    for c in grid.coords:
        V += depth.reshape((-1,) + (1,) * d) * np.sin(k.reshape((-1,) + (1,) * d) * c[None]) ** 2
    for j in range(family.bumps):
        b2 = sum((c[None] - centres[:, j, i].reshape((-1,) + (1,) * d)) ** 2 for i, c in enumerate(grid.coords))
        w = widths[:, j].reshape((-1,) + (1,) * d)
        V += amp[:, j].reshape((-1,) + (1,) * d) * np.exp(-b2 / (2 * w**2))
    V -= V.min(axis=tuple(range(1, d + 1)), keepdims=True)  # min V = 0: E >= 0, relative errors mean something
    big = np.abs(amp).max(1) if family.bumps else np.zeros(n)
    return {"V": V, "g": g, "omega": omega, "lattice": depth, "disorder": big}
