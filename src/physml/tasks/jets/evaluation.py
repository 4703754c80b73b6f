"""Scoring jet taggers as the field does (scikit-learn ROC, scipy Jensen-Shannon): ROC-AUC, the
background rejection 1/eps_B at a signal efficiency eps_S = 0.3 (Kasieczka et al. 2019, "The
machine learning landscape of top taggers", arXiv 1902.09914), the cut-based baseline (a top-mass
window, then a cut on tau_32), and mass sculpting: the QCD mass distribution after the cut on the score
that keeps half the tops against before, by the Jensen-Shannon divergence."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import roc_auc_score, roc_curve

EFFICIENCY = 0.3  # signal efficiency of the quoted rejection
SCULPT_EFFICIENCY = 0.5  # signal efficiency of the cut for the sculpting check (as 1/JSD at
# eps_S = 50% in the decorrelation literature, e.g. arXiv 2001.05310)
MASS_BINS = np.linspace(0.0, 300.0, 31)  # GeV, for sculpting
OUTSIDE = -1e9  # the baseline's score of jets outside the mass window


def rejection(y: np.ndarray, score: np.ndarray, efficiency: float = EFFICIENCY) -> float:
    """1 / eps_B at signal efficiency ``efficiency`` (eps_B interpolated on the ROC curve; at least
    one background jet's worth, 1 / n_B, so a perfect tagger gives the lower bound n_B)."""
    fpr, tpr, _ = roc_curve(y, score)
    n_b = int((y == 0).sum())
    eps_b = float(np.interp(efficiency, tpr, fpr))
    return 1.0 / max(eps_b, 1.0 / n_b)


def cut_score(mass: np.ndarray, tau32: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """The simple selection as a score: jets inside the mass window (GeV) ranked by -tau_32, jets
    outside below all of them; its ROC is the family of tau_32 cuts after the window cut."""
    inside = (mass >= window[0]) & (mass <= window[1])
    return np.where(inside, -tau32, OUTSIDE)


def threshold_at(y: np.ndarray, score: np.ndarray, efficiency: float = EFFICIENCY) -> float:
    """The score cut keeping a fraction ``efficiency`` of the signal."""
    return float(np.quantile(score[y == 1], 1.0 - efficiency))


def sculpting(y: np.ndarray, score: np.ndarray, mass: np.ndarray, efficiency: float = SCULPT_EFFICIENCY) -> dict:
    """Background mass histograms before and after the cut at ``efficiency`` and their Jensen-Shannon
    divergence (base 2, in [0, 1]; NaN when no background survives)."""
    bkg = y == 0
    cut = score >= threshold_at(y, score, efficiency)
    before, _ = np.histogram(mass[bkg], MASS_BINS)
    after, _ = np.histogram(mass[bkg & cut], MASS_BINS)
    jsd = float(jensenshannon(before, after, base=2) ** 2) if after.sum() and before.sum() else float("nan")
    return {"before": before, "after": after, "jsd": jsd}


def summarise(
    y: np.ndarray, score: np.ndarray, mass: np.ndarray, tau32: np.ndarray, window: tuple[float, float]
) -> dict:
    """Metrics (floats) and curves (arrays, for the report) of a score and of the cut baseline."""
    base = cut_score(mass, tau32, window)
    fpr, tpr, _ = roc_curve(y, score)
    bfpr, btpr, _ = roc_curve(y, base)
    sc = sculpting(y, score, mass)
    se = bootstrap(y, score)
    return {
        "auc": float(roc_auc_score(y, score)),
        "auc_se": se["auc"],
        "rejection30": rejection(y, score),
        "rejection30_se": se["rejection30"],
        "rejection50": rejection(y, score, 0.5),
        "baseline_auc": float(roc_auc_score(y, base)),
        "baseline_rejection30": rejection(y, base),
        "mass_jsd": sc["jsd"],
        "baseline_mass_jsd": sculpting(y, base, mass)["jsd"],
        "curves": {"model": (fpr, tpr), "baseline": (bfpr, btpr)},
        "mass_hist": sc,
        "score": score,
        "y": y,
        "mass": mass,
    }


def bootstrap(y: np.ndarray, score: np.ndarray, draws: int = 100, seed: int = 0) -> dict[str, float]:
    """Standard errors of the AUC and of 1/eps_B(0.3) over ``draws`` bootstrap resamples of the jets."""
    rng = np.random.default_rng(seed)
    aucs, rejs = [], []
    for _ in range(draws):
        i = rng.integers(0, len(y), len(y))
        if len(np.unique(y[i])) < 2:
            continue
        aucs.append(roc_auc_score(y[i], score[i]))
        rejs.append(rejection(y[i], score[i]))
    return {"auc": float(np.std(aucs, ddof=1)), "rejection30": float(np.std(rejs, ddof=1))}


def collect(model, batches: Iterable[dict], score_fn) -> dict | None:
    """{"score", "y", "mass", "tau32": float[n]} over ``batches``, with ``score_fn(model, x) ->
    float[n]`` (higher = more top-like), plus up to 8 example images and the mean image per class;
    None if empty."""
    device = next(model.parameters()).device
    parts: dict[str, list] = {"score": [], "y": [], "mass": [], "tau32": []}
    examples: dict[int, list] = {0: [], 1: []}
    sums: dict[int, np.ndarray] = {}
    for b in batches:
        x = b["x"].to(device)
        s = score_fn(model, x)
        x = b.get("image", b["x"]).to(device)  # the images, whatever the model reads
        parts["score"].append(s.detach().float().cpu().numpy())
        for k in ("y", "mass", "tau32"):
            parts[k].append(np.asarray(b[k].cpu() if torch.is_tensor(b[k]) else b[k], np.float64))
        y = parts["y"][-1]
        for c in (0, 1):
            need = 8 - len(examples[c])
            xc = x[torch.as_tensor(y == c, device=device)][:, 0].float().cpu().numpy()
            examples[c] += list(xc[: max(need, 0)])
            sums[c] = sums.get(c, 0) + xc.sum(0)
    if not parts["score"]:
        return None
    out = {k: np.concatenate(v) for k, v in parts.items()}
    out["y"] = out["y"].astype(np.int64)
    out["examples"] = examples
    out["mean_image"] = {c: sums[c] / max(int((out["y"] == c).sum()), 1) for c in sums}
    return out
