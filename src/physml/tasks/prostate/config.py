"""The prostate task's config (no torch: `physml config` and input errors answer at once)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig

from .phantom import SITES


def residual_levels(spec: str) -> range:
    """ "conv1-4" -> levels 1..4 (1-based); "none" -> no residual level."""
    if spec == "none":
        return range(0)
    m = re.fullmatch(r"conv(\d+)-(\d+)", spec)
    if not m or int(m.group(1)) < 1 or int(m.group(1)) > int(m.group(2)):
        raise ValueError(f'model.residual = {spec!r}: use "none" or "convA-B" (levels A..B, e.g. conv1-4)')
    return range(int(m.group(1)), int(m.group(2)) + 1)


def check_arch(layers: int, down, up, dilation, residual: str, norm: str, dims: int) -> None:
    """Raise ValueError naming the first inconsistent architecture value."""
    if layers not in range(2, 8):
        raise ValueError(f"model.layers = {layers}: choose 2..7")
    if len(down) != layers:
        raise ValueError(f"model.down = {list(down)}: needs one channel count per level ({layers})")
    if len(up) < layers:
        raise ValueError(
            f"model.up = {list(up)}: needs >= {layers} entries ({layers - 1} up levels, then the output channels)"
        )
    if up[-1] != 1:
        raise ValueError(f"model.up = {list(up)}: the last entry is the output map and must be 1")
    if len(dilation) > layers or any(d < 1 for d in dilation):
        raise ValueError(f"model.dilation = {list(dilation)}: at most {layers} values >= 1")
    if any(c < 1 for c in list(down) + list(up)):
        raise ValueError("model.down / model.up: channel counts must be >= 1")
    levels = residual_levels(residual)
    if levels and levels[-1] > layers:
        raise ValueError(f"model.residual = {residual!r}: the net has {layers} levels")
    if norm not in ("minmax", "bn"):
        raise ValueError(f"model.norm = {norm!r}: choose minmax or bn")
    if dims not in (2, 3):
        raise ValueError(f"model.dims = {dims}: choose 2 or 3")


def check_size(size: int, layers: int, what: str = "data.size") -> None:
    """The input must halve cleanly at every pooling level."""
    step = 2 ** (layers - 1)
    if size % step:
        raise ValueError(
            f"{what} = {size}: a {layers}-level U-Net needs a multiple of {step} "
            f"(e.g. {max(step, size // step * step)} or {size // step * step + step})"
        )


@dataclass(frozen=True)
class ProstateData:
    """The [data] section: a dataset (uri) or the simulated cases to make (cached by these values)."""

    uri: str = ""  # dataset URI (physml simulate/convert prostate); "" = simulate below
    cases: int = 50  # simulated cases (PROMISE12 has 50 labelled)
    sites: str = "ABCD"  # simulated sites dealt to cases in turn (phantom.SITES)
    size: int = 64  # pixels per side of a slice after resampling
    spacing: float = 2.0  # in-plane pixel size after resampling, mm
    seed: int = 0  # simulation seed
    depth: int = 0  # 0 = 2D slices; D >= 2 = 3D slabs of D slices (with model.dims = 3)
    val_cases: int = 7  # cases held out for validation (per-epoch metrics, early stopping)
    test_cases: int = 8  # cases held out for the final test
    split_seed: int = 0  # permutation of the cases into train/val/test

    def __post_init__(self):
        if self.val_cases < 1 or self.test_cases < 1:
            raise ValueError(f"data.val_cases = {self.val_cases}, data.test_cases = {self.test_cases}: each >= 1")
        if self.cases < self.val_cases + self.test_cases + 1:
            raise ValueError(
                f"data.cases = {self.cases}: needs > val_cases + test_cases = {self.val_cases + self.test_cases}"
            )
        bad = [s for s in self.sites if s not in SITES]
        if bad or not self.sites:
            raise ValueError(f"data.sites = {self.sites!r}: use letters of {''.join(SITES)}")


@dataclass(frozen=True)
class ProstateModel:
    """The [model] section: the axes of the source's Table 3 plus the input normalization."""

    layers: int = 4  # encoder levels (Table 3: 4 or 5)
    down: tuple[int, ...] = (20, 20, 20, 20)  # channels per encoder level
    up: tuple[int, ...] = (20, 20, 10, 5, 1)  # decoder channels per up level, extra convs, output (1)
    dilation: tuple[int, ...] = (2, 2, 1, 1)  # per encoder level; missing levels = 1
    residual: str = "conv1-4"  # residual encoder levels: "none" or "convA-B"
    norm: str = "bn"  # minmax (0-1 only) | bn (0-1, then a learned BN CNN)
    dims: int = 2  # 2 = slices, 3 = slabs (data.depth > 0)
    threshold: float = 0.5  # probability above which a pixel is gland
    augment: bool = True  # training: random left-right flips (pelvis symmetry)

    def __post_init__(self):
        check_arch(self.layers, self.down, self.up, self.dilation, self.residual, self.norm, self.dims)
        if not 0 < self.threshold < 1:
            raise ValueError(f"model.threshold = {self.threshold}: must be in (0, 1)")


@dataclass(frozen=True)
class ProstateConfig:
    data: ProstateData = field(default_factory=ProstateData)
    model: ProstateModel = field(default_factory=ProstateModel)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self):
        check_size(self.data.size, self.model.layers)
        if (self.model.dims == 3) != (self.data.depth > 0):
            raise ValueError(
                f"model.dims = {self.model.dims} with data.depth = {self.data.depth}: 2D nets read "
                "slices (depth 0), 3D nets slabs (depth >= 2)"
            )
        if self.data.depth:
            check_size(self.data.depth, self.model.layers, "data.depth")
