"""A task's config resolved from what the user typed (a shipped config name or a TOML file, --set
overrides): light on purpose, so that a bad value is refused in well under two seconds (no Ray, no
MLflow, no torch imported: only the task's config module, see ``physml.tasks.config_class``)."""

from __future__ import annotations

import os
from pathlib import Path

from physml.config import from_dict, load_toml, merge
from physml.errors import ConfigError
from physml.tasks import TASKS, config_class, config_path, shipped_configs


def config_dict(task_name: str, config: str | None) -> dict:
    """The raw TOML dict of a shipped config name (default "default") or of a .toml path."""
    if task_name not in TASKS:
        raise ConfigError(f"unknown task {task_name!r}; choose one of {', '.join(TASKS)}")
    name = config or "default"
    if name.endswith(".toml") or os.sep in name:
        return load_toml(Path(name))
    if config_path(task_name, name).exists():
        return load_toml(config_path(task_name, name))
    raise ConfigError(
        f"-c {name!r}: not a .toml file nor a config of {task_name} ({', '.join(shipped_configs(task_name))})"
    )


def resolve(task_name: str, config: str | None, sets: list[str], resume: str | None = None):
    """The typed config from a shipped config name or a TOML path plus --set overrides; with ``resume``
    and no config, the resumed run's own config is the base."""
    if resume and config is None:
        from physml.platform.plan import resumed_config  # MLflow: only to read a run's own config

        base = resumed_config(task_name, resume)
    else:
        base = config_dict(task_name, config)
    return from_dict(config_class(task_name), merge(base, sets))
