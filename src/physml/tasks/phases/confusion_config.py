"""Learning by confusion's config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig

from . import data as phases_data


@dataclass(frozen=True)
class ConfusionModel:
    channels: int = 4  # per classifier
    hidden: int = 8  # hidden units of each network of the ensemble
    proposals: str = "1.0:3.5:26"  # proposed Tc' (start:stop:count or list); span the data's T range


@dataclass(frozen=True)
class ConfusionConfig:
    data: phases_data.IsingData = field(default_factory=lambda: phases_data.IsingData(L=(16,), exclude=0.0))
    model: ConfusionModel = field(default_factory=ConfusionModel)
    train: TrainConfig = field(default_factory=TrainConfig)
