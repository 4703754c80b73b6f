"""Figures of the lensing task: ROC curves per substructure class (the source's ROC figure), the anomaly
score's histograms per class, and example reconstructions; the per-image scores as a CSV."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from physml.tasks.figures import save_figure, write_rows_csv

from .lenses import CLASSES

COLOURS = {"none": "tab:gray", "vortex": "tab:blue", "spherical": "tab:red"}


def plot_roc(roc: dict, kind: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.2, 4))
    for name, (fpr, tpr, auc) in roc.items():
        ax.plot(fpr, tpr, color=COLOURS[name], label=f"{name} vs none (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false positive rate (none)")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"{kind}: ROC of the {'classifier' if kind == 'resnet' else 'reconstruction loss'}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, path)


def plot_scores(scores: np.ndarray, labels: np.ndarray, kind: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    bins = np.histogram_bin_edges(scores, bins=60)
    for k, name in enumerate(CLASSES):
        if (labels == k).any():
            ax.hist(scores[labels == k], bins=bins, density=True, histtype="step", color=COLOURS[name], label=name)
    ax.set_xlabel("P(substructure)" if kind == "resnet" else "reconstruction loss (MSE per pixel)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_examples(examples: dict, path: Path) -> Path:
    """Rows: classes; columns: pairs of (image, reconstruction)."""
    names = [c for c in CLASSES if c in examples]
    k = max(len(examples[c][0]) for c in names)
    fig, axes = plt.subplots(len(names), 2 * k, figsize=(2 * k * 1.3, len(names) * 1.4), squeeze=False)
    for i, name in enumerate(names):
        xs, rs = examples[name]
        for j in range(k):
            for col, img in ((2 * j, xs), (2 * j + 1, rs)):
                ax = axes[i, col]
                ax.set_axis_off()
                if j < len(img):
                    ax.imshow(img[j], origin="lower", cmap="magma", vmin=-0.1, vmax=1.0)
            axes[i, 2 * j].set_title(f"{name}" if j == 0 else "", fontsize=7)
            axes[i, 2 * j + 1].set_title("recon." if j == 0 else "", fontsize=7)
    return save_figure(fig, path, dpi=90)


def plot_lensing(results: dict, out: Path) -> list[Path]:
    if "scores" not in results:
        return []
    kind, s, y = results["kind"], results["scores"], results["labels"]
    paths = [plot_roc(results["roc"], kind, out / "roc.png"), plot_scores(s, y, kind, out / "scores.png")]
    if results.get("examples"):
        paths.append(plot_examples(results["examples"], out / "reconstructions.png"))
    rows = [{"label": int(a), "substructure": CLASSES[int(a)], "score": float(b)} for a, b in zip(y, s)]
    paths.append(write_rows_csv(rows, out / "scores.csv"))
    return paths
