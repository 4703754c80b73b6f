"""The registry of experiments and data sources: names to lazy import strings.

``TASKS``: trainable experiments (subclasses of :class:`physml.tasks.base.Task`), run by `physml run`.
``SOURCES``: data sources (:mod:`physml.tasks.sources`) run by `physml simulate NAME` and
`physml convert NAME`: Markov chains (the platform's chain actors) or independent items such as MRI
cases (one Ray task each). A task's ``Simulation`` names a source by its key here or by its import
path, so a new task needs one line in ``TASKS`` (and one in ``SOURCES`` only to expose its source
on the command line). Nothing is imported until a name is used: no task imports ray or mlflow.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
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
    "example-oscillator": "physml.tasks.example.task:Oscillator",
}

SOURCES: dict[str, str] = {
    "ising": "physml.tasks.ising.sampler:IsingSampler",
    "xy": "physml.tasks.ising.sampler:XYSampler",
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


def source_path(name: str) -> str:
    """The import path of a data source: a key of ``SOURCES`` or itself when it is "pkg.module:Class"."""
    if name in SOURCES:
        return SOURCES[name]
    if ":" in name:
        return name
    raise KeyError(f"unknown data source {name!r}; choose one of {', '.join(SOURCES)} or give 'pkg.module:Class'")


def class_attr(path: str, attr: str):
    """The literal value of class attribute ``attr`` of ``"pkg.module:Class"``, read from its source without
    importing it (so that `physml tasks` and `--help` answer at once); None when the class does not set it."""
    mod, _, cls = path.partition(":")
    tree = ast.parse(Path(importlib.util.find_spec(mod).origin).read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.AnnAssign):
                    targets, value = [item.target], item.value
                elif isinstance(item, ast.Assign):
                    targets, value = item.targets, item.value
                else:
                    continue
                if any(isinstance(t, ast.Name) and t.id == attr for t in targets) and value is not None:
                    return ast.literal_eval(value)
    return None


def describe(name: str) -> str:
    """The one-line ``summary`` of task ``name`` (its class's, else its module's first docstring line)."""
    summary = class_attr(TASKS[name], "summary")
    if summary:
        return summary
    spec = importlib.util.find_spec(TASKS[name].partition(":")[0])
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""
    return doc.splitlines()[0] if doc else ""


def config_path(task_name: str, config: str) -> Path:
    """A config shipped with a task: ``<task module dir>/configs/<task name>/<config>.toml``."""
    mod = TASKS[task_name].partition(":")[0]
    return Path(importlib.util.find_spec(mod).origin).parent / "configs" / task_name / f"{config}.toml"


def shipped_configs(task_name: str) -> list[str]:
    return sorted(p.stem for p in config_path(task_name, "x").parent.glob("*.toml"))
