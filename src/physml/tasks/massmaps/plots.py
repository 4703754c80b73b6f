"""massmaps figures: maps of each cosmology and the accuracies of the CNN and the baselines; a clean,
noisy and denoised map side by side with the baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from physml.tasks.figures import save_figure


def plot_cosmology(results: dict, out_dir: Path, published: float) -> list[Path]:
    """plots/accuracy.png: accuracy of the CNN and of each baseline (binomial errors); plots/maps.png."""
    import matplotlib.pyplot as plt

    if "test/accuracy" not in results:
        return []
    names = ["accuracy", "acc_power", "acc_peaks", "acc_moments", "acc_combined"]
    labels = ["CNN", "power\nspectrum", "peak\ncounts", "moments", "all three"]
    acc = np.array([results[f"test/{k}"] for k in names])
    n = max(1.0, acc[0] * (1 - acc[0]) / max(results["test/accuracy_se"], 1e-9) ** 2)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.bar(labels, acc, yerr=np.sqrt(acc * (1 - acc) / n), color=["C3"] + ["C0"] * 4)
    ax.axhline(published, color="k", ls="--", lw=1, label=f"published {published:.0%} (with noise)")
    ax.axhline(0.5, color="gray", ls=":", lw=1)
    ax.set_ylim(0.4, 1.0)
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8)
    out = [save_figure(fig, out_dir / "accuracy.png")]
    examples = results.get("examples") or []
    if examples:
        fig, axes = plt.subplots(len(examples), 3, figsize=(7, 2.4 * len(examples)), squeeze=False)
        for k, maps in enumerate(examples):
            for j, m in enumerate(maps[:3]):
                axes[k, j].imshow(m, cmap="magma")
                axes[k, j].set_xticks([]), axes[k, j].set_yticks([])
            axes[k, 0].set_ylabel(f"cosmology {k}")
        fig.suptitle("test maps as the CNN sees them (noise, smoothing)", fontsize=9)
        out.append(save_figure(fig, out_dir / "maps.png"))
    return out


def plot_denoise(results: dict, out_dir: Path) -> list[Path]:
    """plots/denoised.png: clean, noisy, U-Net, Gaussian smoothing, Wiener for two maps."""
    import matplotlib.pyplot as plt

    examples = results.get("examples") or []
    if not examples:
        return []
    titles = ["clean", "noisy", "U-Net", "Gaussian smoothing", "Wiener"]
    rows = len(examples[0])
    fig, axes = plt.subplots(rows, len(titles), figsize=(2.4 * len(titles), 2.5 * rows), squeeze=False)
    for j, (title, maps) in enumerate(zip(titles, examples)):
        for i in range(rows):
            lim = np.abs(examples[0][i]).max()
            axes[i, j].imshow(maps[i], cmap="magma", vmin=-lim / 2, vmax=lim)
            axes[i, j].set_xticks([]), axes[i, j].set_yticks([])
        axes[0, j].set_title(title, fontsize=9)
    return [save_figure(fig, out_dir / "denoised.png")]
