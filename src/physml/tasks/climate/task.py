"""climate: extreme-weather detection on CF NetCDF / Zarr archives, read in place.

Source: [004] (the docs' Design page lists the sources): CNNs classifying tropical cyclones (TC) and
atmospheric rivers (AR) in patches at 99 % and about 90 % (Liu et al., arXiv 1605.01156 (2016)); per-pixel
segmentation of CAM5 fields as in ClimateNet (Kashinath et al., GMD 14, 107 (2021): DeepLabv3+ IoU
about 0.34 TC, 0.40 AR on expert labels) and DeepCAM (Kurth et al. 2018, labels from TECA's
heuristics). Data: any CF dataset with the channels (:mod:`.reader`), or the simulator's (:mod:`.source`)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from physml.tasks.base import DatasetSpec, Simulation, Task

from .config import ClimateConfig
from .nets import PatchCNN, segmenter
from .reader import reader_of
from .source import ClimateParams

PUBLISHED_IOU = {"tc": 0.34, "ar": 0.40}  #: ClimateNet's DeepLabv3+ on expert labels (Kashinath et al. 2021)
PUBLISHED_ACC = {"tc": 0.99, "ar": 0.90}  #: Liu et al. 2016, patch classification


def normalised(flat: np.ndarray, d, shape: tuple[int, ...]) -> np.ndarray:
    """float32[n, C, *shape] from rows float32[n, C * prod(shape)]: (x - mean) / std per channel, NaN
    (missing values, allowed by data.nan = "mean") set to 0, the channel's mean."""
    c = len(d.channels)
    x = (
        np.stack(list(flat)).astype(np.float32).reshape(-1, c, *shape)
        if len(flat)
        else np.zeros((0, c, *shape), np.float32)
    )
    if d.mean:
        x = (x - np.asarray(d.mean, np.float32)[:, None, None]) / np.asarray(d.std, np.float32)[:, None, None]
    return np.nan_to_num(x, nan=0.0)


class _ClimateTask(Task):
    Config: ClassVar[type] = ClimateConfig

    def patches(self, cfg) -> tuple:
        return ()

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("climate", "stochastic-cam5")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        return Simulation("climate", ClimateParams(grid=d.grid, steps=d.steps, seed=d.seed))

    def reader(self, cfg, uri: str):
        d = cfg.data
        return reader_of(uri, tuple(d.channels), d.labels, d.nan, self.patches(cfg)) if uri else None

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """The normalisation of the training data (kept when the config has one: `physml evaluate`)."""
        data = dict(cfg_dict["data"])
        if not data.get("mean") and "mean" in data_params:
            data["mean"], data["std"] = data_params["mean"], data_params["std"]
        return {**cfg_dict, "data": data}

    def example(self) -> list[str]:
        return ["data.steps=24", "data.grid=32x64"]


def seg_arrays(batch: dict, d, shape: tuple[int, int]) -> dict:
    out = {"x": normalised(batch["x"], d, shape)}
    for k in ("file_index", "step"):  # evaluation of unlabelled data: which time step each prediction is
        if k in batch:
            out[k] = np.asarray(batch[k], np.int64)
    for k in ("labels", "truth"):
        if k in batch:
            out[k] = np.stack(list(batch[k])).astype(np.int64).reshape(-1, *shape)
    return out


