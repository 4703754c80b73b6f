"""Figures of the gpe task: predicted against true ground states, and errors against g."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def profiles(states: dict, path: Path) -> Path:
    """The worst and the median state by squared error: 1D, psi true and predicted over V (right axis);
    2D, true, predicted and their difference as images."""
    plt = _plt()
    order = np.argsort(states["mse"])
    picks = {"median": order[len(order) // 2], "worst": order[-1]}
    two_d = states["true"].ndim == 3
    fig, axes = plt.subplots(len(picks), 3 if two_d else 1, figsize=(10 if two_d else 6, 3.2 * len(picks)))
    axes = np.atleast_2d(axes) if two_d else np.atleast_1d(axes)
    for row, (label, i) in enumerate(picks.items()):
        title = f"{label}: g = {states['g'][i]:.3g}, mse {states['mse'][i]:.2e}, dE/E {states['e_rel'][i]:.1e}"
        if two_d:
            t, p = states["true"][i], states["pred"][i]
            top = float(np.abs(p - t).max()) or 1.0
            for ax, img, name in zip(axes[row], (t, p, p - t), ("true", "predicted", "predicted - true")):
                diff = name == "predicted - true"
                im = ax.imshow(
                    img, cmap="RdBu_r" if diff else "viridis", vmin=-top if diff else None, vmax=top if diff else None
                )
                ax.set_title(title if name == "true" else name, fontsize=8)
                fig.colorbar(im, ax=ax, fraction=0.046)
            continue
        ax = axes[row]
        x = np.arange(states["true"].shape[1])
        ax.plot(x, states["true"][i], "k-", lw=1.5, label="solver")
        ax.plot(x, states["pred"][i], "r--", lw=1.2, label="network")
        ax.set(title=title, xlabel="grid point", ylabel="psi")
        ax2 = ax.twinx()
        ax2.plot(x, states["V"][i], color="0.6", lw=0.8)
        ax2.set_ylabel("V", color="0.5")
        ax2.set_ylim(min(0.0, states["V"][i].min()), np.percentile(states["V"][i], 60) * 2 + 1)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def errors_vs_g(states: dict, path: Path) -> Path:
    """Each held-out state's mean squared error of psi and relative energy error against 1 + g."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key, label in zip(axes, ("mse", "e_rel"), ("mean squared error of psi", "|E[psi_pred] - E| / E")):
        ax.scatter(1 + states["g"], np.maximum(states[key], 1e-12), s=4)
        ax.set(xscale="log", yscale="log", xlabel="1 + g", ylabel=label)
    axes[0].axhline(1e-4, color="k", ls="--", lw=0.8, label="1e-4 (Liang et al. 2018)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
