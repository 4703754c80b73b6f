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
