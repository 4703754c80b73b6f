"""lensing: dark-matter substructure in strong-lensing images (DeepLense).

Source: [002] (Alexander et al. 2020, "Decoding dark matter substructure without
supervision", arXiv 2008.12731). The unsupervised models (DCAE, VAE, AAE, RBM) train on images without
substructure only; the anomaly score is the reconstruction error, judged by ROC-AUC of each substructure
class (vortex, spherical CDM subhalos) against none. A supervised ResNet-18 three-class classifier is
the upper bound. Published (Model A): AUC AAE 0.932, VAE 0.899, DCAE 0.730, RBM 0.511, ResNet 0.996.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import split_of

from .config import KINDS, LensingConfig, LensingData, LensingModel, check_size  # noqa: F401
from .lenses import CLASSES, LensParams, psf_sigma_pixels
from .nets import AAE, DCAE, RBM, ConvVAE, ResNet18
from .source import LensingParams
from .symmetry import dihedral

PUBLISHED = {"aae": 0.932, "vae": 0.899, "dcae": 0.730, "rbm": 0.511, "resnet": 0.996}
COLUMNS = ["id", "label", "image"]


def normalise(images: np.ndarray, resize: int, crop: int = 0) -> np.ndarray:
    """float[n, S, S] (background sigmas) -> float32[n, 1, R, R]: the central ``crop`` pixels (0: all),
    area-averaged to R = ``resize`` (0 keeps the size), each image divided by its peak and clipped to
    [-0.25, 1] (Model B's SNR 10-30 made comparable)."""
    if crop and crop < images.shape[-1]:
        lo = (images.shape[-1] - crop) // 2
        images = images[:, lo : lo + crop, lo : lo + crop]
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None]
    if resize and resize != x.shape[-1]:
        x = F.adaptive_avg_pool2d(x, resize)
    peak = x.flatten(1).amax(1).clamp_min(1e-6)[:, None, None, None]
    return (x / peak).clamp(-0.25, 1.0).numpy()


def to_arrays(batch: dict, split: int | None, holdout: int, resize: int, crop: int = 0) -> dict:
    """Rows of ``split`` (None: all) -> {"x": float32[n, 1, R, R], "y": int64[n] (0 none, 1 vortex,
    2 spherical)}."""
    keep = np.ones(len(batch["id"]), bool) if split is None else split_of(batch["id"], holdout) == split
    n = int(keep.sum())
    img = np.stack(batch["image"][keep]) if n else np.zeros((0, 16), np.float32)
    side = int(round(np.sqrt(img.shape[1])))
    return {"x": normalise(img.reshape(n, side, side), resize, crop), "y": np.asarray(batch["label"], np.int64)[keep]}


