"""The supervised phase classifier's config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig

from . import data as phases_data


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "cnn"  # cnn (any L, global pooling) | dense (the paper's net, train_L only)
    channels: int = 16  # cnn: convolution channels
    hidden: int = 32  # cnn: head width; dense: hidden sigmoid units (paper: 100)

    def __post_init__(self):
        if self.kind not in ("cnn", "dense"):
            raise ValueError(f"model.kind = {self.kind!r}: choose one of cnn, dense")


@dataclass(frozen=True)
class SupervisedConfig:
    data: phases_data.IsingData = field(default_factory=phases_data.IsingData)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
