"""The massmaps tasks' config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig, at_least_one


@dataclass(frozen=True)
class MassMapData:
    uri: str = ""  # dataset URI (physml simulate massmaps); "" = simulate
    n: int = 3000  # simulated maps per cosmology
    pixels: int = 128  # simulated pixels per side (004's maps: 128 x 128)
    size: float = 3.5  # simulated patch side, degrees
    field: str = "lognormal"  # simulated field: lognormal | gaussian (no information beyond C_l)
    cosmologies: tuple[float, ...] = (0.25, 0.876, 0.35, 0.741)  # Omega_m, sigma_8 of each class, in turn
    seed: int = 0  # root seed of the simulated maps
    ngal: float = 30.0  # shape noise added when read: galaxies per arcmin^2 (0: noiseless)
    sigma_e: float = 0.26  # shape noise per shear component
    smoothing: float = 1.0  # Gaussian smoothing (sigma, arcmin) of the noisy input
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training

    def __post_init__(self):
        if len(self.cosmologies) < 4 or len(self.cosmologies) % 2:
            raise ValueError(f"data.cosmologies = {list(self.cosmologies)}: give two or more (Omega_m, sigma_8) pairs")
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")
        if not (self.ngal >= 0 and self.sigma_e >= 0 and self.smoothing >= 0):
            raise ValueError(
                f"data.ngal, sigma_e, smoothing = {self.ngal}, {self.sigma_e}, {self.smoothing}: must be >= 0"
            )


@dataclass(frozen=True)
class MassMapModel:
    channels: int = 16  # first convolution's channels (doubled at each of the levels)
    levels: int = 4  # stride-2 levels (classifier) or U-Net levels (denoiser)
    peaks_sigma: float = 3.0  # denoiser: peaks above this many rms (of the clean maps, of the estimates) count

    def __post_init__(self):
        at_least_one("model", self, ("channels", "levels"))


@dataclass(frozen=True)
class MassMapConfig:
    data: MassMapData = field(default_factory=MassMapData)
    model: MassMapModel = field(default_factory=MassMapModel)
    train: TrainConfig = field(default_factory=TrainConfig)
