"""massmaps: weak-lensing convergence maps of cosmologies on the S8 degeneracy, denoised and classified.

Source: [004] (the docs' Design page lists the sources: a denoising convolutional autoencoder of mass
maps, and a CNN telling two simulated cosmologies apart at 80% with noise; Schmelzle et al.,
arXiv 1707.05167 (2017)); CNNs beat the power spectrum and peak counts (Gupta et al., PRD 97, 103515
(2018); Ribli et al., MNRAS 490, 1843 (2019)). Data from :mod:`.source` (CCL spectra, lognormal
fields); shape noise is added when the maps are read (``data.ngal``), so one dataset serves every
noise level. Maps are handed to the networks in units of ``SCALE``."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import rows_of, stack_images

from . import stats
from .config import MassMapConfig, MassMapData
from .fields import noise_sigma, smooth
from .nets import CosmoCNN, denoiser
from .source import MassMapParams

SCALE = 0.02  #: kappa per network unit (about the rms of a noisy arcminute pixel)
PUBLISHED = 0.80  #: two-cosmology accuracy with noise in 004
SMOOTHINGS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)  #: arcmin: the Gaussian-smoothing baseline takes the best


def pixel_arcmin(d: MassMapData) -> float:
    return d.size * 60 / d.pixels


def to_arrays(batch: dict, split: int | None, holdout: int) -> dict:
    """x float32[n, 1, N, N]: the noiseless kappa / SCALE; y int64[n] the cosmology; seed int64[n] from
    the map's id. Noise is added by :func:`observe` as the maps are used: fresh at every training step,
    from the map's seed for evaluation (the same whatever the order the maps come in)."""
    keep = rows_of(batch["id"], split, holdout)
    seeds = np.array([zlib.crc32(str(i).encode()) for i in np.asarray(batch["id"])[keep]], np.int64)
    x = (stack_images(batch["kappa"], keep) / SCALE)[:, None]
    return {"x": x, "y": np.asarray(batch["label"], np.int64)[keep], "seed": seeds}


def gaussian_blur(x: torch.Tensor, sigma_px: float) -> torch.Tensor:
    """x float[n, 1, N, N] convolved with a Gaussian of ``sigma_px`` pixels (separable, reflecting edges)."""
    if sigma_px <= 0:
        return x
    r = min(int(np.ceil(4 * sigma_px)), x.shape[-1] - 1)
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t / sigma_px) ** 2)
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1))


def observe(clean: torch.Tensor, d: MassMapData, seeds: torch.Tensor | None = None, base: int = 0) -> torch.Tensor:
    """The network's input from clean maps float[n, 1, N, N] (kappa / SCALE): white shape noise of rms
    sigma_e / sqrt(n_gal A_pix) (fresh, or drawn per map from ``seeds`` int64[n] and ``base``), then
    Gaussian smoothing by ``d.smoothing`` arcmin."""
    sigma = noise_sigma(d.sigma_e, d.ngal, pixel_arcmin(d)) / SCALE
    if seeds is None:
        noise = torch.randn_like(clean)
    else:
        gen, shape = torch.Generator(), clean.shape[1:]  # on the CPU, then moved: the same on any device
        draws = [torch.randn(shape, generator=gen.manual_seed(int(s) * 1_000_003 + base)) for s in seeds]
        noise = torch.stack(draws).to(clean) if draws else torch.zeros_like(clean)
    return gaussian_blur(clean + sigma * noise, d.smoothing / pixel_arcmin(d))


def dihedral(x: torch.Tensor) -> torch.Tensor:
    """x float[n, 1, N, N] under a random one of the 8 rotations and reflections of the square (the
    statistics of an isotropic field do not change under them)."""
    x = torch.rot90(x, int(torch.randint(4, ())), (-2, -1))
    return x.flip(-1) if bool(torch.randint(2, ())) else x


