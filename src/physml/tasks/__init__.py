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
import functools
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
    "gpe": "physml.tasks.gpe.task:GroundStates",
    "dayabay": "physml.tasks.dayabay.task:DayaBay",
    "dayabay-unsupervised": "physml.tasks.dayabay.task:DayaBayUnsupervised",
    "galaxy-vae": "physml.tasks.galaxy_vae.task:GalaxyVAETask",
    "massmaps-cosmology": "physml.tasks.massmaps.task:MassMapsCosmology",
    "massmaps-denoise": "physml.tasks.massmaps.task:MassMapsDenoise",
    "climate-segmentation": "physml.tasks.climate.task:ClimateSegmentation",
    "climate-patches": "physml.tasks.climate.task:ClimatePatches",
}

SOURCES: dict[str, str] = {
    "ising": "physml.tasks.ising.sampler:IsingSampler",
    "xy": "physml.tasks.ising.sampler:XYSampler",
    "prostate": "physml.tasks.prostate.source:ProstateSource",
    "stargalaxy": "physml.tasks.stargalaxy.source:StarGalaxySource",
    "stargalaxy-fields": "physml.tasks.stargalaxy.field_source:FieldSource",
    "lensing": "physml.tasks.lensing.source:LensingSource",
    "jets": "physml.tasks.jets.source:JetsSource",
    "gpe": "physml.tasks.gpe.source:GPESource",
    "dayabay": "physml.tasks.dayabay.source:DayaBaySource",
    "galaxies": "physml.tasks.galaxy_vae.source:GalaxySource",
    "massmaps": "physml.tasks.massmaps.source:MassMapSource",
    "climate": "physml.tasks.climate.source:ClimateSource",
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


@functools.cache
def _syntax(mod: str) -> tuple[ast.Module, str]:
    """(the syntax tree, the package) of module ``mod``, read from its file once per process."""
    spec = importlib.util.find_spec(mod)
    return ast.parse(Path(spec.origin).read_text()), spec.parent


def _class_value(path: str, attr: str) -> tuple[ast.expr | None, ast.Module, str]:
    """(the expression assigned to ``attr`` in the class body of ``"pkg.module:Class"`` or of a base class
    defined in the same module, the module's syntax tree, the module's package)."""
    mod, _, cls = path.partition(":")
    tree, package = _syntax(mod)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    todo = [cls]
    while todo:
        node = classes.get(todo.pop(0))
        if node is None:
            continue
        for item in node.body:
            targets = [item.target] if isinstance(item, ast.AnnAssign) else getattr(item, "targets", [])
            value = getattr(item, "value", None)
            if value is not None and any(isinstance(t, ast.Name) and t.id == attr for t in targets):
                return value, tree, package
        todo += [b.id for b in node.bases if isinstance(b, ast.Name)]
    return None, tree, package


def class_attr(path: str, attr: str):
    """The literal value of class attribute ``attr`` of ``"pkg.module:Class"``, read from its source without
    importing it (so that `physml tasks` and `--help` answer at once); None when the class does not set it."""
    value, _, _ = _class_value(path, attr)
    try:
        return None if value is None else ast.literal_eval(value)
    except ValueError:  # an expression, not a literal: the caller imports the class
        return None


def config_class(name: str) -> type:
    """The config dataclass of task ``name``. A task keeps it in a module of its own, without torch, and
    sets ``Config = SomeConfig`` imported from there: that module alone is imported, so that
    `physml config` and every input error answer at once. Else the task's module is imported."""
    value, tree, package = _class_value(TASKS[name], "Config")
    if isinstance(value, ast.Name):
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and any(a.name == value.id and not a.asname for a in node.names):
                module = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                return getattr(importlib.import_module(module), value.id)
    return load(TASKS[name]).Config


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
    """The configs a task ships: default and smoke first, then the others by name."""
    names = sorted(p.stem for p in config_path(task_name, "x").parent.glob("*.toml"))
    return sorted(names, key=lambda n: (n not in ("default", "smoke"), n != "default", n))
