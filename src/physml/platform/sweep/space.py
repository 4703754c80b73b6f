"""Sweep spaces: parsed and checked against a task's config before Ray starts (pure, no Ray).

A space maps dotted config keys to one distribution each::

    "train.lr"       = {loguniform = [1e-4, 1e-2]}
    "train.dropout"  = {uniform = [0.0, 0.5]}
    "model.depth"    = {int = [4, 5]}              # inclusive
    "model.channels" = {choice = [8, 16, 32]}      # sampled (Optuna TPE)
    "model.kind"     = {grid = ["cnn", "dense"]}   # every value (Cartesian product)

and a table lists whole configurations to run exactly (e.g. the rows of a paper's Table 3)::

    [[sweep.table]]
    "model.depth" = 4
    "model.dilation" = [1, 1, 2, 4]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from physml.config import ConfigError, from_dict

KINDS = ("uniform", "loguniform", "int", "choice", "grid")
FIXED_PER_SWEEP = ("train.workers", "train.gpu", "train.cpus_per_worker", "data.uri")


@dataclass(frozen=True)
class Dim:
    """One searched key: ``kind`` in KINDS, ``args`` = [low, high] or the list of values."""

    key: str
    kind: str
    args: tuple

    def candidates(self) -> list:
        """Values that bound the dimension (checked against the config's types and ranges)."""
        if self.kind in ("choice", "grid"):
            return list(self.args)
        lo, hi = self.args
        return [lo, hi, (lo + hi) // 2 if self.kind == "int" else (lo + hi) / 2]


@dataclass(frozen=True)
class Space:
    dims: tuple[Dim, ...] = ()
    table: tuple[dict, ...] = ()  # rows of fixed {dotted key: value}

    @property
    def grid_size(self) -> int:
        """Configurations enumerated exactly (grid product x table rows); 1 when there are none."""
        n = math.prod(len(d.args) for d in self.dims if d.kind == "grid")
        return n * max(1, len(self.table))

    @property
    def exhaustive(self) -> bool:
        """True when grids or a table are present: Tune's variant generator runs them exactly."""
        return bool(self.table) or any(d.kind == "grid" for d in self.dims)

    @property
    def keys(self) -> list[str]:
        return [d.key for d in self.dims] + sorted({k for row in self.table for k in row})


def flatten_space(tree: dict, prefix: str = "") -> dict[str, Any]:
    """{"train": {"lr": {"loguniform": [..]}}} or {"train.lr": {...}} -> {"train.lr": {...}}."""
    out = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        leaf = not isinstance(v, dict) or (len(v) == 1 and not isinstance(next(iter(v.values())), dict))
        out.update({key: v} if leaf else flatten_space(v, key + "."))
    return out


def flatten_row(row: dict, prefix: str = "") -> dict[str, Any]:
    """A table row {"train": {"lr": 0.1}} or {"train.lr": 0.1} -> {"train.lr": 0.1}."""
    out = {}
    for k, v in row.items():
        out.update(flatten_row(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def _dim(key: str, spec: Any) -> Dim:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ConfigError(f"sweep space {key} = {spec!r}: expected one of {{{', '.join(KINDS)} = ...}}")
    kind, args = next(iter(spec.items()))
    if kind not in KINDS:
        raise ConfigError(f"sweep space {key}: unknown distribution {kind!r}; use one of {', '.join(KINDS)}")
    if not isinstance(args, list) or not args:
        raise ConfigError(f"sweep space {key} = {{{kind} = {args!r}}}: expected a non-empty list")
    if kind in ("choice", "grid"):
        return Dim(key, kind, tuple(args))
    if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
        raise ConfigError(f"sweep space {key} = {{{kind} = {args!r}}}: expected [low, high] numbers")
    lo, hi = args
    if kind == "int" and not all(isinstance(a, int) for a in args):
        raise ConfigError(f"sweep space {key} = {{int = {args!r}}}: bounds must be integers")
    if not (lo < hi or (kind == "int" and lo == hi)):
        raise ConfigError(f"sweep space {key} = {{{kind} = {args!r}}}: low must be below high")
    if kind == "loguniform" and lo <= 0:
        raise ConfigError(f"sweep space {key} = {{loguniform = {args!r}}}: bounds must be > 0")
    return Dim(key, kind, (lo, hi))


def apply(cfg_dict: dict, values: dict[str, Any]) -> dict:
    """A copy of nested ``cfg_dict`` with dotted-key ``values`` set."""
    out = _copy(cfg_dict)
    for key, value in values.items():
        node = out
        *path, last = key.split(".")
        for p in path:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def _copy(d: dict) -> dict:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def parse_space(space: dict, table: list | None, config_cls, base: dict) -> Space:
    """Checked :class:`Space` for a task: every key is a config key of ``config_cls``, every bound,
    choice and table row builds a valid config from ``base`` (types and ranges), and resources stay
    fixed per sweep. Raises ConfigError naming the bad entry."""
    dims = tuple(_dim(k, v) for k, v in flatten_space(space or {}).items())
    rows = tuple(table or ())
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not row:
            raise ConfigError(f"sweep table row {i + 1}: expected a table of key = value")
        rows = rows[:i] + (flatten_row(row),) + rows[i + 1 :]
    keys = [d.key for d in dims]
    overlap = sorted(set(keys) & {k for r in rows for k in r})
    if overlap:
        raise ConfigError(f"sweep key {overlap[0]} is in both the space and the table; keep it in one")
    for key in keys + [k for r in rows for k in r]:
        if key in FIXED_PER_SWEEP:
            raise ConfigError(
                f"sweep key {key}: resources and data are fixed for a sweep; set it with --set "
                f"(not sweepable: {', '.join(FIXED_PER_SWEEP)})"
            )
    for d in dims:
        for value in d.candidates():
            _check(config_cls, base, {d.key: value}, f"sweep space {d.key}")
    for i, row in enumerate(rows):
        _check(config_cls, base, row, f"sweep table row {i + 1}")
    return Space(dims, rows)


def _check(config_cls, base: dict, values: dict, where: str) -> None:
    try:
        from_dict(config_cls, apply(base, values))
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None


def sample_values(space: Space) -> list[dict]:
    """Bound values of every dimension, one dict per candidate (to check what data they need)."""
    return [{d.key: v} for d in space.dims for v in d.candidates()] + [dict(r) for r in space.table]


@dataclass
class SweepSettings:
    """The [sweep] table of a sweep file (CLI options override it)."""

    samples: int | None = None  # trials (Optuna) or repeats of the grid/table
    metric: list[str] = field(default_factory=list)
    mode: list[str] = field(default_factory=list)
    scheduler: str = "asha"  # asha | none
    max_concurrent: int | None = None
    grace_period: int = 1  # ASHA: epochs before a trial can be stopped
    reduction_factor: int = 2  # ASHA: keep 1/reduction_factor per rung
    pivot: str = ""  # a searched key whose values become columns of table.csv
    aggregate: str = ""  # or: a searched key (e.g. train.seed) that table.csv summarizes
    # as mean, highest, lowest, std over its values
    table_metric: str = ""  # the metric of table.csv (default: the objective)

    def check(self) -> SweepSettings:
        if self.samples is not None and self.samples < 1:
            raise ConfigError(f"--samples {self.samples}: must be >= 1")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise ConfigError(f"--max-concurrent {self.max_concurrent}: must be >= 1")
        if self.scheduler not in ("asha", "none"):
            raise ConfigError(f"--scheduler {self.scheduler!r}: choose asha or none")
        if len(self.metric) not in (1, 2):
            raise ConfigError(
                f"--metric {' '.join(self.metric)!r}: give one metric, or two for a multi-objective search"
            )
        for m in self.metric:
            if not m.startswith(("val/", "train/")):
                raise ConfigError(f"--metric {m!r}: sweeps optimize an epoch metric, val/<name> or train/epoch_<name>")
        if len(self.mode) != len(self.metric) or any(m not in ("min", "max") for m in self.mode):
            raise ConfigError(
                f"--mode {' '.join(self.mode)!r}: give min or max for each metric ({', '.join(self.metric)})"
            )
        if self.pivot and self.aggregate:
            raise ConfigError(f"sweep.pivot = {self.pivot!r} and sweep.aggregate = {self.aggregate!r}: use one")
        if self.grace_period < 1 or self.reduction_factor < 2:
            raise ConfigError(
                f"sweep.grace_period = {self.grace_period} (>= 1), sweep.reduction_factor = "
                f"{self.reduction_factor} (>= 2)"
            )
        return self