class Lensing(Task):
    name: ClassVar[str] = "lensing"
    summary: ClassVar[str] = (
        "dark-matter substructure in strong lenses: anomaly detection (AAE, VAE, DCAE, RBM) and a ResNet"
    )
    Config: ClassVar[type] = LensingConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 3e-3]}, "model.latent": {"choice": [16, 64, 256]}}
    metrics: ClassVar[tuple[str, ...]] = ("auc", "auc_macro", "auc_vortex", "auc_spherical")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/auc", "max")

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("lensing", "sie-lens")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        lens = LensParams(
            model=d.config,
            size=d.size,
            m_min=d.subhalo_mass[0],
            m_max=d.subhalo_mass[1],
            vortex_fraction=tuple(d.vortex_fraction),
        )
        return Simulation("lensing", LensingParams(n=d.n, n_none=d.n_none, seed=d.seed, lens=lens))

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """Training: images without substructure only (their shards), or all three classes for the
        ResNet; validation and test: all classes."""
        d = cfg.data
        arrays = partial(to_arrays, holdout=d.holdout, resize=d.resize, crop=d.crop)
        only_none = {} if cfg.model.kind == "resnet" else {"substructure": "none"}
        return {
            "train": DatasetSpec(uri, COLUMNS, partial(arrays, split=2), where=only_none),
            "val": DatasetSpec(uri, COLUMNS, partial(arrays, split=0)),
            "test": DatasetSpec(uri, COLUMNS, partial(arrays, split=1)),
        }

    def evaluation_datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        """A new dataset (e.g. Model B for a Model A model) is scored on all its rows."""
        d = cfg.data
        return {
            "test": DatasetSpec(
                uri, COLUMNS, partial(to_arrays, split=None, holdout=d.holdout, resize=d.resize, crop=d.crop)
            )
        }

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """Another dataset's image size: the model keeps its input (``data.resize``, else the central
        ``data.crop``), so the images must be at least the crop, or the same size without either."""
        d = cfg_dict["data"]
        size = data_params.get("lens", {}).get("size", d.get("size", 150))
        if not d.get("resize") and not d.get("crop") and size != d.get("size", 150):
            raise ValueError(
                f"its images are {size} px; the model takes {d.get('size', 150)} px "
                "(train with data.crop or data.resize to take other sizes)"
            )
        return {**cfg_dict, "data": {**d, "size": size}}

    def model(self, cfg) -> torch.nn.Module:
        m, s = cfg.model, cfg.data.input_size
        if m.kind == "resnet":
            return ResNet18(len(CLASSES), m.channels, m.stem_pool)
        if m.kind == "rbm":
            return RBM(s, m.hidden, m.rbm_sigma, m.cd_steps)
        if m.kind == "aae":
            return AAE(s, m.channels, m.depth, m.latent)
        return (ConvVAE if m.kind == "vae" else DCAE)(s, m.channels, m.depth, m.latent)

    def param_groups(self, model, cfg) -> dict[str, list]:
        """The AAE's two players, trained in turn: the discriminator, then the autoencoder."""
        if cfg.model.kind != "aae":
            return super().param_groups(model, cfg)
        d = list(model.discriminator.parameters())
        ids = {id(p) for p in d}
        return {"discriminator": d, "autoencoder": [p for p in model.parameters() if id(p) not in ids]}

    def training_step(self, model, batch: dict, cfg, group: str, step: int) -> dict:
        """The AAE's discriminator step: ``model.adversarial`` x its loss on prior draws against
        the codes; every other step: :meth:`loss`."""
        if group != "discriminator":
            return self.loss(model, batch, cfg)
        x = dihedral(batch["x"]) if cfg.data.augment else batch["x"]
        d_loss = model(x, player="discriminator")["d_loss"]
        return {"loss": cfg.model.adversarial * d_loss, "bce": d_loss}

    def loss(self, model, batch: dict, cfg) -> dict:
        """DCAE: sum of squared errors per image; VAE: + beta KL(q(z|x) || N(0, I)); AAE (its
        autoencoder's step): + the encoder's non-saturating adversarial loss; RBM: CD-k; ResNet:
        class-balanced cross-entropy."""
        m, x = cfg.model, batch["x"]
        if cfg.data.augment and model.training:
            x = dihedral(x)
        if m.kind == "resnet":  # class-balanced: each class present weighs the same in the batch
            y = batch["y"]
            weight = len(y) / (len(CLASSES) * torch.bincount(y, minlength=len(CLASSES)).clamp_min(1).float())
            return {"loss": F.cross_entropy(model(x), y, weight=weight.to(x.dtype))}
        out = model(x)  # everything in the forward pass (DDP)
        if m.kind == "rbm":
            recon = ((out["recon"] - x).detach() ** 2).flatten(1).sum(1).mean()
            return {"loss": out["cd"], "recon": recon}
        recon = ((out["recon"] - x) ** 2).flatten(1).sum(1).mean()
        if m.kind == "vae":
            kl = (-0.5 * (1 + out["logvar"] - out["mu"] ** 2 - out["logvar"].exp())).sum(1).mean()
            return {"loss": recon + m.beta * kl, "recon": recon, "kl": kl}
        if m.kind == "aae":
            return {"loss": recon + m.adversarial * out["e_loss"], "recon": recon, "encoder_adv": out["e_loss"]}
        return {"loss": recon, "recon": recon}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """AUC per substructure class vs none, binary and macro, of the reconstruction error
        ``model.score``; W1 and examples (see evaluation.py)."""
        from .evaluation import collect, score

        d = cfg.data
        area = (d.crop or d.size) / d.input_size  # area-averaging k^2 pixels scales the exposure by k
        got = collect(
            model,
            batches,
            cfg.model.kind,
            d.exposure * area,
            psf_sigma_pixels(d.size) / area,
            symmetries=8 if cfg.model.tta else 1,
        )
        return score(got, cfg.model.kind, cfg.model.score) if got is not None else {}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_lensing

        return plot_lensing(results, Path(out_dir))
