"""The example task's config (no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig


@dataclass(frozen=True)
class OscillatorData:
    uri: str = ""  # dataset URI; "" = simulate with the values below
    n: int = 4000  # oscillators to simulate
    steps: int = 64  # samples per trajectory
    noise: float = 0.05  # Gaussian noise on x
    gamma: tuple[float, float] = (0.05, 0.5)  # damping rates simulated, 1/s (uniform)
    omega0: tuple[float, float] = (1.0, 3.0)  # natural frequencies simulated, rad/s (uniform)
    seed: int = 0  # root seed of the simulated oscillators
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training


@dataclass(frozen=True)
class OscillatorModel:
    hidden: int = 64  # width of the two hidden layers


@dataclass(frozen=True)
class OscillatorConfig:
    data: OscillatorData = field(default_factory=OscillatorData)
    model: OscillatorModel = field(default_factory=OscillatorModel)
    train: TrainConfig = field(default_factory=TrainConfig)
