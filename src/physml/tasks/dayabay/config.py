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
    latent: int = 16  # dayabay-unsupervised: the autoencoder's code size
    corrupt: float = 0.1  # dayabay-unsupervised: fraction of PMTs zeroed in the input (denoising)
    embed: int = 1500  # dayabay-unsupervised: events embedded by t-SNE per evaluation

    def __post_init__(self):
        at_least_one("model", self, ("channels", "dense", "latent", "embed"))
        if not 0 <= self.corrupt < 1:
            raise ValueError(f"model.corrupt = {self.corrupt}: a fraction in [0, 1)")


@dataclass(frozen=True)
class DayaBayConfig:
    data: DayaBayData = field(default_factory=DayaBayData)
    model: DayaBayModel = field(default_factory=DayaBayModel)
    train: TrainConfig = field(default_factory=TrainConfig)
