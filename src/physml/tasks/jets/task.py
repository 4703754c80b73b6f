"""jets and jets-anomaly: boosted hadronic top quarks against QCD jets from jet images.

Source: [004] (the docs' Design page lists the sources; calorimeter images as CNN input at the LHC;
new physics against the Standard Model background; anomaly detection trained on background only;
data larger than one node). ``jets`` trains a CNN tagger on both classes (DeepTop, arXiv 1701.08784;
image CNNs reach AUC about 0.98 on Delphes top jets, arXiv 1902.09914); ``jets-anomaly`` trains a
convolutional autoencoder on QCD jets only and scores by reconstruction error (arXiv 1808.08979,
1808.08992). Both report ROC-AUC, 1/eps_B at eps_S = 0.3, the mass-window + tau_32 baseline and the
QCD mass sculpting."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import rows_of, stack_images

from .config import AnomalyConfig, JetsConfig, JetsData, JetsModel, check_pixels  # noqa: F401
from .nets import JetAutoencoder, JetCNN
from .points import EdgeConvNet, ParticleFlowNetwork, point_features
from .source import CONSTITUENTS, JetParams

COLUMNS = ["id", "label", "image", "mass", "tau32"]
POINT_COLUMNS = ["id", "label", "mass", "tau32", "pt", "eta", "phi", *CONSTITUENTS]
TRAINING = ("tau32",)  # read for the evaluation's baseline only: files read in place skip FastJet for them
PUBLISHED_AUC = 0.98  # image CNNs on top jets, arXiv 1902.09914 (Delphes detector)


def to_arrays(batch: dict, split: int | None, holdout: int, points: int = 0) -> dict:
    """Rows of ``split`` (None: all) -> {"x": float32[n, 1, P, P] (each image over its brightest
    pixel), "y": float32[n] (1 top), "mass" GeV, "tau32": float32[n]}; with ``points`` > 0, "x" is the
    point cloud float32[n, points, 6] (:func:`.points.point_features`), and "image" the image when the
    batch holds images (evaluation: the figures show them; training reads no image)."""
    keep = rows_of(batch["id"], split, holdout)
    out = {
        k: np.asarray(batch[c], np.float32)[keep]
        for k, c in (("y", "label"), ("mass", "mass"), ("tau32", "tau32"))
        if c in batch
    }
    if "image" in batch:
        img = stack_images(batch["image"], keep)[:, None].copy()
        if len(img):
            img /= np.maximum(img.reshape(len(img), -1).max(1), 1e-12)[:, None, None, None]
        out["image" if points else "x"] = img
    if points:
        jet = [np.asarray(batch[k], np.float64) for k in ("pt", "eta", "phi")]
        out["x"] = point_features(*(batch[c] for c in CONSTITUENTS), *jet, keep, points)
    return out


class _JetsTask(Task):
    """What both tasks share: data, splits, evaluation and figures; they differ in the model, the
    loss, the score and which jets train."""

    Config: ClassVar[type] = JetsConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 3e-3]}, "model.channels": {"choice": [8, 16, 32]}}
    metrics: ClassVar[tuple[str, ...]] = (
        "auc",
        "auc_se",
        "rejection30",
        "rejection30_se",
        "rejection50",
        "mass_jsd",
        "baseline_auc",
        "baseline_rejection30",
        "baseline_mass_jsd",
    )
    sweep_metric: ClassVar[tuple[str, str]] = ("val/auc", "max")

    def example(self) -> list[str]:
        return ["data.n=50"]

    train_where: ClassVar[dict] = {}

    def data_kind(self, cfg) -> tuple[str, tuple[str, ...]]:
        return ("jets", ("pythia8", "toptagging", "delphes"))  # simulated, or converted by `physml convert jets`

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        return Simulation("jets", JetParams(n=d.n, seed=d.seed, pt_min=d.pt[0], pt_max=d.pt[1], pixels=d.pixels))

    @staticmethod
    def _reading(cfg, training: bool = False) -> tuple[list[str], int]:
        """(columns, constituents per jet: 0 for images) a split needs: a point model's evaluated splits
        also read the images, for the figures."""
        m = cfg.model
        cols = POINT_COLUMNS if m.points else COLUMNS
        if training:
            cols = [c for c in cols if c not in TRAINING]
        elif m.points:
            cols = [*cols, "image"]
        return cols, m.constituents if m.points else 0

    def reader(self, cfg, uri: str):
        """Top-tagging HDF5 or Delphes ROOT files at ``uri`` (a file, a directory, a glob), read in
        place with the config's image size, pT window and ``data.files``; None for a physml dataset."""
        from .files import looks_like_files

        if not looks_like_files(uri):
            return None
        from .reader import reader_of

        d = cfg.data
        return reader_of(uri, JetParams(pt_min=d.pt[0], pt_max=d.pt[1], pixels=d.pixels, src=uri, files=d.files))

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        d, reader = cfg.data, self.reader(cfg, uri)
        (train_cols, points), (cols, _) = self._reading(cfg, training=True), self._reading(cfg)
        arrays = partial(to_arrays, holdout=d.holdout, points=points)
        train_where = {**d.where(), **self.train_where}
        return {
            "train": DatasetSpec(uri, train_cols, partial(arrays, split=2), where=train_where, reader=reader),
            "val": DatasetSpec(uri, cols, partial(arrays, split=0), where=d.where(), reader=reader),
            "test": DatasetSpec(uri, cols, partial(arrays, split=1), where=d.where(), reader=reader),
        }

    def evaluation_datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """A new dataset is scored on all its rows (up to ``data.max_rows``); the one the model was
        trained on (``data.uri``) on its test split only."""
        split = 1 if uri == cfg.data.uri else None
        cols, points = self._reading(cfg)
        arrays = partial(to_arrays, split=split, holdout=cfg.data.holdout, points=points)
        return {"test": DatasetSpec(uri, cols, arrays, where=cfg.data.where(), reader=self.reader(cfg, uri))}

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """Another dataset must have images of the model's size (files read in place are imaged at it)."""
        px = data_params.get("pixels", 40)
        if px != cfg_dict["data"].get("pixels", 40):
            raise ValueError(f"its images are {px} x {px} pixels; the model takes {cfg_dict['data'].get('pixels', 40)}")
        return cfg_dict

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        from .evaluation import collect, summarise

        got = collect(model, batches, self.score)
        if got is None:
            return {}
        if len(np.unique(got["y"])) < 2:
            raise ValueError("the evaluation data hold one class only; ROC-AUC needs top and qcd jets")
        res = summarise(got["y"], got["score"], got["mass"], got["tau32"], cfg.data.mass_window)
        if "accuracy" in self.metrics:  # a probability: the tag at 0.5
            res["accuracy"] = float(((got["score"] >= 0.5) == (got["y"] == 1)).mean())
        return {**res, "examples": got["examples"], "mean_image": got["mean_image"], "kind": self.name}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_jets

        return plot_jets(results, Path(out_dir))


