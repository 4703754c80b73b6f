"""galaxy-vae: is a VAE's likelihood of galaxy images higher than that of the best elliptical Gaussian?

Source: [004] (the docs' Design page lists the sources; Ravanbakhsh et al., "Enabling dark energy
science with deep generative models of galaxy images", AAAI 2017, arXiv 1609.05796: the VAE's
likelihood beats a bivariate Gaussian profile for 97.2% of galaxies). Data from GalSim
(:mod:`.source`); a convolutional VAE (:mod:`.vae`) trained on the ELBO; at evaluation the K-sample
importance-weighted bound on log p(x) against the log-likelihood of the best-fitting elliptical
Gaussian (:mod:`.gaussfit`) under the same noise model, per galaxy."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import rows_of, stack_images

from .config import GalaxyConfig
from .gaussfit import fit
from .source import GalaxyParams
from .vae import GalaxyVAE, elbo, iwae

PUBLISHED = 0.972


def to_arrays(batch: dict, split: int | None, holdout: int, noise: float) -> dict:
    """x float32[n, 1, S, S]: the stamp in units of the pixel noise."""
    keep = rows_of(batch["id"], split, holdout)
    return {"x": stack_images(batch["image"], keep)[:, None] / np.float32(noise)}


def bootstrap_se(wins: np.ndarray, draws: int = 200, seed: int = 0) -> float:
    """The bootstrap standard error of the fraction ``wins.mean()``."""
    rng = np.random.default_rng(seed)
    return float(np.std([wins[rng.integers(0, len(wins), len(wins))].mean() for _ in range(draws)]))


class GalaxyVAETask(Task):
    name: ClassVar[str] = "galaxy-vae"
    Config: ClassVar[type] = GalaxyConfig
    summary: ClassVar[str] = "a VAE's likelihood of galaxy images against the best elliptical Gaussian's"
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 3e-3]}, "model.latent": {"choice": [8, 16, 32]}}
    metrics: ClassVar[tuple[str, ...]] = ("loss", "iwae", "gauss_loglik", "vae_preferred", "vae_preferred_se")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/loss", "min")

    def example(self) -> list[str]:
        return ["data.n=40", "model.samples=4", "model.fits=8"]

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("galaxies", "bulge-disk")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        return Simulation("galaxies", GalaxyParams(n=d.n, noise=d.noise, seed=d.seed))

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        d = cfg.data
        return {
            name: DatasetSpec(uri, ["id", "image"], lambda b, s=split: to_arrays(b, s, d.holdout, d.noise))
            for name, split in (("train", 2), ("val", 0), ("test", 1))
        }

    def model(self, cfg) -> torch.nn.Module:
        return GalaxyVAE(32, cfg.model.latent, cfg.model.channels)

    def loss(self, model, batch: dict, cfg) -> dict:
        """The negative ELBO per pixel (nats)."""
        x = batch["x"].float()
        return {"loss": -elbo(model, x).mean() / x[0].numel()}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """loss (negative ELBO per pixel); on the first ``model.fits`` galaxies, the mean K-sample bound
        and the mean Gaussian log-likelihood (nats per galaxy) and the fraction of galaxies whose bound
        is higher, with its bootstrap standard error; examples for the figure."""
        device = next(model.parameters()).device
        losses, bounds, gauss, shown, n = [], [], [], [], 0
        torch.manual_seed(cfg.train.seed)
        for b in batches:
            x = b["x"].to(device).float()
            losses.append(float(-elbo(model, x).sum()) / x[0].numel())
            n += len(x)
            take = x[: max(0, cfg.model.fits - len(bounds))]
            if len(take):
                bounds += iwae(model.encode, model.decode, take, cfg.model.samples).cpu().tolist()
                gauss += [fit(img[0])[1] for img in take.cpu().numpy().astype(np.float64)]
                if not shown:
                    shown = [take[:4].cpu().numpy(), model.decode(model.encode(take[:4])[0]).detach().cpu().numpy()]
        if not n:
            return {}
        wins = np.array(bounds) > np.array(gauss)
        return {
            "loss": sum(losses) / n,
            "iwae": float(np.mean(bounds)),
            "gauss_loglik": float(np.mean(gauss)),
            "vae_preferred": float(wins.mean()),
            "vae_preferred_se": bootstrap_se(wins),
            "examples": shown,
        }

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        """plots/galaxies.png: stamps and their VAE reconstructions."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if not results.get("examples"):
            return []
        x, rec = results["examples"]
        fig, axes = plt.subplots(2, len(x), figsize=(2 * len(x), 4.2), squeeze=False)
        for j in range(len(x)):
            axes[0, j].imshow(x[j, 0], cmap="gray")
            axes[1, j].imshow(rec[j, 0], cmap="gray")
            for a in axes[:, j]:
                a.set_xticks([]), a.set_yticks([])
        axes[0, 0].set_ylabel("stamp"), axes[1, 0].set_ylabel("VAE (mean of z)")
        out = Path(out_dir) / "galaxies.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(out, dpi=100)
        plt.close(fig)
        return [out]
