"""The Ising (and XY) sampler: how chains are laid out, advanced and turned into rows.

A :class:`physml.tasks.sources.ChainSampler`: ``units()`` (the deterministic groups of chains that
are advanced together), ``init_state(unit)``, ``plan(unit)`` (the steps: burn-in sweeps and records
per step) and ``step(unit, state, burn, nrec)`` -> (state, rows). A chain's rows depend on the seed
and its own index only, never on how units are spread over actors. Rows follow :func:`schema`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from physml.kernels import ising as kernels
from physml.kernels import xy as xy_kernels
from physml.kernels.hopfield import noise_for
from physml.kernels.lattice import random_spins
from physml.kernels.rng import seed_states
from physml.tasks.sources import ChainSampler, Estimate

from .params import IsingParams, XYParams, validate

SHARD_BYTES = 16 * 2**20  # target size of the spins column of one shard


@dataclass(frozen=True)
class Unit:
    """Chains advanced together: one chain, or up to 64 lanes of one word for ``msc``."""

    index: int
    L: int
    chains: tuple[int, ...]
    temperatures: tuple[float, ...]


def schema(L: int, model: str = "ising") -> pa.Schema:
    """Row schema of Ising/XY datasets for linear size ``L``."""
    spin_type = pa.int8() if model == "ising" else pa.float32()
    return pa.schema(
        [
            ("model", pa.string()),
            ("L", pa.int32()),
            ("temperature", pa.float64()),
            ("field", pa.float64()),
            ("algorithm", pa.string()),
            ("chain", pa.int32()),
            ("sweep", pa.int64()),
            ("energy", pa.float64()),
            ("magnetization", pa.float64()),
            ("spins", pa.list_(spin_type, L * L)),
        ]
    )


class IsingSampler(ChainSampler):
    """Markov chains of the 2D Ising model for every (L, T, replica) of ``params``."""

    kind = "ising"
    params_type = IsingParams
    summary = "2D Ising Markov chains (temperatures x replicas per L) on Ray actors"
    description = summary + "; resumable."
    example = "physml simulate ising --L 16 32 --temperatures 1.5:3.5:21 --sweeps 20000 --out data/ising"
    work_unit = "flip"
    summary_columns = ["L", "temperature", "chain", "sweep", "energy", "magnetization"]

    def __init__(self, params: IsingParams):
        self.p = validate(params)

    @property
    def task(self) -> str:
        """MLflow experiment: the model's name ("ising" or "xy")."""
        return self.p.model

    @classmethod
    def from_dict(cls, d: dict) -> IsingSampler:
        """From plain values as a task's Simulation gives them (temperatures as text or list)."""
        from .params import parse_temperatures

        d = dict(d)
        temps = d.pop("temperatures")
        temps = parse_temperatures(temps) if isinstance(temps, str) else tuple(float(t) for t in temps)
        return cls(cls.params_type(L=tuple(d.pop("L")), temperatures=temps, **d))

    def manifest_params(self) -> dict:
        """What defines the dataset: a resume must match it exactly."""
        d = self.p.as_dict()
        if self.p.algorithm == "hopfield":
            d["hopfield_noise"] = [noise_for(t) for t in self.p.temperatures]
        return d

    def analyse(self, table: pa.Table) -> dict:
        return analyse(self, table)

    def resources(self) -> dict[str, float]:
        """A GPU per chain actor for ``device = "cuda"`` (none under numba's CUDA simulator, which runs
        on the actor's CPU)."""
        import os

        if self.p.device == "cuda" and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
            return {"num_cpus": 1, "num_gpus": 1}
        return {"num_cpus": 1}

    def report(self, analysis: dict, out_dir) -> list:
        """plots/observables.png and tables/summary.csv (+ binder.csv) under ``out_dir``."""
        from pathlib import Path

        from .report import plot_observables, write_csv

        out = Path(out_dir)
        title = (
            f"{self.p.model} {self.p.algorithm}, h={self.p.field}, {self.p.sweeps} sweeps x {self.p.replicas} replicas"
        )
        exact = self.p.field == 0 and self.p.model == "ising"
        paths = [
            plot_observables(analysis["rows"], out / "plots" / "observables.png", title, exact, analysis["crossings"]),
            write_csv(analysis["rows"], out / "tables" / "summary.csv"),
        ]
        if analysis["crossings"]:
            keep = [{k: v for k, v in c.items() if k != "tc_jack"} for c in analysis["crossings"]]
            paths.append(write_csv(keep, out / "tables" / "binder.csv"))
        if analysis.get("reweighted"):
            from .report import plot_reweighted

            paths.append(plot_reweighted(analysis["reweighted"], out / "plots" / "reweighted.png", title))
        return paths

    def units(self) -> list[Unit]:
        """Chain ids run over (L, T, replica) in that order; msc packs consecutive chains of one L."""
        per = kernels.MAX_LANES if self.p.algorithm == "msc" else 1
        units, chain = [], 0
        for L in self.p.L:
            ids = list(range(chain, chain + len(self.p.temperatures) * self.p.replicas))
            temps = [t for t in self.p.temperatures for _ in range(self.p.replicas)]
            chain += len(ids)
            for k in range(0, len(ids), per):
                units.append(Unit(len(units), L, tuple(ids[k : k + per]), tuple(temps[k : k + per])))
        return units

    def estimate(self) -> Estimate:
        """Rows of L^2 spins (+ 57 bytes of columns) per record, and every spin update."""
        p, chains = self.p, len(self.p.temperatures) * self.p.replicas
        spin_bytes = 1 if p.model == "ising" else 4
        rows = sum(chains * p.records * (spin_bytes * L * L + 57) for L in p.L)
        work = sum(chains * (p.thermalize + p.records * p.every) * L * L for L in p.L)
        return Estimate(float(rows), float(work), "spin updates")

    def work(self, unit: Unit, burn: int, nrec: int) -> float:
        """Spin updates of one step: (burn + nrec x every) sweeps of L^2 spins per chain."""
        return float((burn + nrec * self.p.every) * len(unit.chains) * unit.L**2)

    def shard_group(self, unit: Unit) -> dict[str, int]:
        """Shards are grouped (and selected by readers) by lattice size: ``L32/...``."""
        return {"L": unit.L}

    def rows_per_step(self, unit: Unit) -> int:
        return int(np.clip(SHARD_BYTES // (unit.L**2 * len(unit.chains)), 1, self.p.records))

    def plan(self, unit: Unit) -> list[tuple[int, int]]:
        """Steps (burn-in sweeps, records) for a unit: thermalization chunks, then shard-sized records."""
        rows = self.rows_per_step(unit)
        chunk = rows * self.p.every
        steps = [(min(chunk, self.p.thermalize - s), 0) for s in range(0, self.p.thermalize, chunk)]
        steps += [(0, min(rows, self.p.records - r)) for r in range(0, self.p.records, rows)]
        return steps

    def init_state(self, unit: Unit) -> dict[str, np.ndarray]:
        """Hot start from each chain's own stream: spins int8[n, L, L], rng uint64[n, 4]."""
        rng = seed_states(self.p.seed, unit.chains)
        start = xy_kernels.random_angles if self.p.model == "xy" else random_spins
        spins = np.stack([start(unit.L, rng[c]) for c in range(len(unit.chains))])
        aux = np.zeros(len(unit.chains), dtype=np.int64)
        return {"spins": spins, "rng": rng, "aux": aux, "records": np.zeros(1, dtype=np.int64)}

    def step(self, unit: Unit, state: dict, burn: int, nrec: int) -> tuple[dict, pa.Table | None]:
        """Advance ``unit`` by ``burn`` sweeps, then record ``nrec`` rows per chain."""
        new = {k: v.copy() for k, v in state.items()}
        temps = np.array(unit.temperatures)
        if self.p.model == "xy":
            e, m, conf = xy_kernels.run(new["spins"], temps, new["rng"], nrec, self.p.every, burn)
        else:
            e, m, conf = kernels.run(
                self.p.algorithm,
                new["spins"],
                temps,
                self.p.field,
                new["rng"],
                new["aux"],
                nrec,
                self.p.every,
                burn,
                self.p.device,
            )
        first = int(state["records"][0])
        new["records"] = np.array([first + nrec])
        return new, (self._table(unit, first, e, m, conf) if nrec else None)

    def _table(self, unit: Unit, first: int, e, m, conf) -> pa.Table:
        n, nrec = e.shape
        L = unit.L
        rep = lambda x: np.repeat(np.asarray(x), nrec)
        sweeps = np.tile((first + 1 + np.arange(nrec)) * self.p.every, n)
        spins = pa.FixedSizeListArray.from_arrays(pa.array(conf.reshape(-1)), L * L)
        cols = [
            pa.array([self.p.model] * (n * nrec)),
            pa.array(np.full(n * nrec, L, np.int32)),
            pa.array(rep(unit.temperatures)),
            pa.array(np.full(n * nrec, self.p.field)),
            pa.array([self.p.algorithm] * (n * nrec)),
            pa.array(rep(unit.chains).astype(np.int32)),
            pa.array(sweeps.astype(np.int64)),
            pa.array(e.reshape(-1)),
            pa.array(m.reshape(-1)),
            spins,
        ]
        return pa.Table.from_arrays(cols, schema=schema(L, self.p.model))


def analyse(sampler: IsingSampler, table: pa.Table) -> dict:
    """Summary rows, the reweighted curves and Binder crossings (Ising, h = 0), Tc, MLflow metrics
    and the terminal text for a finished dataset."""
    from .report import format_brief, format_table
    from .reweighting import analyse_series
    from .summary import _series, summarize

    ising = sampler.p.model == "ising"
    rows = summarize(table, sampler.p.field, exact=ising)
    rw = analyse_series(_series(table)) if sampler.p.field == 0 and ising else None
    crossings = rw["crossings"] if rw else []
    metrics, series = {}, {}
    for c in crossings:
        metrics[f"sim/tc_binder_L{c['L1']}_L{c['L2']}"] = c["tc"]
        metrics[f"sim/tc_binder_L{c['L1']}_L{c['L2']}_err"] = c["tc_err"]
    for r in rows:
        for key in ("e", "e_err", "abs_m", "chi", "C", "U4", "tau_e"):
            series.setdefault(f"sim/L{r['L']}/{key}", []).append(r[key])
    lines = [crossing_line(c) for c in crossings]
    if rw and np.isfinite(rw["tc"]["tc"]):
        metrics.update({"sim/tc": rw["tc"]["tc"], "sim/tc_err": rw["tc"]["tc_err"]})
        lines.append(tc_line(rw["tc"]))
    text, brief = "\n".join([format_table(rows), *lines]), "\n".join([format_brief(rows), *lines])
    return {
        "rows": rows,
        "crossings": crossings,
        "reweighted": rw,
        "metrics": metrics,
        "series": series,
        "text": text,
        "brief": brief,
    }


def crossing_line(c: dict) -> str:
    """One Binder crossing against Onsager's Tc: value, error, relative and in standard errors."""
    from physml.physics import TC

    sig = (c["tc"] - TC) / c["tc_err"] if c["tc_err"] > 0 else float("nan")
    return (
        f"Binder crossing L={c['L1']}/{c['L2']} (reweighted): Tc = {c['tc']:.4f} +- {c['tc_err']:.4f} "
        f"(exact {TC:.6f}, {100 * (c['tc'] / TC - 1):+.2f}%, {sig:+.1f} sigma)"
    )


def tc_line(tc: dict) -> str:
    """``Tc = <value> +- <error> (<method>)``: the dataset's estimate."""
    return f"Tc = {tc['tc']:.5f} +- {tc['tc_err']:.5f} ({tc['method']})"


class XYSampler(IsingSampler):
    """Markov chains of the 2D XY model (Metropolis with over-relaxation moves), in the Ising sampler's units."""

    params_type = XYParams
    summary = "2D XY Markov chains (Metropolis + over-relaxation) on Ray actors"
    description = summary + "; resumable."
    example = "physml simulate xy --L 16 --temperatures 0.5:1.5:11 --sweeps 5000 --out data/xy"
