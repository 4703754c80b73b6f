"""The star/galaxy segmentation task's config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig


@dataclass(frozen=True)
class SegmentationData:
    uri: str = ""  # dataset URI (physml simulate stargalaxy-fields); "" = simulate
    n: int = 2000  # simulated fields
    size: int = 64  # pixels per side (0.396"/px)
    objects: float = 4.0  # mean objects per field
    star_fraction: float = 0.5  # simulated: fraction of stars among the objects
    seed: int = 0  # root seed of the simulated fields
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training

    def __post_init__(self):
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")


@dataclass(frozen=True)
class SegmentationModel:
    channels: int = 8  # first level's width (doubling per level)
    depth: int = 3  # stride-2 levels below the first
    residual: bool = False  # add the first level's activations to the decoder's output features
    threshold: float = 1.5  # the baseline: pixels above threshold x noise sigma
    hdf: bool = True  # also segment scikit-image's Hubble Deep Field (logged as an overlay)

    def __post_init__(self):
        if self.channels < 1 or self.depth < 1:
            raise ValueError(f"model.channels = {self.channels}, model.depth = {self.depth}: must be >= 1")


@dataclass(frozen=True)
class SegmentationConfig:
    data: SegmentationData = field(default_factory=SegmentationData)
    model: SegmentationModel = field(default_factory=SegmentationModel)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        step = 2**self.model.depth
        if self.data.size % step:
            raise ValueError(f"data.size = {self.data.size}: must be a multiple of 2^model.depth = {step}")
