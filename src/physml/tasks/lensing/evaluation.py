"""Scoring lensing models: the anomaly score (per-image mean squared reconstruction error) or the
ResNet's class probabilities; ROC-AUC (scikit-learn) per substructure class against none, binary (any
substructure vs none) and macro; the first Wasserstein distance between each reconstructed and true
image's pixel distributions (scipy; the source's W1, averaged over images without substructure)."""
from __future__ import annotations

from typing import Iterable

import numpy as np
import torch
from scipy.stats import wasserstein_distance
from sklearn.metrics import roc_auc_score, roc_curve

from .lenses import CLASSES

EXAMPLES = 4  # example reconstructions kept per class


def collect(model, batches: Iterable[dict], kind: str) -> dict | None:
    """{"score": float[n] (anomaly score, or P(substructure)), "probs": float[n, 3] (ResNet), "y": int[n],
    "w1": float[n] (NaN for the ResNet), "examples": {class: (x, recon) float[k, R, R]}}; None if empty."""
    device = next(model.parameters()).device
    parts: dict[str, list] = {"score": [], "probs": [], "y": [], "w1": []}
    examples: dict[int, list] = {}
    for b in batches:
        x, y = b["x"].to(device), np.asarray(b["y"].cpu() if torch.is_tensor(b["y"]) else b["y"])
        if kind == "resnet":
            p = torch.softmax(model(x).float(), 1).cpu().numpy()
            parts["probs"].append(p)
            parts["score"].append(1.0 - p[:, 0])
            parts["w1"].append(np.full(len(y), np.nan))
        else:
            rec = model(x)["recon"].float()
            parts["score"].append(((rec - x) ** 2).flatten(1).mean(1).cpu().numpy())
            xr, rr = x[:, 0].cpu().numpy(), rec[:, 0].cpu().numpy()
            parts["w1"].append(np.array([wasserstein_distance(a.ravel(), r.ravel()) for a, r in zip(xr, rr)]))
            for label in np.unique(y):
                have = examples.setdefault(int(label), [])
                need = EXAMPLES - len(have)
                have += [(xr[i], rr[i]) for i in np.flatnonzero(y == label)[:max(need, 0)]]
        parts["y"].append(y)
    if not parts["y"] or not sum(len(v) for v in parts["y"]):
        return None
    got = {k: np.concatenate(v) for k, v in parts.items() if v}
    got["examples"] = {CLASSES[k]: (np.stack([a for a, _ in v]), np.stack([r for _, r in v]))
                       for k, v in examples.items() if v}
    return got


def check_classes(y: np.ndarray) -> list[int]:
    """The substructure labels present; a clear error when ``none`` or every substructure class is absent."""
    present = sorted(int(v) for v in np.unique(y))
    subs = [k for k in present if k > 0]
    if 0 not in present or not subs:
        found = ", ".join(CLASSES[k] for k in present) or "nothing"
        raise ValueError(f"evaluation data holds {found}: the AUC needs images without substructure (none) and of at "
                         f"least one substructure class ({', '.join(CLASSES[1:])})")
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


def roc_curves(score: np.ndarray, y: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """{class: (false positive rate, true positive rate, AUC)} of each substructure class against none."""
    out = {}
    for k in check_classes(y):
        sel = (y == 0) | (y == k)
        fpr, tpr, _ = roc_curve(y[sel] == k, score[sel])
        out[CLASSES[k]] = (fpr, tpr, float(roc_auc_score(y[sel] == k, score[sel])))
    return out


def score(got: dict, kind: str) -> dict:
    """Metrics (floats) and the arrays the report draws."""
    y, s = got["y"], got["score"]
    out = anomaly_aucs(s, y)
    if kind == "resnet":
        present = sorted(int(v) for v in np.unique(y))
        if len(present) == len(CLASSES):  # three-class one-vs-rest macro AUC
            out["auc_macro"] = float(roc_auc_score(y, got["probs"], multi_class="ovr", average="macro"))
        out["acc"] = float((got["probs"].argmax(1) == y).mean())
        out["loss"] = float(-np.log(np.clip(got["probs"][np.arange(len(y)), y], 1e-12, None)).mean())
    else:
        out["loss"] = float(s[y == 0].mean())
        out["w1"] = float(np.nanmean(got["w1"][y == 0]))
    out.update(scores=s, labels=y, roc=roc_curves(s, y), examples=got.get("examples", {}), kind=kind)
    return out
