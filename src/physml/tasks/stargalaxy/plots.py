"""Figures of the stargalaxy task: the latent space by true class (the source's Fig. 6) and accuracy
per magnitude (its Fig. 8c)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from physml.tasks.figures import save_figure


def plot_latent(f: np.ndarray, y: np.ndarray, path: Path) -> Path:
    """z_0 histograms of stars and galaxies, and z_0 vs z_1 when there are two dimensions."""
    fig, axes = plt.subplots(1, 2 if f.shape[1] > 1 else 1, figsize=(9 if f.shape[1] > 1 else 4.5, 3.4), squeeze=False)
    for k, (name, colour) in enumerate((("star", "tab:orange"), ("galaxy", "tab:blue"))):
        axes[0, 0].hist(f[y == k, 0], bins=60, alpha=0.6, color=colour, label=name, density=True)
        if f.shape[1] > 1:
            axes[0, 1].scatter(f[y == k, 0], f[y == k, 1], s=2, alpha=0.4, color=colour, label=name)
    axes[0, 0].set_xlabel("$z_0$ (latent mean)")
    axes[0, 0].legend(fontsize=8)
    if f.shape[1] > 1:
        axes[0, 1].set_xlabel("$z_0$")
        axes[0, 1].set_ylabel("$z_1$")
    return save_figure(fig, path)


def plot_accuracy(rows: list, path: Path) -> Path:
    """Accuracy on set B per magnitude bin (the source's Fig. 8c)."""
    mag, acc, n = (np.array(v) for v in zip(*rows))
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    err = np.sqrt(acc * (1 - acc) / np.maximum(n, 1))
    ax.errorbar(mag, acc, err, marker="o", capsize=2)
    ax.set_xlabel("r magnitude")
    ax.set_ylabel("accuracy (set B)")
    ax.set_ylim(0.4, 1.02)
    return save_figure(fig, path)


def plot_stargalaxy(results: dict, out: Path) -> list[Path]:
    paths = []
    if "latent" in results and (results["label"] >= 0).any():
        known = results["label"] >= 0
        paths.append(plot_latent(results["latent"][known], results["label"][known], out / "latent.png"))
    if results.get("acc_by_mag"):
        paths.append(plot_accuracy(results["acc_by_mag"], out / "accuracy_vs_magnitude.png"))
    return paths


def _m(results: dict, key: str) -> float:
    return results.get(f"test/{key}", results.get(key, float("nan")))


def plot_segmentation(results: dict, out: Path) -> list[Path]:
    """overlays.png (field, truth, hypercolumn mask, threshold mask per example) and hdf.png (the
    Hubble Deep Field with its foreground outlined)."""
    paths = []
    ex = results.get("examples", [])
    if ex:
        fig, axes = plt.subplots(len(ex), 4, figsize=(10, 2.6 * len(ex)), squeeze=False)
        titles = [
            "field (asinh)",
            "truth mask",
            f"hypercolumns: IoU {_m(results, 'iou'):.3f}",
            f"threshold: IoU {_m(results, 'iou_baseline'):.3f}",
        ]
        for row, (x, truth, pred, base) in zip(axes, ex):
            row[0].imshow(x, origin="lower", cmap="gray", vmin=-0.1, vmax=1)
            for ax, m in zip(row[1:], (truth, pred, base)):
                ax.imshow(x, origin="lower", cmap="gray", vmin=-0.1, vmax=1)
                ax.imshow(np.ma.masked_where(~m.astype(bool), m), origin="lower", cmap="autumn", alpha=0.45)
            for ax, t in zip(row, titles):
                ax.set(title=t, xticks=[], yticks=[])
        paths.append(save_figure(fig, out / "overlays.png"))
    if "hdf" in results:
        img, mask = results["hdf"]
        fig, axes = plt.subplots(1, 2, figsize=(11, 5))
        axes[0].imshow(img, origin="upper", cmap="gray", vmin=-0.1, vmax=1)
        axes[1].imshow(img, origin="upper", cmap="gray", vmin=-0.1, vmax=1)
        axes[1].contour(mask, levels=[0.5], colors="orange", linewidths=0.6)
        axes[0].set(title="Hubble Deep Field (scikit-image)", xticks=[], yticks=[])
        axes[1].set(title=f"hypercolumn foreground ({mask.mean():.1%} of the pixels)", xticks=[], yticks=[])
        paths.append(save_figure(fig, out / "hdf.png"))
    return paths
