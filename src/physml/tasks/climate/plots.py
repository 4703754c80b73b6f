"""Figures of the climate tasks (matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from physml.tasks.figures import save_figure


def segmentation_figure(results: dict, out: Path, published: dict) -> list[Path]:
    """The first channel of two test fields with labelled (solid) and predicted (dashed) TC (red) and
    AR (blue) contours; and a table of the scores beside the published ones."""
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    examples = results.get("examples", [])
    fig, axes = plt.subplots(len(examples) or 1, 1, figsize=(9, 3.6 * max(len(examples), 1)), squeeze=False)
    for ax, (field, labels, pred) in zip(axes[:, 0], examples):
        ax.imshow(field, origin="lower", cmap="viridis", aspect="auto")
        for value, colour in ((1, "red"), (2, "blue")):
            for mask, style in ((labels, "solid"), (pred, "dashed")):
                if (mask == value).any():
                    ax.contour((mask == value).astype(float), levels=[0.5], colors=colour, linestyles=style)
        ax.set_xlabel("longitude index"), ax.set_ylabel("latitude index")
        ax.set_title(f"{results.get('channel', '')} (normalised); labels solid, predicted dashed; TC red, AR blue")
    paths = [save_figure(fig, out / "segmentation.png")]
    lines = ["class  IoU (this run)  published (ClimateNet DeepLabv3+, expert labels)"]
    for k in ("tc", "ar"):
        lines.append(f"{k.upper():5s}  {results.get(f'test/iou_{k}', np.nan):.3f}          {published[k]:.2f}")
    if "test/iou_tc_truth" in results:
        lines.append(
            f"against the placed truth: TC {results['test/iou_tc_truth']:.3f}, AR {results['test/iou_ar_truth']:.3f}"
        )
    (out / "iou.txt").write_text("\n".join(lines) + "\n")
    return [*paths, out / "iou.txt"]
