"""Damped harmonic oscillators, x'' + 2 gamma x' + omega0^2 x = 0 with x(0) = 1, x'(0) = 0, sampled
at ``steps`` times in [0, ``duration``] with Gaussian noise of standard deviation ``noise``.

The underdamped solution (gamma < omega0; e.g. Landau & Lifshitz, Mechanics, section 25) is
x(t) = exp(-gamma t) [cos(w t) + (gamma / w) sin(w t)], w = sqrt(omega0^2 - gamma^2).
Rows: ``id``, ``gamma`` (1/s), ``omega0`` (rad/s), ``x`` fixed_size_list<float32>[steps].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource, chunk_items

CHUNK = 1000  #: oscillators per shard


@dataclass(frozen=True)
class OscillatorParams:
    n: int = option(4000, "oscillators")
    steps: int = option(64, "samples per trajectory")
    duration: float = option(10.0, "trajectory length, s")
    gamma: tuple[float, float] = option((0.05, 0.5), "damping rate range, 1/s (uniform)", metavar=("LOW", "HIGH"))
    omega0: tuple[float, float] = option(
        (1.0, 3.0), "natural frequency range, rad/s (uniform)", metavar=("LOW", "HIGH")
    )
    noise: float = option(0.05, "standard deviation of the Gaussian noise on x")
    seed: int = option(0, "root seed")

    def __post_init__(self):
        if self.n < 1 or self.steps < 8:
            raise ValueError(f"n = {self.n}, steps = {self.steps}: need n >= 1 and steps >= 8")
        if not 0 <= self.gamma[0] < self.gamma[1] < self.omega0[0] < self.omega0[1]:
            raise ValueError(
                f"gamma = {list(self.gamma)}, omega0 = {list(self.omega0)}: need 0 <= gamma ranges "
                "below the omega0 range (underdamped)"
            )
        if not self.noise >= 0 or not self.duration > 0:
            raise ValueError(f"noise = {self.noise}, duration = {self.duration}: need noise >= 0, duration > 0")


def trajectory(t: np.ndarray, gamma: float, omega0: float) -> np.ndarray:
    """x(t) of the underdamped oscillator with x(0) = 1, x'(0) = 0 (module docstring)."""
    w = np.sqrt(omega0**2 - gamma**2)
    return np.exp(-gamma * t) * (np.cos(w * t) + gamma / w * np.sin(w * t))


def schema(steps: int) -> pa.Schema:
    return pa.schema(
        [("id", pa.string()), ("gamma", pa.float64()), ("omega0", pa.float64()), ("x", pa.list_(pa.float32(), steps))]
    )


class OscillatorSource(ItemSource):
    """Items = chunks of ``CHUNK`` oscillators, each drawn from (seed, chunk) alone."""

    kind = "oscillator"
    params_type = OscillatorParams
    summary = "damped harmonic oscillators with noise (the developer guide's example)"
    description = "Noisy trajectories of underdamped oscillators, gamma and omega0 uniform in their ranges."
    example = "physml simulate oscillator --n 4000 --out data/oscillators"
    summary_columns = ["gamma", "omega0"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": "damped"}

    def estimate(self) -> Estimate:
        """``steps`` float32 samples (+ id and two parameters, about 40 bytes) per oscillator."""
        return Estimate(float(self.p.n * (4 * self.p.steps + 40)), float(self.p.n), "oscillators")

    def items(self) -> list[dict]:
        return chunk_items(self.p.n, CHUNK)

    def make(self, item: dict) -> pa.Table:
        rng = np.random.default_rng([self.p.seed, item["chunk"]])
        n, t = item["n"], np.linspace(0.0, self.p.duration, self.p.steps)
        gamma, omega0 = rng.uniform(*self.p.gamma, n), rng.uniform(*self.p.omega0, n)
        x = np.stack([trajectory(t, g, w) for g, w in zip(gamma, omega0)])
        x += rng.normal(0.0, self.p.noise, x.shape)
        ids = [f"osc-{self.p.seed}-{item['chunk'] * CHUNK + i:07d}" for i in range(n)]
        flat = pa.FixedSizeListArray.from_arrays(pa.array(x.astype(np.float32).ravel()), self.p.steps)
        return pa.Table.from_arrays(
            [pa.array(ids), pa.array(gamma), pa.array(omega0), flat], schema=schema(self.p.steps)
        )

    def analyse(self, table: pa.Table) -> dict:
        g = table.column("gamma").to_numpy()
        text = f"{len(g)} oscillators, gamma {g.min():.3f}..{g.max():.3f} 1/s"
        return {"rows": [], "metrics": {"sim/oscillators": float(len(g))}, "series": {}, "text": text}
