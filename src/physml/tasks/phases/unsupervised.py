"""phases-unsupervised: Wetzel, "Unsupervised learning of phase transitions: from principal component
analysis to variational autoencoders", Phys. Rev. E 96, 022140 (2017); the seed's Fig. 2.

PCA and a VAE see configurations of all temperatures without labels. The first principal component
and the VAE latent track the order parameter: |z| against |m| (Fig. 2c) is nearly a line (Pearson r
reported), and the spread of the latent per temperature (Fig. 2d) changes where the order sets in:
its derivative d<|z|>/dT is steepest near Tc (Ising, 2.269) or T_BKT (XY, about 0.893), which gives
the Tc estimate. For XY the input is (cos theta, sin theta) and |M| plays the role of |m|.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np

from physml.tasks.base import Task

from . import data as phases_data
from .unsupervised_config import UnsupervisedConfig, VAEConfig  # noqa: F401
from .vae import DenseVAE


class UnsupervisedPhases(Task):
    name: ClassVar[str] = "phases-unsupervised"
    summary: ClassVar[str] = (
        "the order parameter of Ising and XY configurations from PCA and a VAE, without labels (Wetzel 2017)"
    )
    Config: ClassVar[type] = UnsupervisedConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 1e-2]}, "model.hidden": {"choice": [64, 256]}}
    metrics: ClassVar[tuple[str, ...]] = ("loss", "r_latent_m", "r_pca_m")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/loss", "min")

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("ising", cfg.data.model)

    def simulation(self, cfg):
        return phases_data.simulation(cfg.data)

    def datasets(self, cfg, uri: str):
        specs = phases_data.splits(cfg.data, uri, exclude=0.0, labels=False)
        return {k: v for k, v in specs.items() if not k.startswith("test/") or k == f"test/L{cfg.data.fit_L}"}

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        return phases_data.adapt_keeping_train_size(cfg_dict, data_params)

    def model(self, cfg) -> DenseVAE:
        channels = 2 if cfg.data.model == "xy" else 1
        return DenseVAE(channels * cfg.data.fit_L**2, cfg.model.latent, cfg.model.hidden)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Seed's eq. (2): ||x - x'||^2 + beta KL(q(z|x) || N(0, I)), per sample."""
        x = batch["x"].flatten(1)
        recon, mu, logvar = model(batch["x"])
        rec = ((recon - x) ** 2).sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)).mean()
        return {"loss": rec + cfg.model.beta * kl, "reconstruction": rec, "kl": kl}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """The loss (per sample, as in training), Pearson r of |z| and of |PC1| with |m|, Tc from the
        steepest descent of <|z|>(T)."""
        device = next(model.parameters()).device
        zs, xs, ms, ts = [], [], [], []
        total, count = 0.0, 0
        for b in batches:
            total += float(self.loss(model, {"x": b["x"].to(device)}, cfg)["loss"]) * len(b["x"])
            count += len(b["x"])
            mu, _ = model.encode(b["x"].to(device))
            zs.append(mu.detach().cpu().numpy())
            xs.append(b["x"].flatten(1).cpu().numpy())
            ms.append(np.abs(b["m"].cpu().numpy()))
            ts.append(b["T"].cpu().numpy())
        if not zs:
            return {}
        z, X, m, T = np.concatenate(zs), np.concatenate(xs), np.concatenate(ms), np.concatenate(ts)
        pc = principal_components(X, 2)
        zn, pn = (
            np.linalg.norm(z, axis=1),
            np.abs(pc[:, 0]) if cfg.data.model == "ising" else np.linalg.norm(pc, axis=1),
        )
        out = {
            "loss": total / count,
            "r_latent_m": float(np.corrcoef(zn, m)[0, 1]),
            "r_pca_m": float(np.corrcoef(pn, m)[0, 1]),
        }
        temps = np.unique(T)
        if temps.size >= 5:
            out["tc_latent"] = steepest_descent(temps, np.array([zn[T == t].mean() for t in temps]))
            out["tc_pca"] = steepest_descent(temps, np.array([pn[T == t].mean() for t in temps]))
            out["latent_by_T"] = (temps, [z[T == t] for t in temps], [pc[T == t] for t in temps])
        out["scatter"] = (zn, m, T)
        return out

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_unsupervised

        return plot_unsupervised(results, Path(out_dir))


def principal_components(X: np.ndarray, k: int) -> np.ndarray:
    """Projections of the rows of X (float[n, d]) on its first k principal axes (SVD of centred X)."""
    Xc = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    return Xc @ vt[:k].T


def steepest_descent(t: np.ndarray, y: np.ndarray) -> float:
    """T where a decreasing order-parameter curve y(T) falls fastest (central differences)."""
    d = np.gradient(y, t)
    i = int(np.argmin(d))
    if 0 < i < t.size - 1:  # parabola through the three slopes around the minimum
        den = d[i - 1] - 2 * d[i] + d[i + 1]
        if den > 0:
            return float(t[i] + 0.5 * (d[i - 1] - d[i + 1]) / den * (t[i + 1] - t[i]))
    return float(t[i])
