"""The Task protocol: how to add an experiment to physml (design.md section 3).

A task is one class with a typed, frozen config. It says which data it needs, builds its model,
computes its loss and its evaluation metrics, and draws its figures. The platform owns everything
else: Ray, device placement, DDP, AMP, optimizers, schedulers, checkpoints, early stopping, MLflow.
Tasks import neither ray nor mlflow, so one can be imported and trained for a step in a plain process.

To add a task: write ``tasks/<name>/task.py`` with a class implementing the members below, ship
``configs/smoke.toml`` (< 30 s on one core) and ``configs/default.toml`` (the published size), and
register ``"<name>": "physml.tasks.<name>.task:<Class>"`` in ``physml.tasks.TASKS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Protocol

import numpy as np


@dataclass(frozen=True)
class TrainConfig:
    """The [train] section every task has; read by the platform only."""

    epochs: int = 10                 # passes over the training data
    batch_size: int = 128            # per worker
    lr: float = 1e-3                 # learning rate
    optimizer: str = "adam"          # adam | adamw | sgd
    weight_decay: float = 0.0
    momentum: float = 0.9            # sgd only
    scheduler: str = "none"          # none | cosine | step (x0.1 every third of the epochs)
    workers: int = 1                 # Ray Train workers (DDP when > 1)
    runner: str = "ray-train"        # ray-train | local (the loop in the driver process: 1 worker, splits
                                     # in memory, no worker-group start-up; quick runs on a laptop)
    gpu: bool = False                # one GPU per worker
    cpus_per_worker: float = 1.0     # leave CPUs for Ray Data on small machines
    amp: bool = True                 # mixed precision, applied on CUDA only
    early_stop_metric: str = ""      # e.g. "val/loss"; "" disables early stopping
    early_stop_mode: str = "min"     # min | max
    patience: int = 5                # epochs without improvement before stopping
    select: str = "last"             # model kept after training: last epoch | best (by early_stop_metric)
    seed: int = 0                    # torch seed (worker rank is added)
    max_failures: int = 0            # worker-group restarts from the last checkpoint (a node lost on a
                                     # cluster); -1 = unlimited. A non-finite loss is retried too.
    log_every: int = 10              # steps between train/loss metrics
    init_from: str = ""              # start from these weights (fine-tuning, transfer): runs:/RUN_ID/model
                                     # or a model directory of the same task and architecture

    def __post_init__(self):
        _choice("train.optimizer", self.optimizer, ("adam", "adamw", "sgd"))
        _choice("train.scheduler", self.scheduler, ("none", "cosine", "step"))
        _choice("train.early_stop_mode", self.early_stop_mode, ("min", "max"))
        _choice("train.select", self.select, ("last", "best"))
        _choice("train.runner", self.runner, ("ray-train", "local"))
        if self.runner == "local" and self.workers != 1:
            raise ValueError(f'train.runner = "local" trains in this process: set train.workers = 1 '
                             f'(now {self.workers}) or use train.runner = "ray-train"')
        if self.select == "best" and not self.early_stop_metric:
            raise ValueError('train.select = "best" needs train.early_stop_metric (e.g. "val/loss")')
        for name in ("epochs", "batch_size", "workers", "patience", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} = {getattr(self, name)}: must be >= 1")
        if self.max_failures < -1:
            raise ValueError(f"train.max_failures = {self.max_failures}: must be >= 0, or -1 for unlimited")
        if not self.lr > 0:
            raise ValueError(f"train.lr = {self.lr}: must be > 0")
        if not self.cpus_per_worker > 0:
            raise ValueError(f"train.cpus_per_worker = {self.cpus_per_worker}: must be > 0")


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{key} = {value!r}: choose one of {', '.join(allowed)}")


@dataclass(frozen=True)
class Simulation:
    """Data a task can make itself: a registered sampler and its parameters (cached by them)."""

    sampler: str                     # key of physml.tasks.SAMPLERS
    params: dict                     # keyword arguments of the sampler's params class


@dataclass
class DatasetSpec:
    """One split: a sharded dataset, the columns to read, and a numpy batch transform.

    ``preprocess(batch) -> batch`` maps a dict of numpy columns to the tensors' arrays (it may drop
    rows, e.g. to select a split); the platform streams it through Ray Data (training) or reads it
    directly (evaluation). ``where`` selects shards by manifest entry fields (e.g. {"L": 32}; a list
    value matches any of its items, e.g. {"case": ["Case01", "Case07"]}).
    """

    uri: str
    columns: list[str]
    preprocess: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
    where: dict = field(default_factory=dict)


class Task(Protocol):
    name: ClassVar[str]
    Config: ClassVar[type]               # frozen dataclass; sections data, model, train
    search_space: ClassVar[dict]         # default sweep space (physml.platform.space syntax)
    sweep_metric: ClassVar[tuple[str, str]]  # default sweep objective, e.g. ("val/acc", "max")

    def data_kind(self, cfg) -> tuple[str, str]:
        """(manifest kind, params.model) of the data the task accepts, e.g. ("ising", "xy")."""

    def simulation(self, cfg) -> Simulation:
        """The data to simulate when cfg.data.uri is empty."""

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """"train", "val" and "test" splits of the dataset at ``uri``."""

    def evaluation_datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """Optional: the splits `physml evaluate` scores on a new dataset (default: ``datasets``)."""

    def ingest(self, cfg, directory: str) -> Simulation:
        """Optional: the generator (``SAMPLERS`` key + params) that converts a directory of raw files
        (e.g. PROMISE12 cases) into a dataset, so `physml evaluate --data DIR` takes the directory."""

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """Optional: the trained config adjusted to another dataset's parameters (for evaluate)."""

    def model(self, cfg) -> Any:
        """A fresh torch.nn.Module."""

    def loss(self, model, batch: dict, cfg) -> dict:
        """{"loss": scalar tensor, ...other scalar tensors to log as train/<name>}."""

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Metrics, namespaced ("val/acc"); float values are logged, arrays go to ``report``."""

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        """Figures and tables (matplotlib Agg) from ``evaluate``'s results; returns their paths."""