def random_crop(x: torch.Tensor, y: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same random size x size window of every map in the batch (longitude wrapped)."""
    h, w = x.shape[-2:]
    if not size or size >= min(h, w):
        return x, y
    i, j = int(torch.randint(h - size + 1, ())), int(torch.randint(w, ()))
    x, y = torch.roll(x, -j, -1)[..., i : i + size, :size], torch.roll(y, -j, -1)[..., i : i + size, :size]
    return x, y


def padded_logits(model, x: torch.Tensor, multiple: int) -> torch.Tensor:
    """The model on x float[n, C, H, W] padded to multiples of ``multiple`` (edge rows, wrapped
    longitudes), cropped back."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:
        x = F.pad(F.pad(x, (0, pw), mode="circular"), (0, 0, 0, ph), mode="replicate")
    return model(x)[..., :h, :w]


def jaccard_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1 - mean over classes of the soft IoU sum(p g) / sum(p + g - p g) (Rahman & Wang 2016)."""
    p = logits.float().softmax(1)
    g = F.one_hot(y, p.shape[1]).permute(0, 3, 1, 2).float()
    inter = (p * g).sum((0, 2, 3))
    return 1 - (inter / ((p + g - p * g).sum((0, 2, 3)) + 1e-6)).mean()


class ClimateSegmentation(_ClimateTask):
    name: ClassVar[str] = "climate-segmentation"
    summary: ClassVar[str] = (
        "per-pixel tropical cyclones and atmospheric rivers in CF climate fields (ClimateNet, DeepCAM)"
    )
    metrics: ClassVar[tuple[str, ...]] = (
        "loss", "iou_background", "iou_tc", "iou_ar", "mean_iou",
        "precision_tc", "recall_tc", "precision_ar", "recall_ar",
    )  # fmt: skip
    sweep_metric: ClassVar[tuple[str, str]] = ("val/mean_iou", "max")
    search_space: ClassVar[dict] = {
        "model.layers": {"choice": [3, 4, 5]},
        "model.weights": {"choice": [[1, 5, 3], [1, 10, 5], [1, 20, 10]]},
    }

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        reader = self.reader(cfg, uri)
        if not reader.has_labels:
            raise ValueError(f"{uri}: no LABELS to train on; label it with `physml detect climate` and set data.labels")
        shape = tuple(len(a) for a in reader.grid)
        pre = partial(seg_arrays, d=cfg.data, shape=shape)
        extra = ["truth"] if reader.has_truth else []
        return {
            "train": DatasetSpec(uri, ["x", "labels"], pre, where={"split": "train"}, reader=reader),
            "val": DatasetSpec(uri, ["x", "labels", *extra], pre, where={"split": "val"}, reader=reader),
            "test": DatasetSpec(uri, ["x", "labels", *extra], pre, where={"split": "test"}, reader=reader),
        }

    def evaluation_datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """Every time step of a dataset to score (`physml evaluate`); without LABELS, the predictions are
        written instead (``predicted_labels.nc``)."""
        reader = self.reader(cfg, uri)
        shape = tuple(len(a) for a in reader.grid)
        cols = ["x", "labels"] if reader.has_labels else ["x", "file_index", "step"]
        return {"test": DatasetSpec(uri, cols, partial(seg_arrays, d=cfg.data, shape=shape), reader=reader)}

    def model(self, cfg) -> torch.nn.Module:
        return segmenter(len(cfg.data.channels), cfg.model.layers, cfg.model.channels)

    def _loss(self, logits: torch.Tensor, y: torch.Tensor, cfg) -> torch.Tensor:
        m = cfg.model
        w = torch.tensor(m.weights, dtype=torch.float32, device=logits.device)
        ce = F.cross_entropy(logits.float(), y, weight=w) if "ce" in m.loss else 0.0
        return ce + (jaccard_loss(logits, y) if "jaccard" in m.loss else 0.0)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Weighted cross-entropy and/or Jaccard on a random crop (``data.crop``)."""
        x, y = random_crop(batch["x"], batch["labels"], cfg.data.crop)
        return {"loss": self._loss(padded_logits(model, x, 2 ** (cfg.model.layers - 1)), y, cfg)}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """IoU, precision and recall per class against LABELS (and against TRUTH where the data has it:
        ``*_truth``), summed over all pixels; two examples for the figure."""
        conf, conf_truth, losses, examples = np.zeros((3, 3)), np.zeros((3, 3)), [], []
        device, predicted = next(model.parameters()).device, []
        for b in batches:
            x = b["x"].to(device).float()
            logits = padded_logits(model, x, 2 ** (cfg.model.layers - 1))
            if "labels" not in b:
                where = zip(b["file_index"].tolist(), b["step"].tolist())
                predicted += list(zip(where, logits.argmax(1).cpu().numpy().astype(np.uint8)))
                continue
            y = b["labels"].to(device)
            losses.append((float(self._loss(logits, y, cfg)), len(x)))
            pred = logits.argmax(1).cpu().numpy()
            conf += confusion(pred, y.cpu().numpy())
            if "truth" in b:
                conf_truth += confusion(pred, b["truth"].numpy())
            if len(examples) < 2:
                examples.append((x[0, 0].cpu().numpy(), y[0].cpu().numpy(), pred[0]))
        if predicted:
            reader = self.reader(cfg, cfg.data.uri)
            return unlabelled_results(predicted, reader.grid, reader.sources)
        out = {"loss": sum(v * n for v, n in losses) / max(sum(n for _, n in losses), 1), **scores(conf)}
        if conf_truth.sum():
            out.update({f"{k}_truth": v for k, v in scores(conf_truth).items() if k.startswith("iou")})
        return {**out, "examples": examples, "channel": cfg.data.channels[0]}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import segmentation_figure

        if "predicted" in results:
            return [write_predictions(results, Path(out_dir))]
        return segmentation_figure(results, Path(out_dir), PUBLISHED_IOU)


def unlabelled_results(predicted: list, grid: tuple[np.ndarray, np.ndarray], sources: list[str]) -> dict:
    """Predictions on data without LABELS, in file and time order: the fraction of pixels per class, and
    the maps with their file and time index for the report."""
    predicted = sorted(predicted, key=lambda p: p[0])
    maps = np.stack([p for _, p in predicted])
    frac = {f"predicted_{n}": float((maps == k).mean()) for k, n in enumerate(("background", "tc", "ar"))}
    files = [sources[f].rsplit("/", 1)[-1] for (f, _), _ in predicted]
    return {
        **frac,
        "predicted": maps,
        "files": files,
        "steps": [s for (_, s), _ in predicted],
        "lat": grid[0],
        "lon": grid[1],
    }


def write_predictions(results: dict, out: Path) -> Path:
    """``predicted_labels.nc``: LABELS(sample, lat, lon) uint8, each sample's file and time index in it."""
    import xarray as xr

    out.mkdir(parents=True, exist_ok=True)
    ds = xr.Dataset(
        {
            "LABELS": (
                ("sample", "lat", "lon"),
                results["predicted"],
                {"flag_values": [0, 1, 2], "flag_meanings": "background tropical_cyclone atmospheric_river"},
            )
        },  # fmt: skip
        coords={
            "file": ("sample", results["files"]),
            "time_index": ("sample", results["steps"]),
            "lat": ("lat", results["lat"], {"units": "degrees_north"}),
            "lon": ("lon", results["lon"], {"units": "degrees_east"}),
        },  # fmt: skip
    )
    ds.to_netcdf(out / "predicted_labels.nc", engine="h5netcdf")
    return out / "predicted_labels.nc"


def confusion(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """float[3, 3] counts: rows truth, columns prediction."""
    return np.bincount(3 * truth.ravel().astype(np.int64) + pred.ravel(), minlength=9)[:9].reshape(3, 3).astype(float)


def scores(conf: np.ndarray) -> dict:
    """IoU per class and their mean, precision and recall of TC and AR, from a confusion matrix."""
    tp = np.diag(conf)
    iou = tp / np.maximum(conf.sum(0) + conf.sum(1) - tp, 1)
    prec, rec = tp / np.maximum(conf.sum(0), 1), tp / np.maximum(conf.sum(1), 1)
    out = {f"iou_{n}": float(iou[k]) for k, n in enumerate(("background", "tc", "ar"))}
    out["mean_iou"] = float(iou.mean())
    for k, n in ((1, "tc"), (2, "ar")):
        out[f"precision_{n}"], out[f"recall_{n}"] = float(prec[k]), float(rec[k])
    return out


def patch_arrays(batch: dict, d) -> dict:
    return {"x": normalised(batch["x"], d, (d.size, d.size)), "y": np.asarray(batch["y"], np.int64)}


class ClimatePatches(_ClimateTask):
    name: ClassVar[str] = "climate-patches"
    summary: ClassVar[str] = "is there a tropical cyclone (or atmospheric river) in this window? (Liu et al. 2016)"
    metrics: ClassVar[tuple[str, ...]] = ("loss", "accuracy", "accuracy_se", "accuracy_event", "accuracy_background")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/accuracy", "max")
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [3e-4, 3e-3]}, "model.layers": {"choice": [2, 3]}}

    def patches(self, cfg) -> tuple:
        return (cfg.data.event, cfg.data.size)

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        reader, pre = self.reader(cfg, uri), partial(patch_arrays, d=cfg.data)
        return {
            s: DatasetSpec(uri, ["x", "y"], pre, where={"split": s}, reader=reader) for s in ("train", "val", "test")
        }

    def model(self, cfg) -> torch.nn.Module:
        return PatchCNN(len(cfg.data.channels), cfg.model.layers, cfg.model.channels)

    def loss(self, model, batch: dict, cfg) -> dict:
        x = batch["x"]
        if bool(torch.randint(2, ())):  # mirror east-west; a north-south flip would reverse the cyclone's sense
            x = x.flip(-1)
        return {"loss": F.cross_entropy(model(x).float(), batch["y"])}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Accuracy (binomial standard error) overall, on the events and on the background windows."""
        device = next(model.parameters()).device
        ys, ps, loss = [], [], 0.0
        for b in batches:
            logits = model(b["x"].to(device).float()).float()
            loss += float(F.cross_entropy(logits, b["y"].to(device), reduction="sum"))
            ys.append(b["y"].numpy()), ps.append(logits.argmax(1).cpu().numpy())
        y, p = (np.concatenate(v) if v else np.zeros(0, int) for v in (ys, ps))
        acc = float((y == p).mean()) if len(y) else 0.0
        return {
            "loss": loss / max(len(y), 1),
            "accuracy": acc,
            "accuracy_se": float(np.sqrt(acc * (1 - acc) / max(len(y), 1))),
            "accuracy_event": float((p[y == 1] == 1).mean()) if (y == 1).any() else 0.0,
            "accuracy_background": float((p[y == 0] == 0).mean()) if (y == 0).any() else 0.0,
            "n": int(len(y)),
            "event": cfg.data.event,
        }

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        ev = results.get("event", "tc")
        text = (f"climate-patches ({ev.upper()} vs background): accuracy {results.get('test/accuracy', 0):.4f} "
                f"+- {results.get('test/accuracy_se', 0):.4f}; published (Liu et al. 2016) "
                f"{PUBLISHED_ACC[ev]:.2f}\n")  # fmt: skip
        (out / "accuracy.txt").write_text(text)
        return [out / "accuracy.txt"]
