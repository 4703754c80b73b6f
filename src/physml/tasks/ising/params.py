"""Parameters of an Ising simulation, parsed and validated before anything starts."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from physml.errors import InputError
from physml.kernels.ising import ALGORITHMS
from physml.tasks.options import option

TEMPERATURES = tuple(float(t) for t in np.linspace(1.5, 3.5, 21))  # the default grid, J/k_B


@dataclass(frozen=True)
class IsingParams:
    L: tuple[int, ...] = option((32,), "linear lattice size(s), >= 2", metavar="L")
    temperatures: tuple[float, ...] = option(
        TEMPERATURES,
        "start:stop:count (inclusive) or a comma list, in J/k_B",
        parse=lambda text: parse_temperatures(text),
        shown_default="1.5:3.5:21",
    )
    replicas: int = option(4, "independent chains per (L, T)")
    sweeps: int = option(20000, "recorded sweeps after thermalization")
    thermalize: int = option(2000, "sweeps discarded first")
    every: int = option(10, "record a configuration every N sweeps")
    algorithm: str = option(
        "wolff",
        f"the update: {', '.join(ALGORITHMS)} (msc = multi-spin coded checkerboard Metropolis, the fast path; "
        "hopfield = Algorithm 2 of [000]; synchronous = the literal, biased Algorithm 3)",
        metavar="NAME",
    )
    field: float = option(0.0, "external field h (wolff and msc need 0)")
    seed: int = option(0, "root seed of every chain's RNG stream")
    device: str = option("cpu", "cpu, or cuda: the msc kernel on a GPU, one per Ray actor (Philox random bits)")
    model: str = "ising"

    @property
    def records(self) -> int:
        """Configurations recorded per chain."""
        return self.sweeps // self.every

    def as_dict(self) -> dict:
        d = asdict(self)
        d["L"], d["temperatures"] = list(self.L), list(self.temperatures)
        if d["device"] == "cpu":  # datasets made before the GPU path keep their params
            d.pop("device")
        return d


@dataclass(frozen=True)
class XYParams(IsingParams):
    """The XY model's parameters: the same chains, one update (Metropolis with over-relaxation), h = 0."""

    algorithm: str = option(
        "metropolis", "the XY update: metropolis (the only one), with over-relaxation moves", metavar="NAME"
    )
    field: float = 0.0  # the xy model is simulated at h = 0 only
    model: str = "xy"


def parse_temperatures(text: str) -> tuple[float, ...]:
    """'1.5:3.5:21' (start:stop:count, inclusive) or '2.0,2.27,2.5' -> tuple of floats."""
    try:
        if ":" in text:
            a, b, n = text.split(":")
            n = int(n)
            if n < 1:
                raise InputError(
                    f"--temperatures {text!r}: empty range (count {n}); use start:stop:count with count >= 1"
                )
            temps = tuple(float(x) for x in np.linspace(float(a), float(b), n))
        else:
            temps = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as err:
        if isinstance(err, InputError):
            raise
        raise InputError(f"--temperatures {text!r}: expected start:stop:count or a comma list of numbers") from None
    if not temps:
        raise InputError(f"--temperatures {text!r}: empty; give start:stop:count or a comma list")
    bad = [t for t in temps if not np.isfinite(t)]
    if bad:
        raise InputError(f"--temperatures {text!r}: T = {bad[0]} is not a finite number")
    return temps


def validate(p: IsingParams) -> IsingParams:
    """Check every value; raise InputError naming the first bad one and what is allowed."""
    if p.model not in ("ising", "xy"):
        raise InputError(f"model {p.model!r} is unknown; choose ising or xy")
    if p.model == "xy":
        return _validate_xy(p)
    if p.algorithm not in ALGORITHMS:
        raise InputError(f"--algorithm {p.algorithm!r} is unknown; choose one of {', '.join(ALGORITHMS)}")
    _, even, field_ok, _ = ALGORITHMS[p.algorithm]
    for L in p.L:
        if even and L >= 2 and L % 2:
            raise InputError(f"--L {L}: --algorithm {p.algorithm} needs an even L (two-sublattice checkerboard)")
    _validate_device(p)
    if p.field != 0 and not field_ok:
        raise InputError(
            f"--field {p.field}: --algorithm {p.algorithm} needs h = 0; use metropolis, heatbath, "
            "hopfield or checkerboard"
        )
    return _validate_common(p)


def _validate_device(p: IsingParams) -> None:
    """``cuda`` runs the msc kernel only, and needs a GPU (or numba's simulator)."""
    if p.device not in ("cpu", "cuda"):
        raise InputError(f"--device {p.device!r}: choose cpu or cuda")
    if p.device == "cuda":
        if p.algorithm != "msc":
            raise InputError(f"--device cuda runs --algorithm msc only, not {p.algorithm!r}")
        from numba import cuda

        if not cuda.is_available():
            raise InputError(
                "--device cuda: no CUDA GPU here (numba.cuda.is_available() is False); use --device cpu, or "
                "NUMBA_ENABLE_CUDASIM=1 for numba's CUDA simulator on the CPU (slow: small lattices)"
            )


def _validate_common(p: IsingParams) -> IsingParams:
    """Checks shared by both models: sizes, temperatures, counts, field, seed."""
    for L in p.L:
        if L < 2:
            raise InputError(f"--L {L}: the lattice needs L >= 2")
        if L > 4096:
            raise InputError(f"--L {L}: at most 4096 is supported")
    if len(set(p.L)) != len(p.L):
        raise InputError(f"--L {list(p.L)}: each size may appear once")
    if not p.temperatures:
        raise InputError("--temperatures: empty; give start:stop:count or a comma list")
    bad = [t for t in p.temperatures if not t > 0 or not np.isfinite(t)]
    if bad:
        raise InputError(f"--temperatures: T = {bad[0]} is not allowed; temperatures must be > 0")
    if len(set(p.temperatures)) != len(p.temperatures):
        raise InputError(f"--temperatures: duplicate values in {list(p.temperatures)}")
    for name in ("replicas", "sweeps", "every"):
        if getattr(p, name) < 1:
            raise InputError(f"--{name} {getattr(p, name)}: must be >= 1")
    if p.thermalize < 0:
        raise InputError(f"--thermalize {p.thermalize}: must be >= 0")
    if p.every > p.sweeps:
        raise InputError(f"--every {p.every} is larger than --sweeps {p.sweeps}; need every <= sweeps")
    if not np.isfinite(p.field):
        raise InputError(f"--field {p.field}: must be finite")
    if p.seed < 0:
        raise InputError(f"--seed {p.seed}: must be >= 0")
    return p


def _validate_xy(p: IsingParams) -> IsingParams:
    """XY: Metropolis + over-relaxation only, no field."""
    if p.algorithm != "metropolis":
        raise InputError(f"--algorithm {p.algorithm!r}: the xy model runs metropolis (with over-relaxation) only")
    if p.device != "cpu":
        raise InputError(f"--device {p.device!r}: the xy model runs on the cpu only")
    if p.field != 0:
        raise InputError(f"--field {p.field}: the xy model is simulated at h = 0 only")
    return _validate_common(p)
