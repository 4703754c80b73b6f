"""galaxy-vae's figures: test stamps beside the VAE's mean reconstructions, and the fraction of galaxies
where the VAE is preferred per bin of flux (the published 97.2% as a line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from physml.tasks.figures import save_figure


def stamps(x: np.ndarray, rec: np.ndarray, drawn: np.ndarray, out: Path) -> Path:
    """x, rec, drawn float[n, 1, S, S]: stamps over their reconstructions, and galaxies drawn from the
    prior (the decoder's mean image of z ~ N(0, I))."""
    import matplotlib.pyplot as plt

    rows = [("stamp", x), ("VAE (mean of z)", rec), ("drawn, z ~ N(0, I)", drawn)]
    fig, axes = plt.subplots(len(rows), len(x), figsize=(2 * len(x), 2.1 * len(rows)), squeeze=False)
    for i, (label, images) in enumerate(rows):
        for j in range(len(x)):
            axes[i, j].imshow(images[j, 0], cmap="gray")
            axes[i, j].set_xticks([]), axes[i, j].set_yticks([])
        axes[i, 0].set_ylabel(label, fontsize=8)
    return save_figure(fig, out)


def preference(rows: list[tuple[float, float, int, float]], published: float, out: Path) -> Path:
    """rows (low, high, galaxies, fraction): the fraction per flux bin with its binomial error."""
    import matplotlib.pyplot as plt

    lo, hi, n, f = (np.array(c, float) for c in zip(*rows))
    mid = np.sqrt(lo * hi)
    err = np.sqrt(np.clip(f * (1 - f), 1 / n, None) / n)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.errorbar(mid, f, yerr=err, xerr=[mid - lo, hi - mid], fmt="o", label="VAE bound > Gaussian fit")
    ax.axhline(published, color="k", ls="--", lw=1, label=f"published {published:.1%} (SDSS)")
    ax.set_xscale("log")
    ax.set_xlabel("flux / pixel noise")
    ax.set_ylabel("fraction of test galaxies")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, out)
