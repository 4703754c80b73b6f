"""The jet tasks' config (no torch: `physml config` and input errors answer at once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig, at_least_one

from .files import JetFiles
from .source import CHUNK


def check_pixels(pixels: int, depth: int) -> None:
    """Both networks halve the image ``depth`` times: the side must be a multiple of 2^depth."""
    step = 2**depth
    if pixels < step or pixels % step:
        ok = ", ".join(str(step * k) for k in range(1, 7))
        raise ValueError(
            f"data.pixels = {pixels}: the networks take sides that are multiples of 2^model.depth = {step} ({ok}, ...)"
        )


@dataclass(frozen=True)
class JetsData:
    uri: str = ""  # dataset URI (physml simulate|convert jets) or jet files (.h5, .root, a dir, a glob); "" = simulate
    n: int = 10000  # simulated jets per process (qcd, top)
    pt: tuple[float, float] = (500.0, 600.0)  # simulated jet pT window, GeV
    pixels: int = 40  # image pixels per side (simulated; read as stored)
    seed: int = 0  # root seed of the simulated events
    max_rows: int = 0  # use only the first shards: about this many jets (0 = all)
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training
    mass_window: tuple[float, float] = (140.0, 200.0)  # baseline: top-mass window, GeV
    files: JetFiles = field(default_factory=JetFiles)  # uri = jet files read in place: format, branches, ...

    def __post_init__(self):
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")
        if self.max_rows < 0:
            raise ValueError(f"data.max_rows = {self.max_rows}: must be >= 0 (0 = all)")
        if not 0 <= self.pt[0] < self.pt[1]:
            raise ValueError(f"data.pt = {list(self.pt)}: the pT window is empty (need 0 <= low < high, GeV)")
        if not self.mass_window[0] < self.mass_window[1]:
            raise ValueError(f"data.mass_window = {list(self.mass_window)}: need low < high, GeV")

    def where(self, processes: int = 2) -> dict:
        """Shards of the first ``max_rows`` jets: whole chunks, the same number per process."""
        if not self.max_rows:
            return {}
        return {"chunk": list(range(-(-self.max_rows // (processes * CHUNK))))}


KINDS = ("cnn", "pfn", "edgeconv")


@dataclass(frozen=True)
class JetsModel:
    kind: str = "cnn"  # jets: cnn (jet images) | pfn (Particle Flow Network) | edgeconv (ParticleNet-style)
    channels: int = 16  # first convolution width; pfn: per-particle width; edgeconv: first block's width
    depth: int = 2  # CNN: conv blocks (2x2 pooling each); autoencoder: stride-2 levels
    dense: int = 64  # CNN, pfn, edgeconv: dense layer width
    latent: int = 32  # autoencoder: code size; pfn: the summed latent space
    constituents: int = 64  # pfn, edgeconv: constituents per jet, hardest first (the rest are cut)
    neighbours: int = 8  # edgeconv: k nearest neighbours

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"model.kind = {self.kind!r}: choose one of {', '.join(KINDS)}")
        at_least_one("model", self, ("channels", "depth", "dense", "latent", "constituents", "neighbours"))

    @property
    def points(self) -> bool:
        """Whether the model reads constituents (point clouds) rather than images."""
        return self.kind != "cnn"


@dataclass(frozen=True)
class JetsConfig:
    data: JetsData = field(default_factory=JetsData)
    model: JetsModel = field(default_factory=JetsModel)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        check_pixels(self.data.pixels, self.model.depth)


@dataclass(frozen=True)
class AnomalyConfig(JetsConfig):
    """jets-anomaly's config: the autoencoder reads jet images only."""

    def __post_init__(self):
        super().__post_init__()
        if self.model.points:
            raise ValueError(f"model.kind = {self.model.kind!r}: jets-anomaly's autoencoder reads images (cnn)")
