"""The dayabay task's config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig, at_least_one


@dataclass(frozen=True)
class DayaBayData:
    uri: str = ""  # dataset URI (physml simulate dayabay); "" = simulate
    n: int = 4000  # simulated events per class
    seed: int = 0  # root seed of the simulated events
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training

    def __post_init__(self):
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")


@dataclass(frozen=True)
class DayaBayModel:
    channels: int = 16  # first block's convolution channels (the second has twice as many)
    dense: int = 64  # dense layer width

    def __post_init__(self):
        at_least_one("model", self, ("channels", "dense"))


@dataclass(frozen=True)
class DayaBayConfig:
    data: DayaBayData = field(default_factory=DayaBayData)
    model: DayaBayModel = field(default_factory=DayaBayModel)
    train: TrainConfig = field(default_factory=TrainConfig)
