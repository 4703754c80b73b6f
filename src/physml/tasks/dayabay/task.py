"""dayabay: reactor-antineutrino detector events classified from their 8 x 24 PMT charge images.

Source: [004] (the docs' Design page lists the sources; Racah et al., "Revealing fundamental physics
from the Daya Bay neutrino experiment using deep neural networks", ICMLA 2016, arXiv 1601.07621:
a supervised CNN separates the event classes above 97%). Data from the toy detector of
:mod:`.detector`; a CNN with circular padding in azimuth (:mod:`.nets`); beside it, in the same run,
the classical flasher cut of Daya Bay (An et al., NIM A 811, 133 (2016)): flasher when
Quadrant^2 + (MaxQ / 0.45)^2 > 1, MaxQ the largest PMT charge over the total, Quadrant = Q3 / (Q2 + Q4)
of the four azimuthal quadrants with Q1 centred on the brightest PMT."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import rows_of, stack_images

from .config import DayaBayConfig
from .detector import COLUMNS, RINGS, Detector
from .events import CLASSES
from .nets import PMTAutoencoder, PMTNet
from .source import DayaBayParams

PUBLISHED = 0.97  # supervised accuracy across classes, Racah et al. 2016
FLASHER = CLASSES.index("flasher")


def flasher_cut(q: np.ndarray) -> np.ndarray:
    """bool[n]: Daya Bay's flasher cut on charges float[n, 8, 24] (p.e.): Quadrant^2 + (MaxQ/0.45)^2 > 1."""
    total = np.maximum(q.sum((1, 2)), 1e-9)
    col = q.max(1)  # per column, the brightest ring
    c0 = np.argmax(col, 1)
    maxq = col.max(1) / total
    per_col = q.sum(1)
    quarter = COLUMNS // 4
    shift = (np.arange(COLUMNS)[None, :] + c0[:, None] - quarter // 2) % COLUMNS  # Q1 centred on c0
    quads = np.take_along_axis(per_col, shift, 1).reshape(len(q), 4, quarter).sum(2)
    quadrant = quads[:, 2] / np.maximum(quads[:, 1] + quads[:, 3], 1e-9)
    return quadrant**2 + (maxq / 0.45) ** 2 > 1


def to_arrays(batch: dict, split: int | None, holdout: int) -> dict:
    """x float32[n, 1, 8, 24] = log(1 + q) / log(1 + saturation); y int64[n]; "cut" the classical
    flasher cut; "energy" MeV."""
    keep = rows_of(batch["id"], split, holdout)
    q = stack_images(batch["image"], keep, shape=(RINGS, COLUMNS))
    x = (np.log1p(q) / np.log1p(Detector().saturation)).astype(np.float32)[:, None]
    return {
        "x": x,
        "y": np.asarray(batch["label"], np.int64)[keep],
        "cut": flasher_cut(q),
        "energy": np.asarray(batch["energy"], np.float32)[keep],
    }


class _DayaBayTask(Task):
    """What both tasks share: the data, its splits and the simulation."""

    Config: ClassVar[type] = DayaBayConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 3e-3]}, "model.channels": {"choice": [8, 16, 32]}}

    def example(self) -> list[str]:
        return ["data.n=20"]

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("dayabay", "toy-ad")

    def simulation(self, cfg) -> Simulation:
        return Simulation("dayabay", DayaBayParams(n=cfg.data.n, seed=cfg.data.seed))

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        cols, h = ["id", "label", "energy", "image"], cfg.data.holdout
        return {
            name: DatasetSpec(uri, cols, lambda b, s=split: to_arrays(b, s, h))
            for name, split in (("train", 2), ("val", 0), ("test", 1))
        }

    def evaluation_datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """A new dataset is scored on all its rows; the training one on its test split."""
        split = 1 if uri == cfg.data.uri else None
        h = cfg.data.holdout
        return {"test": DatasetSpec(uri, ["id", "label", "energy", "image"], lambda b: to_arrays(b, split, h))}


