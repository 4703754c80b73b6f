"""Scoring lensing models: the anomaly score (the reconstruction error: per-image mean squared error,
the reduced chi^2 under the images' noise model, or that chi^2 PSF-smoothed where it is largest) or
the ResNet's class probabilities; ROC-AUC (scikit-learn) per substructure class against none, binary
(any substructure vs none) and macro, each with its bootstrap standard error; the first Wasserstein
distance between each reconstructed and true image's pixel distributions (scipy; the source's W1,
averaged over images without substructure)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from scipy.ndimage import gaussian_filter
from scipy.stats import wasserstein_distance
from sklearn.metrics import roc_auc_score, roc_curve

from .lenses import CLASSES, SCORES
from .symmetry import square_symmetry

EXAMPLES = 4  # example reconstructions kept per class
TOP = 0.01  # local_chi2: the fraction of pixels (the largest smoothed residuals) it averages
BOOT = 200  # bootstrap resamples behind each AUC's standard error


def background_sigma(x: np.ndarray, frame: int = 4) -> np.ndarray:
    """float[n]: the sky noise of images float[n, R, R] from the MAD of their outer ``frame`` pixels."""
    n = len(x)
    edge = np.concatenate(
        [
            x[:, :frame].reshape(n, -1),
            x[:, -frame:].reshape(n, -1),
            x[:, frame:-frame, :frame].reshape(n, -1),
            x[:, frame:-frame, -frame:].reshape(n, -1),
        ],
        1,
    )
    return 1.4826 * np.median(np.abs(edge - np.median(edge, 1, keepdims=True)), 1) + 1e-6


def chi2(x: np.ndarray, recon: np.ndarray, exposure: float) -> np.ndarray:
    """float[n]: reduced chi^2 of reconstructions of peak-normalised images float[n, R, R] under the
    simulator's noise model, var = sigma_b^2 + sigma_b max(recon, 0) / exposure (background plus
    source Poisson noise in units of the peak; sigma_b from the image's border)."""
    return (residual_z(x, recon, exposure) ** 2).reshape(len(x), -1).mean(1)


def residual_z(x: np.ndarray, recon: np.ndarray, exposure: float) -> np.ndarray:
    """float[n, R, R]: residuals (x - recon) in units of the noise sigma of :func:`chi2`'s model."""
    sb = background_sigma(x)[:, None, None]
    return (x - recon) / np.sqrt(sb**2 + sb * np.clip(recon, 0, None) / exposure)


def local_chi2(x: np.ndarray, recon: np.ndarray, exposure: float, sigma: float, top: float = TOP) -> np.ndarray:
    """float[n]: the reconstruction error where it is largest: the noise-weighted residuals (x - recon)
    / sqrt(var) (var as in :func:`chi2`) smoothed by a Gaussian of ``sigma`` pixels (the PSF: the
    matched filter of a perturbation smaller than it), rescaled to unit variance for white noise, squared,
    and averaged over the ``top`` fraction of pixels with the largest values. Substructure perturbs a
    few PSF-sized spots; the plain mean dilutes them over the whole image's noise."""
    z = residual_z(x, recon, exposure)
    if sigma > 0:
        z = gaussian_filter(z, (0, sigma, sigma), mode="wrap") * np.sqrt(4 * np.pi) * sigma
    flat = (z**2).reshape(len(x), -1)
    k = max(1, int(round(top * flat.shape[1])))
    return np.partition(flat, -k, axis=1)[:, -k:].mean(1)


def collect(
    model, batches: Iterable[dict], kind: str, exposure: float = 25.0, sigma: float = 1.0, symmetries: int = 1
) -> dict | None:
    """{"mse", "chi2", "local": float[n] (reconstruction errors; see :func:`chi2`, :func:`local_chi2`),
    "probs": float[n, 3] and "score" = P(substructure) (ResNet), "y": int[n], "w1": float[n] (NaN for
    the ResNet), "examples": {class: (x, recon) float[k, R, R]}}; None if empty. ``exposure``: counts
    per unit flux at the model's resolution; ``sigma``: the PSF's Gaussian sigma there, pixels.
    ``symmetries`` = 8: every number is the mean over the images' 8 symmetries of the square."""
    device = next(model.parameters()).device
    parts: dict[str, list] = {"y": []}
    examples: dict[int, list] = {}
    for b in batches:
        x, y = b["x"].to(device), np.asarray(b["y"].cpu() if torch.is_tensor(b["y"]) else b["y"])
        views = [_measure(model, square_symmetry(x, g), kind, exposure, sigma) for g in range(symmetries)]
        for key in views[0]:
            if key != "recon":
                parts.setdefault(key, []).append(np.mean([v[key] for v in views], axis=0))
        if kind != "resnet":
            xr, rr = x[:, 0].cpu().numpy(), views[0]["recon"]
            for label in np.unique(y):
                have = examples.setdefault(int(label), [])
                need = EXAMPLES - len(have)
                have += [(xr[i], rr[i]) for i in np.flatnonzero(y == label)[: max(need, 0)]]
        parts["y"].append(y)
    if not parts["y"] or not sum(len(v) for v in parts["y"]):
        return None
    got = {k: np.concatenate(v) for k, v in parts.items() if v}
    got["examples"] = {
        CLASSES[k]: (np.stack([a for a, _ in v]), np.stack([r for _, r in v])) for k, v in examples.items() if v
    }
    return got


