"""The climate tasks' config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig, at_least_one

from .cf import CHANNELS

LIU_CHANNELS = ("TMQ", "V850", "PSL", "U850", "T500", "UBOT", "T200", "VBOT")  #: Liu et al. 2016's 8


@dataclass(frozen=True)
class ClimateData:
    uri: str = ""  # CF NetCDF / Zarr: a file, directory, glob or store on any fsspec filesystem; "" = simulate
    labels: str = ""  # a dataset holding LABELS (`physml detect climate --out`); "" = LABELS in the data
    channels: tuple[str, ...] = ("TMQ", "U850", "V850", "PSL", "T200", "T500")  # variables the net reads
    nan: str = "error"  # NaN or fill values in a field: error | mean (replaced by the channel's mean)
    mean: tuple[float, ...] = ()  # per-channel normalisation: filled from the training data, kept with the run
    std: tuple[float, ...] = ()  # per-channel standard deviation, filled with data.mean
    crop: int = 96  # segmentation: training on random crops of this many pixels (0: whole fields)
    event: str = "tc"  # patches: tc (tropical cyclones) | ar (atmospheric rivers)
    size: int = 32  # patches: window side, pixels
    steps: int = 1024  # simulated time steps
    grid: str = "192x288"  # simulated grid
    seed: int = 0  # simulation seed

    def __post_init__(self):
        bad = [c for c in self.channels if not c or not isinstance(c, str)]
        if not self.channels or bad:
            raise ValueError(f"data.channels = {list(self.channels)}: give variable names, e.g. {list(CHANNELS[:4])}")
        if self.nan not in ("error", "mean"):
            raise ValueError(f"data.nan = {self.nan!r}: choose error or mean")
        if self.event not in ("tc", "ar"):
            raise ValueError(f"data.event = {self.event!r}: choose tc or ar")
        if len(self.mean) != len(self.std) or (self.mean and len(self.mean) != len(self.channels)):
            raise ValueError(f"data.mean / data.std: one value per channel ({len(self.channels)}), or neither")
        if self.crop < 0 or self.size < 8:
            raise ValueError(f"data.crop = {self.crop}, data.size = {self.size}: need crop >= 0 and size >= 8")
        at_least_one("data", self, ("steps",))


@dataclass(frozen=True)
class ClimateModel:
    layers: int = 4  # U-Net levels (segmentation) or conv stages (patches)
    channels: int = 16  # first level's channels, doubled per level
    loss: str = "ce"  # segmentation: ce (weighted cross-entropy) | jaccard | ce+jaccard
    weights: tuple[float, ...] = (1.0, 3.0, 2.0)  # cross-entropy weight of background, TC, AR

    def __post_init__(self):
        at_least_one("model", self, ("layers", "channels"))
        if self.loss not in ("ce", "jaccard", "ce+jaccard"):
            raise ValueError(f"model.loss = {self.loss!r}: choose ce, jaccard or ce+jaccard")
        if len(self.weights) != 3 or min(self.weights) <= 0:
            raise ValueError(f"model.weights = {list(self.weights)}: three positive weights (background, TC, AR)")


@dataclass(frozen=True)
class ClimateConfig:
    data: ClimateData = field(default_factory=ClimateData)
    model: ClimateModel = field(default_factory=ClimateModel)
    train: TrainConfig = field(default_factory=TrainConfig)
