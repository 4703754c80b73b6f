"""The unsupervised phases task's config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig

from . import data as phases_data


@dataclass(frozen=True)
class VAEConfig:
    latent: int = 1  # latent dimensions (Wetzel: 1 for Ising, 2 for XY)
    hidden: int = 256  # hidden units of encoder and decoder
    beta: float = 1.0  # weight of the KL term (eq. (2) of the seed: 1)


@dataclass(frozen=True)
class UnsupervisedConfig:
    data: phases_data.IsingData = field(default_factory=lambda: phases_data.IsingData(L=(32,), exclude=0.0))
    model: VAEConfig = field(default_factory=VAEConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
