"""stargalaxy: unsupervised star/galaxy separation on SDSS-like cutouts (bimodal-prior VAE, AE + VAE).

Source: [000] part 2 (the docs' Design page lists the sources): a VAE whose KL term uses the bimodal
prior Q(V) = 1/2 N(-m, s^2) + 1/2 N(m, s^2) (eq. 4, Fig. 6); the hierarchical AE + VAE with that
revised KLD (Fig. 7); Table 2: AUC VAE + manifold learning 0.76 (best 0.89, std 0.1, 10 repeats), AE
+ VAE 0.90 (std 0.002, 100 repeats); accuracy vs magnitude (Fig. 8c). A supervised CNN on set A is
the upper bound. Label-dependent choices (orientation, cluster-to-class) use set A only; AUC and
accuracy are measured on set B."""

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

from .assign import cluster_scores, embed, judge, orientation
from .config import KINDS, StarGalaxyConfig, StarGalaxyData, StarGalaxyModel  # noqa: F401
from .cutouts import CutoutParams
from .nets import CNNClassifier, ConvVAE, HierarchicalAEVAE, kl_bimodal, kl_normal
from .source import StarGalaxyParams

PUBLISHED = {"vae": (0.76, 0.89, 0.56, 0.1), "hierarchical": (0.90, 0.91, 0.90, 0.002)}  # mean, max, min, std
COLUMNS = ["id", "set", "label", "magnitude", "image"]
MAG_BINS = np.arange(14.0, 22.01, 1.0)


