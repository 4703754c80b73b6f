"""prostate: PROMISE12 prostate MRI segmentation with a dilated residual U-Net and a learned BN normalizer.

Source: [000] part 3 (the docs' Design page lists the sources): 0-1 normalization vs a BatchNorm CNN
as normalizer (Fig. 12), the Dice coefficient D = 2 sum p g / (sum p^2 + sum g^2) as the loss, a
U-Net with dilation and residual connections (Fig. 13), Table 3: DSC 0.729-0.779 without BN,
0.790-0.846 with. Slices are 2D samples; splits, Dice and Hausdorff 95 are per case (3D), never per
slice."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from physml.tasks.base import DatasetSpec, Simulation, Task

from .config import ProstateConfig, ProstateData, ProstateModel, check_arch, check_size  # noqa: F401
from .metrics import soft_dice
from .source import ProstateParams
from .unet import UNet

PUBLISHED = {"dsc_minmax": (0.729, 0.779), "dsc_bn": (0.790, 0.846)}
COLUMNS = ["case", "slice", "slices", "depth", "image", "label", "vmin", "vmax", "spacing_x", "spacing_y", "spacing_z"]


def to_arrays(batch: dict, index: dict[str, int]) -> dict:
    """Rows -> {"x": float32[n, 1, (D,) H, W] 0-1 per volume, "y": the same shape, gland mask,
    "case": int32[n] (index of the case id), "slice": int32[n] (first slice), "slices": int32[n]
    (the case's slice count), "spacing": float32[n, 3] (z, y, x) mm}. D only for slab rows."""
    n = len(batch["case"])
    img = np.stack(batch["image"]).astype(np.float32) if n else np.zeros((0, 1), np.float32)
    depth = int(batch["depth"][0]) if n else 1
    side = int(round(np.sqrt(img.shape[1] // depth)))
    lo, hi = np.asarray(batch["vmin"], np.float32)[:, None], np.asarray(batch["vmax"], np.float32)[:, None]
    x = np.clip((img - lo) / np.maximum(hi - lo, 1e-12), 0.0, 1.0)
    y = np.stack(batch["label"]).astype(np.float32) if n else np.zeros_like(x)
    spacing = np.stack([np.asarray(batch[f"spacing_{a}"], np.float32) for a in "zyx"], axis=1)
    shape = (n, 1, side, side) if depth == 1 else (n, 1, depth, side, side)
    return {
        "x": x.reshape(shape),
        "y": y.reshape(shape),
        "case": np.array([index[c] for c in batch["case"]], np.int32),
        "slice": np.asarray(batch["slice"], np.int32),
        "slices": np.asarray(batch["slices"], np.int32),
        "spacing": spacing,
    }


def case_split(cases: list[str], d: ProstateData) -> dict[str, list[str]]:
    """Sorted case ids permuted by ``split_seed`` into val, test and train (disjoint, by case)."""
    order = [cases[i] for i in np.random.default_rng(d.split_seed).permutation(len(cases))]
    v, t = d.val_cases, d.test_cases
    if len(cases) < v + t + 1:
        raise ValueError(
            f"the dataset has {len(cases)} cases; data.val_cases + data.test_cases = {v + t} leaves none for training"
        )
    return {"val": sorted(order[:v]), "test": sorted(order[v : v + t]), "train": sorted(order[v + t :])}


def dataset_cases(uri: str) -> dict[str, str]:
    """{case id: site} of the shards listed in a dataset's manifest.json (one shard per case)."""
    import json

    import fsspec

    with fsspec.open(f"{str(uri).rstrip('/')}/manifest.json", "rt") as f:
        shards = json.load(f)["shards"]
    return {s["case"]: s.get("site", "") for s in shards if "case" in s}


class ProstateSegmentation(Task):
    name: ClassVar[str] = "prostate"
    summary: ClassVar[str] = (
        "PROMISE12 prostate MRI segmentation: a dilated residual U-Net with a learned BatchNorm normalizer"
    )
    Config: ClassVar[type] = ProstateConfig
    search_space: ClassVar[dict] = {
        "train.lr": {"loguniform": [3e-4, 3e-3]},
        "model.residual": {"choice": ["none", "conv1-2", "conv1-4"]},
    }
    metrics: ClassVar[tuple[str, ...]] = ("loss", "dsc", "dsc_min", "dsc_sd", "hd95")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/dsc", "max")

    def __init__(self):
        self.cases: list[str] = []  # all case ids of the dataset (tensor "case" indexes it)
        self.sites: dict[str, str] = {}  # case id -> site

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("prostate", "t2w")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        return Simulation(
            "prostate",
            ProstateParams(cases=d.cases, sites=d.sites, size=d.size, spacing=d.spacing, seed=d.seed, depth=d.depth),
        )

    def ingest(self, cfg, directory: str) -> Simulation:
        """A directory of real cases (PROMISE12 .mhd / NIfTI) on the grid the model was trained on."""
        d = cfg.data
        return Simulation("prostate", ProstateParams(src=str(directory), size=d.size, spacing=d.spacing, depth=d.depth))

    def _index(self, uri: str) -> dict[str, int]:
        self.sites = dataset_cases(uri)
        self.cases = sorted(self.sites)
        return {c: i for i, c in enumerate(self.cases)}

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        index = self._index(uri)
        split = case_split(self.cases, cfg.data)
        pre = partial(to_arrays, index=index)
        return {k: DatasetSpec(uri, COLUMNS, pre, {"case": split[k]}) for k in ("train", "val", "test")}

    def evaluation_datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """`physml evaluate`: every labelled case of a new dataset is a test case."""
        index = self._index(uri)
        return {"test": DatasetSpec(uri, COLUMNS, partial(to_arrays, index=index), {"case": self.cases})}

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """A trained config on another dataset: its slice size is taken; its pixel size must match."""
        d = cfg_dict.setdefault("data", {})
        trained = float(d.get("spacing", ProstateData.spacing))
        if abs(float(data_params.get("spacing", trained)) - trained) > 1e-6:
            raise ValueError(
                f"the model was trained on {trained} mm pixels, the data has "
                f"{data_params['spacing']} mm: convert it with --spacing {trained}"
            )
        depth = int(data_params.get("depth", 0))
        if depth != int(d.get("depth", 0)):
            raise ValueError(
                f"the model was trained on data.depth = {d.get('depth', 0)} rows, the data has depth "
                f"{depth}: convert it with --depth {d.get('depth', 0)}"
            )
        d["size"] = int(data_params.get("size", d.get("size", ProstateData.size)))
        return cfg_dict

    def model(self, cfg) -> torch.nn.Module:
        m = cfg.model
        return UNet(m.layers, m.down, m.up, m.dilation, m.residual, m.norm, m.dims)

    def loss(self, model, batch: dict, cfg) -> dict:
        """1 - soft Dice (the source's loss) over the batch; slices flipped left-right at random."""
        x, y = batch["x"], batch["y"]
        if cfg.model.augment:
            flip = (torch.rand(len(x), device=x.device) < 0.5).view(-1, *[1] * (x.dim() - 1))
            x, y = torch.where(flip, x.flip(-1), x), torch.where(flip, y.flip(-1), y)
        d = soft_dice(torch.sigmoid(model(x)), y)
        return {"loss": 1.0 - d, "soft_dice": d}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Per-case 3D DSC and HD95 (mm) from the slices, their mean; per-case rows and overlays."""
        from .evaluation import collect, per_case

        got = collect(model, batches)
        if got is None:
            return {}
        return per_case(got, cfg.model.threshold, self.cases, self.sites)

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_prostate

        return plot_prostate(results, Path(out_dir))
