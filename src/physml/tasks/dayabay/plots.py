"""Figures of the dayabay task: the confusion matrix with per-class accuracy, and example PMT images."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .events import CLASSES


def plot_dayabay(results: dict, out_dir: Path, published: float) -> list[Path]:
    """plots/confusion.png and plots/events.png under ``out_dir``."""
    if "confusion" not in results:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    cm = results["confusion"]
    r = {k.removeprefix("test/"): v for k, v in results.items()}  # the platform prefixes the split
    frac = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(CLASSES)):
        for j in range(len(CLASSES)):
            ax.text(j, i, f"{frac[i, j]:.3f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(CLASSES)), CLASSES, rotation=30)
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set(xlabel="predicted", ylabel="true")
    cut = f"flasher cut: eff {r['cut_flasher_eff']:.3f}, fpr {r['cut_flasher_fpr']:.4f}"
    ax.set_title(f"accuracy {r['accuracy']:.4f} (published > {published}); {cut}", fontsize=7)
    paths = [out_dir / "confusion.png"]
    fig.tight_layout()
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)
    ex = results["examples"]
    fig, axes = plt.subplots(len(CLASSES), 3, figsize=(9, 1.3 * len(CLASSES)))
    for i, c in enumerate(CLASSES):
        for j in range(3):
            a = axes[i, j]
            if j < len(ex[c]):
                a.imshow(ex[c][j], cmap="magma", aspect="auto", origin="lower")
            a.set_xticks([]), a.set_yticks([])
            if j == 0:
                a.set_ylabel(c, fontsize=8)
    fig.suptitle("PMT charges, log(1 + q) scaled (rows: 8 rings, bottom to top; columns: 24 azimuths)", fontsize=9)
    paths.append(out_dir / "events.png")
    fig.tight_layout()
    fig.savefig(paths[1], dpi=100)
    plt.close(fig)
    return paths


def plot_embedding(results: dict, out_dir: Path) -> list[Path]:
    """plots/tsne.png: the t-SNE of the autoencoder's code, one colour per (unseen) class."""
    if "embedding" not in results:
        return []
    r = {k.removeprefix("test/"): v for k, v in results.items()}
    emb, labels = results["embedding"], results["labels"]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for k, c in enumerate(CLASSES):
        sel = labels == k
        ax.scatter(emb[sel, 0], emb[sel, 1], s=3, label=c)
    ax.legend(markerscale=4, fontsize=8)
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(
        f"t-SNE of the code: 10-NN purity {r['knn_purity_tsne']:.3f}, silhouette {r['silhouette_tsne']:.3f}",
        fontsize=8,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "tsne.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
