"""`physml simulate gpe`: ground states of the GPE for random potentials (:mod:`.potentials`), solved
by imaginary-time split-step Fourier propagation (:mod:`.solver`), ``CHUNK`` states per item.

Rows: ``id``, ``g``, ``omega``, ``lattice``, ``disorder``, ``V`` and ``psi`` (float32 lists of
n^dim values, row-major; shape in the schema metadata), ``mu``, ``E``, ``e_kin``, ``e_pot``,
``e_int``, ``residual`` (||H psi - mu psi||_2), ``steps`` and ``converged`` (every stage of the
solver met its energy criterion within its step limit; the residual says how well the state solves
the GPE).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource

from .potentials import PotentialFamily, draw
from .solver import Grid, ground_states

CHUNK = 256  #: ground states per shard
FLOATS = ("g", "omega", "lattice", "disorder", "mu", "E", "e_kin", "e_pot", "e_int", "residual")


@dataclass(frozen=True)
class GPEParams:
    n: int = option(4000, "ground states")
    dim: int = option(1, "dimensions: 1 or 2")
    points: int = option(128, "grid points per side (even)")
    box: float = option(20.0, "box side, oscillator lengths (periodic)")
    seed: int = option(0, "root seed")
    tol: float = 1e-10  # a stage of the solver ends when |dE/dtau| < tol
    dtaus: tuple[float, ...] = (0.02, 0.005)  # imaginary time steps, in turn
    family: PotentialFamily = field(default_factory=PotentialFamily)

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n = {self.n}: must be >= 1")
        if self.dim not in (1, 2):
            raise ValueError(f"dim = {self.dim}: 1 or 2")
        if self.points < 8 or self.points % 2 or self.points > (4096 if self.dim == 1 else 256):
            raise ValueError(f"points = {self.points}: an even number, 8..4096 in 1D, 8..256 in 2D")
        if not 0 < self.box < 1e4:
            raise ValueError(f"box = {self.box}: must be in (0, 1e4) oscillator lengths")
        if self.seed < 0:
            raise ValueError(f"seed = {self.seed}: must be >= 0")
        if not self.dtaus or any(not 0 < t <= 0.1 for t in self.dtaus):
            raise ValueError(f"dtaus = {list(self.dtaus)}: time steps in (0, 0.1]")

    @property
    def grid(self) -> Grid:
        return Grid(self.dim, self.points, self.box)


def schema(grid: Grid) -> pa.Schema:
    size = grid.n**grid.dim
    fields = [("id", pa.string())] + [(f, pa.float64()) for f in FLOATS]
    fields += [("steps", pa.int64()), ("converged", pa.bool_())]
    fields += [("V", pa.list_(pa.float32(), size)), ("psi", pa.list_(pa.float32(), size))]
    meta = {"grid_shape": json.dumps(list(grid.shape)), "box": json.dumps(grid.box)}
    return pa.schema(fields, metadata=meta)


class GPESource(ItemSource):
    """Items = chunks of ``CHUNK`` ground states, each chunk from (seed, chunk) alone."""

    kind = "gpe"
    params_type = GPEParams
    summary = "ground states of the Gross-Pitaevskii equation for random traps (imaginary-time split-step)"
    description = (
        "Draw random potentials (harmonic trap + optical lattice + Gaussian disorder) and interactions g "
        "(log-uniform in 1 + g), solve each for the ground state by imaginary-time split-step Fourier "
        "propagation on a periodic grid, and write V, g, psi, mu, E and the residual. Resumable."
    )
    example = "physml simulate gpe --n 4000 --dim 1 --out data/gpe1d"
    summary_columns = ["g", "mu", "E", "residual", "steps", "converged"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": f"gpe-{self.p.dim}d"}

    def estimate(self) -> Estimate:
        """Two float32 fields of points^dim values and 12 numbers per state."""
        size = self.p.points**self.p.dim
        return Estimate(float(self.p.n * (8 * size + 120)), float(self.p.n), "ground states")

    def items(self) -> list[dict]:
        return [
            {"path": f"chunk-{k:05d}.parquet", "chunk": k, "n": min(CHUNK, self.p.n - k * CHUNK)}
            for k in range(-(-self.p.n // CHUNK))
        ]

    def make(self, item: dict) -> pa.Table:
        grid = self.p.grid
        rng = np.random.default_rng([self.p.seed, item["chunk"]])
        drawn = draw(rng, self.p.family, grid, item["n"])
        psi, info = ground_states(drawn["V"], drawn["g"], grid, self.p.dtaus, self.p.tol)
        size = grid.n**grid.dim
        ids = [f"gpe-{self.p.seed}-{item['chunk'] * CHUNK + i:07d}" for i in range(item["n"])]
        values = {**drawn, **{f"e_{k}": info[k] for k in ("kin", "pot", "int")}, **info}
        cols = [pa.array(ids)] + [pa.array(np.asarray(values[f], np.float64)) for f in FLOATS]
        cols += [pa.array(info["steps"]), pa.array(info["converged"])]
        for arr in (drawn["V"], psi):
            cols.append(pa.FixedSizeListArray.from_arrays(pa.array(arr.astype(np.float32).ravel()), size))
        return pa.Table.from_arrays(cols, schema=schema(grid))

    def analyse(self, table: pa.Table) -> dict:
        g, res, steps = (table.column(c).to_numpy() for c in ("g", "residual", "steps"))
        stuck = int((~table.column("converged").to_numpy(zero_copy_only=False)).sum())
        text = (
            f"{len(g)} ground states, g {g.min():.3g}..{g.max():.3g}; residual ||H psi - mu psi|| median "
            f"{np.median(res):.2e}, max {res.max():.2e}; {np.median(steps):.0f} imaginary-time steps (median); "
            f"{stuck} not converged within the step limit"
        )
        metrics = {"sim/states": float(len(g)), "sim/residual_max": float(res.max()), "sim/not_converged": float(stuck)}
        return {"rows": [], "metrics": metrics, "series": {}, "text": text}
