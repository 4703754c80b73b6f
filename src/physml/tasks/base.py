"""The Task contract: how to add an experiment to physml.

A task is one class, a subclass of :class:`Task`, with a typed, frozen config. It says which data it
needs, builds its model, computes its loss and its evaluation metrics, and draws its figures. The
platform owns everything else: Ray, device placement, DDP, AMP, optimizers, schedulers, checkpoints,
early stopping, MLflow. Tasks import neither ray nor mlflow nor ``physml.platform``, so one can be
imported and trained for a step in a plain process (the contract tests do exactly that).

To add a task: write a package ``tasks/<name>/`` with a :class:`Task` subclass, ship
``configs/<task name>/smoke.toml`` (< 30 s on one core) and ``configs/<task name>/default.toml`` (the
published size), and add one line ``"<task name>": "physml.tasks.<name>.task:<Class>"`` to
``physml.tasks.TASKS``. The docs' developer guide walks through ``physml.tasks.example``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from physml.tasks.sources import FileReader

MAX_EPOCHS = 100_000  #: train.epochs above this is a typo, not an experiment


def at_least_one(section: str, obj: Any, names: tuple[str, ...]) -> None:
    """Raise ValueError naming the first field of ``names`` below 1, as ``section.name`` (config checks)."""
    for name in names:
        if getattr(obj, name) < 1:
            raise ValueError(f"{section}.{name} = {getattr(obj, name)}: must be >= 1")


@dataclass(frozen=True)
class TrainConfig:
    """The [train] section every task has; read by the platform only."""

    epochs: int = 10  # passes over the training data
    batch_size: int = 128  # per worker
    lr: float = 1e-3  # learning rate
    optimizer: str = "adam"  # adam | adamw | sgd
    weight_decay: float = 0.0  # L2 penalty on the weights (decoupled with adamw)
    momentum: float = 0.9  # sgd only
    scheduler: str = "none"  # none | cosine | step (x0.1 every third of the epochs)
    workers: int = 1  # Ray Train workers (DDP when > 1)
    runner: str = "ray-train"  # ray-train | local (the loop in the driver process: 1 worker, splits
    # in memory, no worker-group start-up; quick runs on a laptop)
    gpu: bool = False  # one GPU per worker
    cpus_per_worker: float = 1.0  # leave CPUs for Ray Data on small machines
    amp: bool = True  # mixed precision, applied on CUDA only
    val_every: int = 1  # validate after the first epoch, every val_every-th and the last (an expensive
    # evaluation, e.g. importance-sampled likelihoods); early stopping counts validated epochs only
    early_stop_metric: str = ""  # e.g. "val/loss"; "" disables early stopping
    early_stop_mode: str = "min"  # min | max
    patience: int = 5  # epochs without improvement before stopping
    select: str = "last"  # model kept after training: last epoch | best (by early_stop_metric)
    seed: int = 0  # torch seed (worker rank is added)
    max_failures: int = 0  # worker-group restarts from the last checkpoint (a node lost on a
    # cluster); -1 = unlimited. A non-finite loss is retried too.
    log_every: int = 10  # steps between train/loss metrics
    init_from: str = ""  # start from these weights (fine-tuning, transfer): runs:/RUN_ID/model
    # or a model directory of the same task and architecture

    def __post_init__(self):
        _choice("train.optimizer", self.optimizer, ("adam", "adamw", "sgd"))
        _choice("train.scheduler", self.scheduler, ("none", "cosine", "step"))
        _choice("train.early_stop_mode", self.early_stop_mode, ("min", "max"))
        _choice("train.select", self.select, ("last", "best"))
        _choice("train.runner", self.runner, ("ray-train", "local"))
        if self.runner == "local" and self.workers != 1:
            raise ValueError(
                f'train.runner = "local" trains in this process: set train.workers = 1 '
                f'(now {self.workers}) or use train.runner = "ray-train"'
            )
        if self.select == "best" and not self.early_stop_metric:
            raise ValueError('train.select = "best" needs train.early_stop_metric (e.g. "val/loss")')
        if self.select == "best" and self.val_every != 1:
            raise ValueError(f'train.select = "best" ranks every epoch: set train.val_every = 1 (now {self.val_every})')
        at_least_one("train", self, ("epochs", "batch_size", "workers", "patience", "log_every", "val_every"))
        if self.max_failures < -1:
            raise ValueError(f"train.max_failures = {self.max_failures}: must be >= 0, or -1 for unlimited")
        if not self.lr > 0:
            raise ValueError(f"train.lr = {self.lr}: must be > 0")
        if self.epochs > MAX_EPOCHS:
            raise ValueError(f"train.epochs = {self.epochs}: at most {MAX_EPOCHS}")
        if not self.weight_decay >= 0:
            raise ValueError(f"train.weight_decay = {self.weight_decay}: must be >= 0")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"train.momentum = {self.momentum}: must be in [0, 1)")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"train.seed = {self.seed}: must be in 0..2^63-1")
        if not self.cpus_per_worker > 0:
            raise ValueError(f"train.cpus_per_worker = {self.cpus_per_worker}: must be > 0")


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{key} = {value!r}: choose one of {', '.join(allowed)}")


@dataclass(frozen=True)
class Simulation:
    """Data a task can make itself: a data source (``physml.tasks.sources``) and its parameters; the
    platform caches the dataset by them (by the source's manifest parameters)."""

    sampler: str  # key of physml.tasks.SOURCES, or an import path "pkg.module:Class"
    params: Any  # an instance of the source's ``params_type`` (or plain values for its ``from_dict``)

    def source(self) -> Any:
        """The data source (:class:`physml.tasks.sources.DataSource`) that makes this data."""
        from physml.tasks import load, source_path

        return load(source_path(self.sampler)).of(self.params)


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
    reader: FileReader | None = None  #: files in the field's own format at ``uri``, read in place (see reader())


class Task(ABC):
    """An experiment: data, model, loss, metrics and figures, for one typed config.

    Class attributes: ``name`` (the registry name), ``Config`` (a frozen dataclass with sections
    ``data``, ``model`` and ``train``; every field has a default), ``search_space`` (the default
    sweep space, ``physml.platform.sweep.space`` syntax), ``sweep_metric`` (the default sweep objective,
    e.g. ``("val/acc", "max")``), ``metrics`` (the float metrics :meth:`evaluate` returns for every
    config: what a sweep may optimize as ``val/<name>``) and ``summary`` (one line for `physml tasks`).

    The abstract members must be implemented; the others have working defaults.
    """

    name: ClassVar[str]
    Config: ClassVar[type]
    search_space: ClassVar[dict] = {}
    sweep_metric: ClassVar[tuple[str, str]] = ("val/loss", "min")
    metrics: ClassVar[tuple[str, ...]] = ()
    summary: ClassVar[str] = ""

    @abstractmethod
    def data_kind(self, cfg) -> tuple[str, str | tuple[str, ...]]:
        """(manifest kind, params.model) of the data the task accepts, e.g. ("ising", "xy"); the model
        may be a tuple of several (e.g. simulated and converted jets)."""

    @abstractmethod
    def simulation(self, cfg) -> Simulation:
        """The data to simulate when ``cfg.data.uri`` is empty."""

    @abstractmethod
    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """The "train", "val" and "test" splits of the dataset at ``uri`` (several test splits may be
        named "test/<part>")."""

    def evaluation_datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """The splits `physml evaluate` scores on a new dataset (default: :meth:`datasets`)."""
        return self.datasets(cfg, uri)

    def ingest(self, cfg, directory: str) -> Simulation | None:
        """The source that converts a directory of raw files (e.g. PROMISE12 cases) into a dataset,
        so that `physml evaluate --data DIR` takes the directory; None (default): no such source."""
        return None

    def reader(self, cfg, uri: str) -> FileReader | None:
        """The reader of files in the field's own format at ``uri`` (e.g. the top-tagging HDF5 table),
        read in place without conversion; None (default) when ``uri`` is not such files. A task that
        returns one also passes it to its :class:`DatasetSpec`s."""
        return None

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """The trained config adjusted to another dataset's manifest params (e.g. the lattice sizes it
        holds), for `physml run` on a user's data and `physml evaluate`. Default: unchanged."""
        return cfg_dict

    @abstractmethod
    def model(self, cfg) -> Any:
        """A fresh ``torch.nn.Module``."""

    @abstractmethod
    def loss(self, model, batch: dict, cfg) -> dict:
        """``{"loss": scalar tensor, ...}`` for one batch (a dict of tensors as the split's
        ``preprocess`` made them); the other scalar tensors are logged as ``train/<name>``. With
        several :meth:`param_groups`, :meth:`training_step` gives each group's loss instead."""

    @abstractmethod
    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Metrics over ``batches`` (the model in eval mode, no gradients): float values are logged
        (as ``val/<key>`` per epoch, ``test/<key>`` at the end), other values go to :meth:`report`."""

    @abstractmethod
    def report(self, results: dict, out_dir: Path) -> list[Path]:
        """Figures and tables (matplotlib Agg) from :meth:`evaluate`'s results over the test splits, as
        the platform hands them on: float values keyed ``test/<key>``, the others unchanged. Returns
        the paths written under ``out_dir``."""

    # -- hooks of the training loop: defaults give one optimizer over every trainable parameter --

    def param_groups(self, model, cfg) -> dict[str, list]:
        """Parameter groups, each trained by its own optimizer (the ``[train]`` optimizer, learning
        rate and scheduler), stepped in this order at every training step: e.g. ``{"discriminator":
        ..., "autoencoder": ...}`` for adversarial training. The groups must not share a parameter.
        Default: one group "model" of every parameter that requires a gradient."""
        return {"model": [p for p in model.parameters() if p.requires_grad]}

    def training_step(self, model, batch: dict, cfg, group: str, step: int) -> dict:
        """The loss of ``group`` for one batch at training step ``step`` (0-based, counted over the
        whole run): ``{"loss": scalar tensor, ...}``. The loop back-propagates it and steps that
        group's optimizer before asking for the next group's loss, so a later group sees the earlier
        ones' update (alternating adversarial training). Default: :meth:`loss`."""
        return self.loss(model, batch, cfg)

    def on_step_end(self, model, step: int, cfg) -> None:
        """Called after every group's optimizer stepped at training step ``step`` (``model``
        unwrapped from DDP): e.g. a moving average of weights. Default: nothing."""
        return None

    def before_evaluate(self, model, cfg) -> None:
        """Called before each validation pass and the final test evaluation (``model`` unwrapped, in
        eval mode). Default: nothing."""
        return None

    def example(self) -> list[str]:
        """``--set`` overrides (``["data.n=40"]``) of the smoke config that make the smallest
        dataset the task's splits still work on: the contract tests simulate it in-process and run
        one loss step and the evaluation on it. Default: none (the smoke config as it is)."""
        return []