class _MassMapsTask(Task):
    """What both tasks share: the data, its splits, the simulation, the noise."""

    Config: ClassVar[type] = MassMapConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 3e-3]}, "model.channels": {"choice": [8, 16]}}

    def example(self) -> list[str]:
        return ["data.n=20"]

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("massmaps", "lognormal-ccl")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        p = MassMapParams(
            n=d.n, pixels=d.pixels, size=d.size, cosmologies=d.cosmologies, field=d.field, seed=d.seed, ngal=0.0
        )
        return Simulation("massmaps", p)

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """The patch geometry and the cosmologies of the dataset read."""
        keys = ("pixels", "size", "cosmologies")
        data = {**cfg_dict["data"], **{k: data_params[k] for k in keys if k in data_params}}
        return {**cfg_dict, "data": data}

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        h = cfg.data.holdout
        return {
            name: DatasetSpec(uri, ["id", "label", "kappa"], lambda b, s=split: to_arrays(b, s, h))
            for name, split in (("train", 2), ("val", 0), ("test", 1))
        }


def _stack(batches: Iterable[dict], model, cfg) -> dict[str, np.ndarray]:
    """clean and noisy float[n, N, N] (kappa / SCALE; each map's noise drawn from its seed and
    ``train.seed``, the same at every evaluation), y int64[n] and the model's output on the noisy maps."""
    device = next(model.parameters()).device
    got: dict[str, list] = {k: [] for k in ("clean", "noisy", "y", "out")}
    for b in batches:
        clean = b["x"].to(device).float()
        noisy = observe(clean, cfg.data, b["seed"], cfg.train.seed)
        got["out"].append(model(noisy).float().cpu().numpy())
        got["clean"].append(clean[:, 0].cpu().numpy()), got["noisy"].append(noisy[:, 0].cpu().numpy())
        got["y"].append(b["y"].cpu().numpy())
    return {k: np.concatenate(v) for k, v in got.items() if v}