def _measure(model, x: torch.Tensor, kind: str, exposure: float, sigma: float) -> dict[str, np.ndarray]:
    """One batch x float[n, 1, R, R] through the model: the ResNet's probs float[n, 3], score and w1
    (NaN); an autoencoder's recon float[n, R, R] and its errors mse, chi2, local, w1 float[n]."""
    if kind == "resnet":
        p = torch.softmax(model(x).float(), 1).cpu().numpy()
        return {"probs": p, "score": 1.0 - p[:, 0], "w1": np.full(len(x), np.nan)}
    rec = model(x)["recon"].float()
    xr, rr = x[:, 0].cpu().numpy(), rec[:, 0].cpu().numpy()
    return {
        "recon": rr,
        "mse": ((rr - xr) ** 2).reshape(len(xr), -1).mean(1),
        "chi2": chi2(xr, rr, exposure),
        "local": local_chi2(xr, rr, exposure, sigma),
        "w1": np.array([wasserstein_distance(a.ravel(), r.ravel()) for a, r in zip(xr, rr)]),
    }


def check_classes(y: np.ndarray) -> list[int]:
    """The substructure labels present; a clear error when ``none`` or every substructure class is absent."""
    present = sorted(int(v) for v in np.unique(y))
    subs = [k for k in present if k > 0]
    if 0 not in present or not subs:
        found = ", ".join(CLASSES[k] for k in present) or "nothing"
        raise ValueError(
            f"evaluation data holds {found}: the AUC needs images without substructure (none) and of at "
            f"least one substructure class ({', '.join(CLASSES[1:])})"
        )
    return subs


def anomaly_aucs(score: np.ndarray, y: np.ndarray) -> dict:
    """auc (any substructure vs none), auc_<class> (that class vs none) and auc_macro (their mean)."""
    subs = check_classes(y)
    out = {"auc": float(roc_auc_score(y > 0, score))}
    for k in subs:
        sel = (y == 0) | (y == k)
        out[f"auc_{CLASSES[k]}"] = float(roc_auc_score(y[sel] == k, score[sel]))
    out["auc_macro"] = float(np.mean([out[f"auc_{CLASSES[k]}"] for k in subs]))
    return out


def bootstrap_se(metrics, y: np.ndarray, arrays: tuple[np.ndarray, ...], n: int = BOOT, seed: int = 0) -> dict:
    """{key + "_se"}: the standard deviation of each float of ``metrics(y, *arrays)`` over ``n`` resamples
    of the images, drawn with replacement within each class so the class sizes stay fixed (the
    stratified bootstrap, Efron & Tibshirani 1993, ch. 6)."""
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(y == k) for k in np.unique(y)]
    draws = []
    for _ in range(n):
        take = np.concatenate([rng.choice(m, len(m)) for m in members])
        draws.append(metrics(y[take], *(a[take] for a in arrays)))
    return {f"{k}_se": float(np.std([d[k] for d in draws], ddof=1)) for k in draws[0]} if n > 1 else {}


def class_aucs(y: np.ndarray, s: np.ndarray, probs: np.ndarray | None = None) -> dict:
    """:func:`anomaly_aucs` of the score ``s``; with the ResNet's probabilities float[n, 3] and all three
    classes present, auc_macro is the three-class one-vs-rest macro AUC instead."""
    out = anomaly_aucs(s, y)
    if probs is not None and len(np.unique(y)) == len(CLASSES):
        out["auc_macro"] = float(roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    return out


def roc_curves(score: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """{class: (false positive rate, true positive rate, AUC)} of each substructure class against none."""
    out = {}
    for k in check_classes(y):
        sel = (y == 0) | (y == k)
        fpr, tpr, _ = roc_curve(y[sel] == k, score[sel])
        out[CLASSES[k]] = (fpr, tpr, float(roc_auc_score(y[sel] == k, score[sel])))
    return out


def score(got: dict, kind: str, error: str = "mse") -> dict:
    """Metrics (floats) and the arrays the report draws; the anomaly score is the reconstruction error
    ``error`` (one of SCORES), and every error's binary AUC is reported (auc_mse, auc_chi2, auc_local);
    each AUC of the chosen score carries its bootstrap standard error (auc_macro_se, ...)."""
    y = got["y"]
    s = got["score"] if kind == "resnet" else got[error]
    arrays = (s, got["probs"]) if kind == "resnet" else (s,)
    out = class_aucs(y, *arrays)
    out.update(bootstrap_se(class_aucs, y, arrays))
    if kind != "resnet":
        out.update({f"auc_{e}": anomaly_aucs(got[e], y)["auc"] for e in SCORES})
    if kind == "resnet":
        out["acc"] = float((got["probs"].argmax(1) == y).mean())
        out["loss"] = float(-np.log(np.clip(got["probs"][np.arange(len(y)), y], 1e-12, None)).mean())
    else:
        out["loss"] = float(got["mse"][y == 0].mean())
        out["w1"] = float(np.nanmean(got["w1"][y == 0]))
    out.update(scores=s, labels=y, roc=roc_curves(s, y), examples=got.get("examples", {}), kind=kind)
    return out
