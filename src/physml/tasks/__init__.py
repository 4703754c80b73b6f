"""Experiments. Each is imported lazily by name; no task imports ray or mlflow.

``TASKS``: trainable experiments (the Task protocol of ``physml.tasks.base``), run by `physml run`.
``SAMPLERS``: data generators run by `physml simulate NAME`: Markov chains (the platform's chain
actors) or independent items such as MRI cases (one Ray task each).
"""
from __future__ import annotations

import importlib
from pathlib import Path

TASKS: dict[str, str] = {
    "phases-supervised": "physml.tasks.phases.supervised:SupervisedPhases",
    "phases-confusion": "physml.tasks.phases.confusion:ConfusionPhases",
    "phases-unsupervised": "physml.tasks.phases.unsupervised:UnsupervisedPhases",
    "ising-generation": "physml.tasks.ising_generation.task:IsingGeneration",
    "prostate": "physml.tasks.prostate.task:ProstateSegmentation",
    "stargalaxy": "physml.tasks.stargalaxy.task:StarGalaxy",
    "stargalaxy-segmentation": "physml.tasks.stargalaxy.segmentation:StarGalaxySegmentation",
    "lensing": "physml.tasks.lensing.task:Lensing",
    "jets": "physml.tasks.jets.task:JetTagging",
    "jets-anomaly": "physml.tasks.jets.task:JetAnomaly",
}

SAMPLERS: dict[str, str] = {
    "ising": "physml.tasks.ising.sampler:IsingSampler",
    "xy": "physml.tasks.ising.sampler:IsingSampler",  # same sampler, params.model = "xy"
    "prostate": "physml.tasks.prostate.source:ProstateSource",
    "stargalaxy": "physml.tasks.stargalaxy.source:StarGalaxySource",
    "stargalaxy-fields": "physml.tasks.stargalaxy.field_source:FieldSource",
    "lensing": "physml.tasks.lensing.source:LensingSource",
    "jets": "physml.tasks.jets.source:JetsSource",
}


def load(path: str):
    """Import ``"package.module:Name"`` and return the object."""
    mod, _, name = path.partition(":")
    return getattr(importlib.import_module(mod), name)


def config_path(task_name: str, config: str) -> Path:
    """A config shipped with a task: ``<task module dir>/configs/<task name>/<config>.toml``."""
    mod = TASKS[task_name].partition(":")[0]
    return Path(importlib.import_module(mod).__file__).parent / "configs" / task_name / f"{config}.toml"


def shipped_configs(task_name: str) -> list[str]:
    return sorted(p.stem for p in config_path(task_name, "x").parent.glob("*.toml"))
