"""stargalaxy-segmentation: unsupervised star/galaxy foreground segmentation of SDSS-like fields
with an autoencoder and hypercolumns, with and without a residual connection (the seed's part 2,
Fig. 9 and 10). The autoencoder learns to reconstruct fields (no labels, no masks); k-means on each
pixel's hypercolumn splits foreground from background; IoU against the simulator's truth masks,
next to the classical threshold at k sigma. The model also segments a real image that
scikit-image ships: the Hubble Deep Field."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import rows_of, stack_images

from .field_source import FieldsParams
from .fields import FieldParams
from .hypercolumns import (
    HypercolumnAE,
    fit_clusters,
    hypercolumns,
    iou,
    predict_masks,
    threshold_masks,
)
from .segmentation_config import SegmentationConfig, SegmentationData, SegmentationModel  # noqa: F401
from .task import stretch

COLUMNS = ["id", "image", "mask"]
CHUNK_FIELDS = 16  # fields per hypercolumn pass (memory: fields x channels x S^2 floats)


def to_arrays(batch: dict, split: int | None, holdout: int) -> dict:
    """Rows of ``split`` -> {"x": float32[n, 1, S, S] (asinh stretch), "mask": uint8[n, S, S]}."""
    keep = rows_of(batch["id"], split, holdout)
    img, mask = stack_images(batch["image"], keep), stack_images(batch["mask"], keep, np.uint8)
    return {"x": (stretch(img) if len(img) else img)[:, None], "mask": mask}


def features_of(model, x: torch.Tensor) -> np.ndarray:
    """float32[n, C, S, S]: hypercolumns of fields x [n, 1, S, S]."""
    return hypercolumns(model(x)["levels"]).float().cpu().numpy()


def segment(model, x: torch.Tensor, seed: int = 0) -> np.ndarray:
    """bool[n, S, S]: fields x clustered on their own hypercolumns (for one image: the HDF)."""
    f = features_of(model, x)
    km, fg = fit_clusters(f, x[:, 0].cpu().numpy(), seed)
    return predict_masks(km, fg, f)


def hubble_deep_field() -> np.ndarray:
    """float32[1, 1, H, W]: scikit-image's Hubble Deep Field (HST WFPC2), grey, 2x2-binned, cropped
    to multiples of 16 and asinh-stretched like the fields."""
    from skimage.data import hubble_deep_field as hdf

    img = hdf().astype(np.float32).mean(2)
    h, w = (img.shape[0] // 32) * 16, (img.shape[1] // 32) * 16
    img = img[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean((1, 3))
    img = img - np.median(img)
    sigma = 1.4826 * np.median(np.abs(img)) + 1e-6
    out = np.arcsinh(img / sigma) / np.arcsinh(img.max() / sigma)
    return np.clip(out, -0.5, 1.0)[None, None].astype(np.float32)


class StarGalaxySegmentation(Task):
    name: ClassVar[str] = "stargalaxy-segmentation"
    summary: ClassVar[str] = "unsupervised segmentation of fields of stars and galaxies from autoencoder hypercolumns"
    Config: ClassVar[type] = SegmentationConfig
    search_space: ClassVar[dict] = {
        "train.lr": {"loguniform": [1e-4, 3e-3]},
        "model.residual": {"choice": [False, True]},
    }
    metrics: ClassVar[tuple[str, ...]] = ("iou", "iou_baseline", "recon")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/iou", "max")

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("stargalaxy-fields", "sdss-r-fields")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        return Simulation(
            "stargalaxy-fields",
            FieldsParams(
                n=d.n, seed=d.seed, field=FieldParams(size=d.size, objects=d.objects, star_fraction=d.star_fraction)
            ),
        )

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        arrays = partial(to_arrays, holdout=cfg.data.holdout)
        return {
            name: DatasetSpec(uri, COLUMNS, partial(arrays, split=k))
            for name, k in (("train", 2), ("val", 0), ("test", 1))
        }

    def model(self, cfg) -> torch.nn.Module:
        m = cfg.model
        return HypercolumnAE(m.channels, m.depth, m.residual)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Mean squared reconstruction error of the stretched fields (no masks, no labels)."""
        x = batch["x"]
        return {"loss": ((model(x)["recon"] - x) ** 2).mean()}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Mean IoU of the hypercolumn masks (k-means fitted on the first fields' pixels) and of the
        threshold baseline against the truth masks; examples; the Hubble Deep Field's mask."""
        device = next(model.parameters()).device
        km, parts, examples = None, {"iou": [], "iou_baseline": [], "recon": []}, []
        for b in batches:
            xs, ms = b["x"].to(device), np.asarray(b["mask"].cpu() if torch.is_tensor(b["mask"]) else b["mask"]) > 0
            for i in range(0, len(xs), CHUNK_FIELDS):
                x, m = xs[i : i + CHUNK_FIELDS], ms[i : i + CHUNK_FIELDS]
                out = model(x)
                xi, f = x[:, 0].float().cpu().numpy(), hypercolumns(out["levels"]).float().cpu().numpy()
                if km is None:
                    km, fg = fit_clusters(f, xi, cfg.train.seed)
                pred, base = predict_masks(km, fg, f), threshold_masks(xi, cfg.model.threshold)
                parts["iou"].append(iou(pred, m))
                parts["iou_baseline"].append(iou(base, m))
                parts["recon"].append(((out["recon"] - x) ** 2).flatten(1).mean(1).float().cpu().numpy())
                examples += [(xi[j], m[j], pred[j], base[j]) for j in range(min(4 - len(examples), len(xi)))]
        if km is None:
            return {}
        res = {k: float(np.concatenate(v).mean()) for k, v in parts.items()}
        res["examples"] = examples
        if cfg.model.hdf:
            img = hubble_deep_field()
            mask = segment(model, torch.from_numpy(img).to(device), cfg.train.seed)
            res.update(hdf=(img[0, 0], mask[0]), hdf_foreground=float(mask.mean()))
        return res

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_segmentation

        return plot_segmentation(results, Path(out_dir))
