"""Ising data for the phases tasks: what to simulate, how to split it, how to batch it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from physml.physics import TC
from physml.tasks.base import DatasetSpec, Simulation


@dataclass(frozen=True)
class IsingData:
    """The [data] section: an existing dataset (uri) or the simulation to make (cached)."""

    uri: str = ""  # dataset URI; "" = simulate with the fields below
    model: str = "ising"  # ising | xy (unsupervised task only)
    L: tuple[int, ...] = (16, 24, 32)  # sizes to simulate and evaluate on
    train_L: int = 0  # size to train on; 0 = the largest
    temperatures: str = "1.0:3.5:26"  # start:stop:count or comma list
    replicas: int = 4  # simulated: independent chains per (L, T)
    sweeps: int = 4000  # simulated: recorded sweeps after thermalization
    thermalize: int = 500  # simulated: sweeps discarded first
    every: int = 20  # simulated: record a configuration every this many sweeps
    algorithm: str = "wolff"  # simulated: the update (physml simulate ising --help lists them)
    seed: int = 0  # simulated: root seed of every chain
    exclude: float = 0.0  # supervised: train on |T - Tc| > exclude only (0 = all T)
    holdout: int = 4  # chains with chain % holdout == 0 are val/test

    def __post_init__(self):
        if self.model not in ("ising", "xy"):
            raise ValueError(f"data.model = {self.model!r}: choose ising or xy")
        if self.holdout < 2:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 2")
        if self.train_L and self.train_L not in self.L:
            raise ValueError(f"data.train_L = {self.train_L}: must be one of data.L = {list(self.L)}")

    @property
    def fit_L(self) -> int:
        return self.train_L or max(self.L)


def adapt_keeping_train_size(cfg_dict: dict, data_params: dict) -> dict:
    """A trained config applied to another dataset (for evaluate): its sizes become data.L, the size
    the model was trained at stays data.train_L and must be among them; data.model and data.sweeps
    (where the held-out chains are cut in time, ``splits(cut=True)``) follow the data."""
    sizes = [int(x) for x in data_params.get("L", [])]
    d = cfg_dict.setdefault("data", {})
    fit = d.get("train_L") or max(d.get("L", sizes))
    if fit not in sizes:
        raise ValueError(f"the model was trained at L = {fit}; the data has L = {sizes}")
    d["L"], d["train_L"], d["model"] = sizes, fit, data_params.get("model", "ising")
    if "sweeps" in data_params:
        d["sweeps"] = int(data_params["sweeps"])
    return cfg_dict


def simulation(d: IsingData) -> Simulation:
    from physml.tasks.ising.params import IsingParams, XYParams, parse_temperatures

    Params = XYParams if d.model == "xy" else IsingParams
    algorithm = d.algorithm if d.model == "ising" else "metropolis"
    return Simulation(
        d.model,
        Params(
            L=tuple(d.L),
            temperatures=parse_temperatures(d.temperatures),
            replicas=d.replicas,
            sweeps=d.sweeps,
            thermalize=d.thermalize,
            every=d.every,
            algorithm=algorithm,
            seed=d.seed,
        ),
    )


def to_arrays(batch: dict, split: str, holdout: int, exclude: float = 0.0, labels: bool = True, cut: int = 0) -> dict:
    """Parquet rows -> {"x": float32[n, L, L] spins, "T", "L", "m", "y" (1 = ordered, T < Tc)}.

    ``split``: "train" keeps chains with chain % holdout != 0 (and |T - Tc| > exclude), "val" the
    held-out chains with |T - Tc| > exclude, "test" all held-out chains. With ``cut`` > 0 (a sweep),
    "val" keeps only held-out rows up to sweep ``cut`` and "late" is "test" after it: the held-out
    chains cut in time into a selection set and a test set that shares no configuration with it.
    """
    chain, temp = np.asarray(batch["chain"]), np.asarray(batch["temperature"], dtype=np.float64)
    held = chain % holdout == 0
    far = np.abs(temp - TC) > exclude
    early = np.asarray(batch["sweep"]) <= cut if cut else np.ones_like(held)
    keep = {"train": ~held & far, "val": held & far & early, "test": held, "late": held & ~early}[split]
    spins = np.stack(batch["spins"][keep]) if keep.any() else np.zeros((0, 1), np.int8)
    n = int(keep.sum())
    L = int(round(np.sqrt(spins.shape[1]))) if n else 1
    if spins.dtype == np.int8:  # Ising: +-1 spins, float[n, L, L]
        x = spins.reshape(n, L, L).astype(np.float32)
    else:  # XY: angles -> (cos, sin) channels, float[n, 2, L, L]
        th = spins.reshape(n, L, L).astype(np.float32)
        x = np.stack([np.cos(th), np.sin(th)], axis=1)
    out = {
        "x": x,
        "T": temp[keep],
        "L": np.full(n, L, dtype=np.int64),
        "m": np.asarray(batch["magnetization"])[keep].astype(np.float32),
    }
    if labels:
        out["y"] = (temp[keep] < TC).astype(np.float32)
    return out


COLUMNS = ["chain", "temperature", "magnetization", "spins"]


def splits(d: IsingData, uri: str, fn=to_arrays, cut: bool = False, **kw) -> dict[str, DatasetSpec]:
    """train/val on data.fit_L; one test split per L (e.g. "test/L16"). With ``cut``, the held-out
    chains of fit_L are cut in time at half their sweeps: val the first half, test/L{fit_L} the
    second (so a model selected on val is tested on other configurations; other sizes test on all)."""
    half = d.sweeps // 2 if cut else 0  # the recorded sweeps run from every to data.sweeps, after burn-in
    columns = COLUMNS + ["sweep"] if cut else COLUMNS
    spec = lambda split, L: DatasetSpec(
        uri,
        columns,
        partial(fn, split=split, holdout=d.holdout, cut=half, **kw),
        {"L": L},
    )
    out = {"train": spec("train", d.fit_L), "val": spec("val", d.fit_L)}
    out.update({f"test/L{L}": spec("late" if cut and L == d.fit_L else "test", L) for L in d.L})
    return out