class MassMapsCosmology(_MassMapsTask):
    name: ClassVar[str] = "massmaps-cosmology"
    summary: ClassVar[str] = "which cosmology made this noisy convergence map? a CNN against power spectrum and peaks"
    metrics: ClassVar[tuple[str, ...]] = (
        "loss", "accuracy", "accuracy_se", "acc_power", "acc_peaks", "acc_moments", "acc_combined",
        "margin", "margin_se",
    )  # fmt: skip
    sweep_metric: ClassVar[tuple[str, str]] = ("val/accuracy", "max")

    def model(self, cfg) -> torch.nn.Module:
        return CosmoCNN(len(cfg.data.cosmologies) // 2, cfg.model.channels, cfg.model.levels)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Cross-entropy over the cosmologies, on the maps with fresh noise, rotated or reflected."""
        x = dihedral(batch["x"])
        return {"loss": F.cross_entropy(model(observe(x, cfg.data)).float(), batch["y"])}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """The CNN's accuracy (binomial error) and, on the same maps, logistic classifiers of the power
        spectrum, the peak counts, the moments and all three (5-fold cross-validated); margin: the CNN
        over the best single baseline, with the paired standard error."""
        got = _stack(batches, model, cfg)
        if "y" not in got:
            return {}
        y, cnn = got["y"], got["out"].argmax(1) == got["y"]
        maps = got["noisy"].astype(np.float64)
        feats = baseline_features(maps, pixel_arcmin(cfg.data))
        feats["combined"] = np.concatenate(list(feats.values()), 1)
        correct = {k: stats.cv_correct(f, y, seed=cfg.train.seed) for k, f in feats.items()}
        best = max(("power", "peaks", "moments"), key=lambda k: correct[k].mean())
        margin, margin_se = stats.paired_margin(cnn, correct[best])
        acc = float(cnn.mean())
        res = {
            "loss": float(F.cross_entropy(torch.from_numpy(got["out"]), torch.from_numpy(y))),
            "accuracy": acc,
            "accuracy_se": float(np.sqrt(acc * (1 - acc) / len(y))),
            **{f"acc_{k}": float(c.mean()) for k, c in correct.items()},
            "margin": margin,
            "margin_se": margin_se,
        }
        return {**res, "examples": [maps[y == k][:3] for k in range(int(y.max()) + 1)]}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_cosmology

        return plot_cosmology(results, Path(out_dir), PUBLISHED)


def baseline_features(maps: np.ndarray, pix: float) -> dict[str, np.ndarray]:
    """float[n, k] per baseline: log binned power spectrum, peak counts in 12 bins of height (edges
    at quantiles of all the maps' peaks), moments."""
    _, power = stats.power_spectrum(maps, pix)
    heights = np.concatenate([stats.peaks(m)[1] for m in maps[:200]])
    edges = np.quantile(heights, np.linspace(0, 1, 13))
    edges[0], edges[-1] = -np.inf, np.inf
    return {"power": np.log(power + 1e-30), "peaks": stats.peak_counts(maps, edges), "moments": stats.moments(maps)}


class MassMapsDenoise(_MassMapsTask):
    name: ClassVar[str] = "massmaps-denoise"
    summary: ClassVar[str] = "noisy convergence map -> clean: a U-Net against Gaussian smoothing and the Wiener filter"
    metrics: ClassVar[tuple[str, ...]] = tuple(
        f"{m}{k}" for m in ("", "gauss_", "wiener_") for k in ("mse", "pearson", "peaks_found", "peaks_pure")
    ) + ("loss", "gauss_scale")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/loss", "min")

    def model(self, cfg) -> torch.nn.Module:
        return denoiser(cfg.model.channels, cfg.model.levels)

    def loss(self, model, batch: dict, cfg) -> dict:
        """Mean squared error from the noiseless map (SCALE units), with fresh noise, rotated or reflected."""
        clean = dihedral(batch["x"])
        return {"loss": F.mse_loss(model(observe(clean, cfg.data)).float(), clean.float())}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Per method (the U-Net; Gaussian smoothing at the best of SMOOTHINGS; the Wiener filter with
        the signal and noise spectra measured on these maps): mean squared error (kappa^2), mean
        Pearson r per map, and the fraction of the clean map's peaks above ``model.peaks_sigma`` times its
        rms found within 2 pixels by the estimate's peaks above that many times the estimate's rms
        (peaks_found), and the fraction of those that are true (peaks_pure)."""
        got = _stack(batches, model, cfg)
        if "clean" not in got:
            return {}
        clean, noisy = got["clean"] * SCALE, got["noisy"] * SCALE
        pix = pixel_arcmin(cfg.data)
        by_scale = {s: smooth(noisy, s, pix) for s in SMOOTHINGS}
        scale = min(SMOOTHINGS, key=lambda s: ((by_scale[s] - clean) ** 2).mean())
        spectrum = lambda m: (np.abs(np.fft.fft2(m)) ** 2).mean(0)
        estimates = {
            "": got["out"][:, 0] * SCALE,
            "gauss_": by_scale[scale],
            "wiener_": stats.wiener(noisy, spectrum(clean), spectrum(noisy - clean)),
        }
        res = {"loss": float(((estimates[""] - clean) ** 2).mean() / SCALE**2), "gauss_scale": scale}
        for m, est in estimates.items():
            n_true, found, near, n_est = stats.peak_match(clean, est, cfg.model.peaks_sigma)
            res[f"{m}mse"] = float(((est - clean) ** 2).mean())
            res[f"{m}pearson"] = float(np.mean([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(est, clean)]))
            res[f"{m}peaks_found"] = found / max(n_true, 1)
            res[f"{m}peaks_pure"] = near / max(n_est, 1)
        return {**res, "examples": [clean[:2], noisy[:2], *(e[:2] for e in estimates.values())]}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_denoise

        return plot_denoise(results, Path(out_dir))
