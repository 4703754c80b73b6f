"""The galaxy-vae task's config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig, at_least_one


@dataclass(frozen=True)
class GalaxyData:
    uri: str = ""  # dataset URI (physml simulate galaxies); "" = simulate
    n: int = 10000  # simulated galaxies
    noise: float = 10.0  # simulated pixel noise, counts (the images are divided by it)
    seed: int = 0  # root seed of the simulated galaxies
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training

    def __post_init__(self):
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")
        if not self.noise > 0:
            raise ValueError(f"data.noise = {self.noise}: must be > 0")


@dataclass(frozen=True)
class GalaxyModel:
    latent: int = 16  # the VAE's latent dimension
    channels: int = 32  # first convolution's channels
    samples: int = 64  # K of the importance-weighted bound at evaluation
    fits: int = 400  # test galaxies compared per evaluation (the Gaussian fits cost ~10 ms each)

    def __post_init__(self):
        at_least_one("model", self, ("latent", "channels", "samples", "fits"))


@dataclass(frozen=True)
class GalaxyConfig:
    data: GalaxyData = field(default_factory=GalaxyData)
    model: GalaxyModel = field(default_factory=GalaxyModel)
    train: TrainConfig = field(default_factory=TrainConfig)