def border_noise(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float[n, S, S] -> (sky [n], sigma [n]): median and MAD-based sigma of the top and bottom 3 rows."""
    n = images.shape[0]
    border = np.concatenate([images[:, :3].reshape(n, -1), images[:, -3:].reshape(n, -1)], axis=1)
    sky = np.median(border, axis=1)
    return sky, 1.4826 * np.median(np.abs(border - sky[:, None]), axis=1) + 1e-6


def stretch(images: np.ndarray) -> np.ndarray:
    """float[n, S, S] ADU -> asinh(x / sigma) / asinh(peak / sigma), sigma from the border pixels'
    MAD: the peak maps to 1, the noise to about 1 / asinh(S/N), so shape, not brightness, remains."""
    n = images.shape[0]
    sigma = border_noise(images)[1]
    peak = np.maximum(images.reshape(n, -1).max(axis=1), 3 * sigma)
    out = np.arcsinh(images / sigma[:, None, None]) / np.arcsinh(peak / sigma)[:, None, None]
    return np.clip(out, -0.5, 1.0).astype(np.float32)


def instrumental_magnitude(images: np.ndarray) -> np.ndarray:
    """float[n, S, S] ADU -> float32[n, 1]: -2.5 log10 of the stamp's flux above the border pixels'
    median (a flux below one noise sigma is taken as one sigma). Needs no catalogue: real cutouts have it too."""
    sky, sigma = border_noise(images)
    flux = (images - sky[:, None, None]).reshape(len(images), -1).sum(axis=1)
    return (-2.5 * np.log10(np.maximum(flux, sigma)))[:, None].astype(np.float32)


def to_arrays(batch: dict, split: int, holdout: int, only_a: bool = False) -> dict:
    """Rows of ``split`` -> {"x": float32[n, 1, S, S], "c": float32[n, 1] (instrumental magnitude),
    "y": float32[n] (label, -1 unknown), "a": bool[n] (set A), "mag": float32[n]}; ``only_a`` keeps
    set A (the supervised CNN's training data)."""
    keep = split_of(batch["id"], holdout) == split
    if only_a:
        keep &= np.asarray(batch["set"]) == "A"
    n = int(keep.sum())
    img = np.stack(batch["image"][keep]).astype(np.float32) if n else np.zeros((0, 64), np.float32)
    side = int(round(np.sqrt(img.shape[1])))
    img = img.reshape(n, side, side)
    return {
        "x": stretch(img)[:, None],
        "c": instrumental_magnitude(img),
        "y": np.asarray(batch["label"], np.float32)[keep],
        "a": np.asarray(batch["set"])[keep] == "A",
        "mag": np.asarray(batch["magnitude"], np.float32)[keep],
    }


class StarGalaxy(Task):
    name: ClassVar[str] = "stargalaxy"
    summary: ClassVar[str] = "unsupervised star/galaxy separation of SDSS-like cutouts (bimodal-prior VAE, AE + VAE)"
    Config: ClassVar[type] = StarGalaxyConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 3e-3]}, "model.beta": {"uniform": [0.1, 2.0]}}
    metrics: ClassVar[tuple[str, ...]] = ("acc", "auc")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/auc", "max")

    def example(self) -> list[str]:
        return ["data.n=300"]

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("stargalaxy", "sdss-r")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        return Simulation(
            "stargalaxy",
            StarGalaxyParams(
                n=d.n,
                star_fraction=d.star_fraction,
                labelled_fraction=d.labelled_fraction,
                seed=d.seed,
                cutout=CutoutParams(size=d.size, seeing=d.seeing),
            ),
        )

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        h, cnn = cfg.data.holdout, cfg.model.kind == "cnn"
        return {
            "train": DatasetSpec(uri, COLUMNS, partial(to_arrays, split=2, holdout=h, only_a=cnn)),
            "val": DatasetSpec(uri, COLUMNS, partial(to_arrays, split=0, holdout=h)),
            "test": DatasetSpec(uri, COLUMNS, partial(to_arrays, split=1, holdout=h)),
        }

    def model(self, cfg) -> torch.nn.Module:
        m, s = cfg.model, cfg.data.size
        if m.kind == "cnn":
            return CNNClassifier(s, m.channels)
        if m.kind == "hierarchical":
            return HierarchicalAEVAE(s, m.channels, m.code, m.latent, m.hidden, int(m.condition == "flux"))
        return ConvVAE(s, m.channels, m.latent)

    def _kl(self, mu, logvar, m) -> torch.Tensor:
        """Per-sample KL: the bimodal prior on z_0 (Monte Carlo) and N(0, 1) on the rest; the plain VAE
        uses N(0, 1) everywhere."""
        if m.kind == "vae":
            return kl_normal(mu, logvar).sum(1)
        first = kl_bimodal(mu[:, :1], logvar[:, :1], m.m, m.s, m.kl_samples).sum(1)
        return first + kl_normal(mu[:, 1:], logvar[:, 1:]).sum(1)

    def forward(self, model, batch: dict, cfg):
        """The model's output on a batch (the hierarchical model also takes the per-object condition)."""
        return model(batch["x"], batch["c"]) if cfg.model.kind == "hierarchical" else model(batch["x"])

    def loss(self, model, batch: dict, cfg) -> dict:
        return self.loss_of(self.forward(model, batch, cfg), batch, cfg)

    def loss_of(self, out, batch: dict, cfg) -> dict:
        """The loss terms from the model's output ``out`` on ``batch`` (evaluation reuses its forward pass)."""
        m, x = cfg.model, batch["x"]
        if m.kind == "cnn":
            return {"loss": F.binary_cross_entropy_with_logits(out, batch["y"])}
        if m.kind == "hierarchical":
            rec, code, code_rec, mu, logvar = out
            rec_img = ((rec - x) ** 2).flatten(1).sum(1).mean()
            rec_code = ((code_rec - code.detach()) ** 2).sum(1).mean()
            kl = self._kl(mu, logvar, m).mean()
            return {"loss": rec_img + rec_code + m.beta * kl, "recon": rec_img, "recon_code": rec_code, "kl": kl}
        rec, mu, logvar = out
        recon = ((rec - x) ** 2).flatten(1).sum(1).mean()
        kl = self._kl(mu, logvar, m).mean()
        return {"loss": recon + m.beta * kl, "recon": recon, "kl": kl}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """loss; AUC and accuracy on set B (choices on set A); accuracy per magnitude; latents."""
        from .evaluation import features

        got = features(self, model, batches, cfg)
        if got is None:
            return {}
        return self.score(got, cfg)

    def score(self, got: dict, cfg) -> dict:
        m = cfg.model
        a, y, f = got["a"], got["y"], got["f"]
        b = ~a & (y >= 0)
        if m.kind == "cnn":
            s, thr = f[:, 0], 0.0
        elif m.kind == "vae":
            s, thr = cluster_scores(embed(f, m.manifold, cfg.train.seed), a, y[a], cfg.train.seed), 0.5
        else:
            s, thr = orientation(f[a, 0], y[a]) * f[:, 0], 0.0
        out = {"loss": got["loss"], "latent": f, "label": y, "is_a": a, "mag": got["mag"]}
        if b.sum() and len(np.unique(y[b])) == 2:
            out.update(judge(s[b], y[b], thr))
            hit = (s[b] > thr) == (y[b] == 1)
            idx = np.digitize(got["mag"][b], MAG_BINS)
            out["acc_by_mag"] = [
                (float(MAG_BINS[k - 1] + 0.5), float(hit[idx == k].mean()), int((idx == k).sum()))
                for k in range(1, len(MAG_BINS))
                if (idx == k).any()
            ]
        return out

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_stargalaxy

        return plot_stargalaxy(results, Path(out_dir))
