"""Figures of the prostate task: prediction/truth overlays, DSC per case by site, the per-case table."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from physml.tasks.figures import save_figure, write_rows_csv


def plot_overlays(overlays: list, path: Path) -> Path:
    """Per case, the slice with the most gland: truth contour green, prediction red."""
    n = len(overlays)
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 2.9), squeeze=False)
    for ax, (name, dsc, x, y, pred) in zip(axes[0], overlays):
        ax.imshow(x, cmap="gray", vmin=0, vmax=max(float(np.percentile(x, 99.5)), 1e-6))
        for mask, colour in ((y, "lime"), (pred, "red")):
            if mask.any():
                ax.contour(mask.astype(float), [0.5], colors=colour, linewidths=1.0)
        ax.set_title(f"{name}  DSC {dsc:.3f}", fontsize=8)
        ax.axis("off")
    fig.suptitle("truth (green) vs prediction (red), largest gland slice per case", fontsize=9)
    return save_figure(fig, path, dpi=100)


def plot_dsc(rows: list[dict], path: Path) -> Path:
    """DSC of every case, grouped and coloured by site, with the mean."""
    rows = sorted(rows, key=lambda r: (r["site"], r["case"]))
    sites = sorted({r["site"] for r in rows})
    colours = {s: plt.cm.tab10(i) for i, s in enumerate(sites)}
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(rows) + 1.5), 3.2))
    ax.bar(range(len(rows)), [r["dsc"] for r in rows], color=[colours[r["site"]] for r in rows])
    ax.axhline(np.mean([r["dsc"] for r in rows]), color="k", ls="--", lw=1, label="mean")
    ax.set_xticks(range(len(rows)), [r["case"] for r in rows], rotation=90, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("DSC (3D, per case)")
    for s in sites:
        ax.bar([], [], color=colours[s], label=f"site {s}")
    ax.legend(fontsize=7, loc="lower right")
    return save_figure(fig, path)


def plot_prostate(results: dict, out: Path) -> list[Path]:
    rows = results.get("case_rows")
    if not rows:
        return []
    return [
        plot_overlays(results["overlays"], out / "overlays.png"),
        plot_dsc(rows, out / "dsc_per_case.png"),
        write_rows_csv(rows, out / "dsc_per_case.csv"),
    ]