class JetTagging(_JetsTask):
    name: ClassVar[str] = "jets"
    summary: ClassVar[str] = (
        "tags boosted hadronic tops against QCD jets: a CNN on jet images, a PFN or an EdgeConv network on constituents"
    )
    metrics: ClassVar[tuple[str, ...]] = (*_JetsTask.metrics, "accuracy")

    def model(self, cfg) -> torch.nn.Module:
        m = cfg.model
        if m.kind == "pfn":
            return ParticleFlowNetwork(m.channels * 4, m.latent * 2)
        if m.kind == "edgeconv":
            return EdgeConvNet((m.channels * 2, m.channels * 4), m.neighbours, m.dense)
        return JetCNN(cfg.data.pixels, m.channels, m.depth, m.dense)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Binary cross-entropy of the top logit."""
        return {"loss": F.binary_cross_entropy_with_logits(model(batch["x"]).float(), batch["y"].float())}

    @staticmethod
    def score(model, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(model(x).float())


class JetAnomaly(_JetsTask):
    name: ClassVar[str] = "jets-anomaly"
    Config: ClassVar[type] = AnomalyConfig
    summary: ClassVar[str] = "an autoencoder trained on QCD jets only finds top jets by their reconstruction error"
    train_where: ClassVar[dict] = {"process": "qcd"}

    def model(self, cfg) -> torch.nn.Module:
        m = cfg.model
        return JetAutoencoder(cfg.data.pixels, m.channels, m.depth, m.latent)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Mean squared reconstruction error per pixel (QCD jets only)."""
        x = batch["x"]
        return {"loss": ((model(x).float() - x.float()) ** 2).mean()}

    @staticmethod
    def score(model, x: torch.Tensor) -> torch.Tensor:
        """The anomaly score: per-jet mean squared reconstruction error."""
        return ((model(x).float() - x.float()) ** 2).flatten(1).mean(1)