class DayaBay(_DayaBayTask):
    name: ClassVar[str] = "dayabay"
    summary: ClassVar[str] = "Daya Bay detector events (IBD, Gd capture, muon, flasher, background) from PMT images"
    metrics: ClassVar[tuple[str, ...]] = (
        "loss",
        "accuracy",
        *(f"acc_{c}" for c in CLASSES),
        "flasher_eff",
        "flasher_fpr",
        "cut_flasher_eff",
        "cut_flasher_fpr",
    )
    sweep_metric: ClassVar[tuple[str, str]] = ("val/accuracy", "max")

    def model(self, cfg) -> torch.nn.Module:
        return PMTNet(len(CLASSES), cfg.model.channels, cfg.model.dense)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Cross-entropy over the five classes."""
        return {"loss": F.cross_entropy(model(batch["x"]).float(), batch["y"])}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Accuracy overall and per class, the CNN's flasher efficiency and false-positive rate beside
        the classical cut's, the confusion matrix and a few images per class (figures)."""
        device = next(model.parameters()).device
        logits, ys, cuts, xs = [], [], [], []
        for b in batches:
            logits.append(model(b["x"].to(device)).float().cpu())
            ys.append(b["y"].cpu())
            cuts.append(np.asarray(b["cut"].cpu() if torch.is_tensor(b["cut"]) else b["cut"]))
            xs.append(b["x"][:, 0].cpu().numpy())
        if not logits:
            return {}
        z, y = torch.cat(logits), torch.cat(ys)
        pred, y_np, cut = z.argmax(1).numpy(), y.numpy(), np.concatenate(cuts).astype(bool)
        res = {"loss": float(F.cross_entropy(z, y)), "accuracy": float((pred == y_np).mean())}
        for k, c in enumerate(CLASSES):
            sel = y_np == k
            res[f"acc_{c}"] = float((pred[sel] == k).mean()) if sel.any() else float("nan")
        fl = y_np == FLASHER
        for prefix, tagged in (("", pred == FLASHER), ("cut_", cut)):
            res[f"{prefix}flasher_eff"] = float(tagged[fl].mean()) if fl.any() else float("nan")
            res[f"{prefix}flasher_fpr"] = float(tagged[~fl].mean()) if (~fl).any() else float("nan")
        confusion = np.zeros((len(CLASSES), len(CLASSES)), int)
        np.add.at(confusion, (y_np, pred), 1)
        x = np.concatenate(xs)
        examples = {c: x[y_np == k][:3] for k, c in enumerate(CLASSES)}
        return {**res, "confusion": confusion, "examples": examples}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_dayabay

        return plot_dayabay(results, Path(out_dir), PUBLISHED)


class DayaBayUnsupervised(_DayaBayTask):
    """A denoising autoencoder on the PMT images (no labels in training); its code, embedded by t-SNE,
    is the unsupervised picture of the event classes (Racah et al. 2016, section IV)."""

    name: ClassVar[str] = "dayabay-unsupervised"
    summary: ClassVar[str] = "a denoising autoencoder on Daya Bay PMT images; t-SNE of its code, judged by class purity"
    metrics: ClassVar[tuple[str, ...]] = ("loss", "knn_purity_code", "knn_purity_tsne", "silhouette_tsne")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/loss", "min")

    def model(self, cfg) -> torch.nn.Module:
        return PMTAutoencoder(cfg.model.channels, cfg.model.latent)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Mean squared error of the clean image from one with a fraction ``model.corrupt`` of its PMTs
        zeroed (denoising)."""
        x = batch["x"]
        keep = (torch.rand_like(x) >= cfg.model.corrupt).to(x.dtype)
        return {"loss": ((model(x * keep).float() - x.float()) ** 2).mean()}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Reconstruction loss (uncorrupted input); the class purity of the 10 nearest neighbours in the
        code and in a 2D t-SNE of the code (openTSNE; the first ``model.embed`` events), and the
        silhouette of the classes in the t-SNE plane."""
        from .embedding import embed_and_score

        device = next(model.parameters()).device
        losses, codes, ys = [], [], []
        for b in batches:
            x = b["x"].to(device)
            losses.append(float(((model(x).float() - x.float()) ** 2).mean()) * len(x))
            codes.append(model.encode(x).float().cpu().numpy())
            ys.append(b["y"].cpu().numpy())
        if not codes:
            return {}
        code, y = np.concatenate(codes), np.concatenate(ys)
        return {"loss": sum(losses) / len(y), **embed_and_score(code, y, cfg.model.embed, cfg.train.seed)}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_embedding

        return plot_embedding(results, Path(out_dir))
