"""Figures of the jets tasks: ROC curves as background rejection 1/eps_B against signal efficiency
(the tagger and the mass + tau_32 baseline), score distributions per class, the QCD mass before and
after the cut at eps_S = 0.5 (sculpting), and the mean jet image per class."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .evaluation import EFFICIENCY, MASS_BINS, SCULPT_EFFICIENCY


def _m(res: dict, key: str) -> float:
    """A metric of ``evaluate`` (the platform names float results test/<key>)."""
    return res.get(f"test/{key}", res.get(key, float("nan")))


def _roc(ax, res: dict) -> None:
    for name, (fpr, tpr) in res["curves"].items():
        ok = fpr > 0
        label = {
            "model": f"{res.get('kind', 'model')} (AUC {_m(res, 'auc'):.3f})",
            "baseline": f"mass window + tau32 (AUC {_m(res, 'baseline_auc'):.3f})",
        }[name]
        ax.plot(tpr[ok], 1 / fpr[ok], label=label, ls="-" if name == "model" else "--")
    ax.axvline(EFFICIENCY, color="grey", lw=0.8)
    ax.set(
        yscale="log",
        xlabel="signal efficiency eps_S (top)",
        ylabel="background rejection 1/eps_B (QCD)",
        xlim=(0, 1),
        title=f"1/eps_B at eps_S = 0.3: {_m(res, 'rejection30'):.1f} (baseline {_m(res, 'baseline_rejection30'):.1f})",
    )
    ax.legend(fontsize=8)


def _scores(ax, res: dict) -> None:
    s, y = res["score"], res["y"]
    lo, hi = np.quantile(s, 0.001), np.quantile(s, 0.999)
    bins = np.linspace(lo, hi if hi > lo else lo + 1e-6, 50)
    for c, name in ((0, "QCD"), (1, "top")):
        vals = s[y == c]
        vals = vals[(vals >= bins[0]) & (vals <= bins[-1])]
        if len(vals):  # density of an empty histogram is 0/0
            ax.hist(vals, bins, histtype="step", density=True, label=name)
    ax.set(xlabel="score", ylabel="density", title="score per class")
    ax.legend(fontsize=8)


def _sculpting(ax, res: dict) -> None:
    h = res["mass_hist"]
    centres = 0.5 * (MASS_BINS[1:] + MASS_BINS[:-1])
    for counts, label in (
        (h["before"], "QCD, all"),
        (h["after"], f"QCD, after the cut at eps_S = {SCULPT_EFFICIENCY}"),
    ):
        ax.step(centres, counts / max(counts.sum(), 1), where="mid", label=label)
    ax.set(xlabel="jet mass (GeV)", ylabel="fraction", title=f"mass sculpting: JSD = {_m(res, 'mass_jsd'):.3f}")
    ax.legend(fontsize=8)


def plot_jets(res: dict, out: Path) -> list[Path]:
    """roc.png (ROC, scores, sculpting) and jet-images.png (mean image per class); scores.csv."""
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    _roc(axes[0], res)
    _scores(axes[1], res)
    _sculpting(axes[2], res)
    fig.tight_layout()
    paths = [out / "roc.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.8))
    for ax, (c, name) in zip(axes, ((0, "QCD"), (1, "top"))):
        img = res["mean_image"].get(c)
        if img is None:
            continue
        im = ax.imshow(np.log10(np.maximum(img, 1e-4)), origin="lower", cmap="viridis", vmin=-4, vmax=0)
        ax.set(title=f"mean {name} jet image", xlabel="phi' (pixels)", ylabel="eta' (pixels)" if c == 0 else "")
    fig.colorbar(im, ax=axes, label="log10 (pixel / brightest)")
    paths.append(out / "jet-images.png")
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    paths.append(out / "scores.csv")
    np.savetxt(
        paths[-1],
        np.stack([res["y"], res["score"], res["mass"]], 1),
        delimiter=",",
        header="label,score,mass_gev",
        comments="",
        fmt=["%d", "%.6g", "%.4g"],
    )
    return paths
