"""A sweep request read and checked before anything heavy is imported: the sweep file (or a task config),
--set, the CLI's settings, the search space, the metrics and the simulated data it implies. Only the
task's config module is imported until the checks that need the task itself (its data)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from physml.config import ConfigError, from_dict, merge, to_dict
from physml.platform.configs import config_dict
from physml.platform.sweep.space import Space, SweepSettings, apply, parse_space, sample_values
from physml.tasks import TASKS, class_attr, config_class, load

SETTINGS = {f for f in SweepSettings.__dataclass_fields__} | {"space", "table"}


@dataclass
class SweepRequest:
    """Everything a sweep needs, validated (no Ray)."""

    task: str
    base: dict
    space: Space
    settings: SweepSettings

    @property
    def total(self) -> int:
        """Trials: samples (Optuna), or samples x the grid/table configurations."""
        n = self.settings.samples or (1 if self.space.exhaustive else 8)
        return n * self.space.grid_size if self.space.exhaustive else n


def prepare(task_name: str, config: str | None, sets: list[str], cli: dict) -> SweepRequest:
    """Read the sweep file (or a plain task config), apply --set and the CLI's settings, check all."""
    raw = config_dict(task_name, config)
    table = dict(raw.pop("sweep", {}))
    base_name = raw.pop("base", None)
    base = _overlay(config_dict(task_name, _near(base_name, config)), raw) if base_name else raw
    Config = config_class(task_name)
    base = to_dict(from_dict(Config, merge(base, sets)))
    unknown = sorted(set(table) - SETTINGS)
    if unknown:
        raise ConfigError(f"unknown [sweep] key {unknown[0]!r}; valid: {', '.join(sorted(SETTINGS))}")
    space_tree = table.pop("space", None)
    rows = table.pop("table", None)
    if space_tree is None and rows is None:
        space_tree = _task_attr(task_name, "search_space")
    space = parse_space(space_tree or {}, rows, Config, base)
    if not space.dims and not space.table:
        raise ConfigError("the sweep space is empty: add [sweep.space] entries or [[sweep.table]] rows")
    settings = _settings(table, cli, tuple(_task_attr(task_name, "sweep_metric")))
    _check_metrics(task_name, settings.metric)
    for name in ("pivot", "aggregate"):
        key = getattr(settings, name)
        if key and key not in space.keys:
            raise ConfigError(f"sweep.{name} = {key!r}: not a searched key ({', '.join(space.keys)})")
    _check_data(load(TASKS[task_name])(), base, space)  # the task itself (torch) once the rest is known good
    return SweepRequest(task_name, base, space, settings)


def _near(name: str, config: str | None) -> str:
    """``base = "x.toml"`` is relative to the sweep file; a bare name is a shipped config."""
    if config and name.endswith(".toml") and not os.path.isabs(name):
        return str(Path(config).parent / name)
    return name


def _overlay(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _overlay(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _settings(table: dict, cli: dict, default_metric: tuple[str, str]) -> SweepSettings:
    merged = {**table, **{k: v for k, v in cli.items() if v is not None}}
    for key in ("metric", "mode"):
        if isinstance(merged.get(key), str):
            merged[key] = [merged[key]]
    merged.setdefault("metric", [default_metric[0]])
    merged.setdefault(
        "mode",
        [default_metric[1]]
        if merged["metric"] == [default_metric[0]]
        else ["min" if "loss" in m else "max" for m in merged["metric"]],
    )
    try:
        return SweepSettings(**merged).check()
    except TypeError as err:
        raise ConfigError(f"[sweep]: {err}") from None


def _task_attr(task_name: str, attr: str):
    """A class attribute of the task, read from its source when it is a literal there (no import)."""
    value = class_attr(TASKS[task_name], attr)
    return getattr(load(TASKS[task_name]), attr) if value is None else value


def _check_metrics(task_name: str, metrics: list[str]) -> None:
    """A sweep's objectives must be metrics the task reports each epoch: val/<one of task.metrics>
    or a training epoch mean (train/epoch_<name>)."""
    declared = _task_attr(task_name, "metrics")
    for m in metrics:
        if m.startswith("val/") and m.removeprefix("val/") not in declared:
            known = ", ".join(f"val/{k}" for k in declared)
            raise ConfigError(f"--metric {m}: {task_name} does not report it; choose one of {known} (or train/epoch_*)")


def _check_data(task, base: dict, space: Space) -> None:
    """Refuse sweep values that would need other simulated data than the base config's."""
    if base.get("data", {}).get("uri"):
        return
    want = task.simulation(from_dict(task.Config, base))
    for values in sample_values(space):
        if task.simulation(from_dict(task.Config, apply(base, values))) != want:
            key = next(iter(values))
            raise ConfigError(
                f"sweep key {key} changes the simulated data; simulate it once "
                f"(physml simulate ...) and set data.uri, or leave {key} out of the sweep"
            )
