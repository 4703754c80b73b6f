"""The gpe task's config (no torch: `physml config gpe` and input errors answer at once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig, at_least_one

KINDS = ("resnet", "cnn")


@dataclass(frozen=True)
class GPEData:
    uri: str = ""  # dataset URI (physml simulate gpe); "" = simulate with the values below
    n: int = 8000  # simulated ground states
    dim: int = 1  # simulated: 1 or 2 dimensions
    points: int = 128  # simulated: grid points per side
    box: float = 20.0  # simulated: box side, oscillator lengths
    g_max: float = 100.0  # simulated: interactions log-uniform in 1 + g over [0, g_max]
    seed: int = 0  # root seed of the simulated potentials
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training

    def __post_init__(self):
        if self.dim not in (1, 2):
            raise ValueError(f"data.dim = {self.dim}: 1 or 2")
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")
        if not 0 <= self.g_max < 1e5:
            raise ValueError(f"data.g_max = {self.g_max}: must be in [0, 1e5)")


@dataclass(frozen=True)
class GPEModel:
    kind: str = "resnet"  # resnet (residual blocks, Liang et al. 2018) | cnn (the same layers without skips)
    channels: int = 32  # convolution channels
    blocks: int = 6  # residual blocks (two dilated 3-point convolutions each)
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # cycled over the blocks: the receptive field

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"model.kind = {self.kind!r}: choose one of {', '.join(KINDS)}")
        at_least_one("model", self, ("channels", "blocks"))
        if not self.dilations or min(self.dilations) < 1:
            raise ValueError(f"model.dilations = {list(self.dilations)}: integers >= 1")


@dataclass(frozen=True)
class GPEConfig:
    data: GPEData = field(default_factory=GPEData)
    model: GPEModel = field(default_factory=GPEModel)
    train: TrainConfig = field(default_factory=TrainConfig)
