"""Slices -> cases: predictions gathered per case, 3D Dice and Hausdorff 95 per case, their summary."""
from __future__ import annotations

from typing import Iterable

import numpy as np
import torch

from .metrics import dice, hausdorff95, soft_dice

OVERLAYS = 6  # cases drawn in the overlay figure


def collect(model, batches: Iterable[dict]) -> dict | None:
    """Model probabilities and the inputs of every slice: {"p", "x", "y": float32[n, H, W], "case",
    "slice": int[n], "spacing": float[n, 3]}; None when there are no batches."""
    device = next(model.parameters()).device
    parts: dict[str, list] = {k: [] for k in ("p", "x", "y", "case", "slice", "spacing")}
    for b in batches:
        x = b["x"].to(device)
        parts["p"].append(torch.sigmoid(model(x))[:, 0].float().cpu().numpy())
        parts["x"].append(np.asarray(b["x"][:, 0].cpu()))
        parts["y"].append(np.asarray(b["y"][:, 0].cpu()))
        for k in ("case", "slice", "spacing"):
            parts[k].append(np.asarray(b[k].cpu() if torch.is_tensor(b[k]) else b[k]))
    if not parts["p"]:
        return None
    return {k: np.concatenate(v) for k, v in parts.items()}


def per_case(got: dict, threshold: float, names: list[str], sites: dict[str, str]) -> dict:
    """{"loss", "dsc", "dsc_sd", "dsc_min", "hd95", "cases"} plus "case_rows" and "overlays"."""
    rows, overlays = [], []
    for c in np.unique(got["case"]):
        sel = np.flatnonzero(got["case"] == c)
        sel = sel[np.argsort(got["slice"][sel])]
        p, y = got["p"][sel], got["y"][sel] > 0.5
        pred = p > threshold
        spacing = tuple(float(v) for v in got["spacing"][sel[0]])
        voxel = float(np.prod(spacing)) / 1000.0
        name = names[c] if c < len(names) else f"case{c}"
        rows.append({"case": name, "site": sites.get(name, ""), "dsc": dice(pred, y),
                     "hd95_mm": hausdorff95(pred, y, spacing), "true_cc": float(y.sum() * voxel),
                     "pred_cc": float(pred.sum() * voxel)})
        k = int(np.argmax(y.reshape(len(sel), -1).sum(axis=1)))
        overlays.append((name, rows[-1]["dsc"], got["x"][sel[k]], y[k], pred[k]))
    dsc = np.array([r["dsc"] for r in rows])
    hd = np.array([r["hd95_mm"] for r in rows])
    soft = float(soft_dice(torch.as_tensor(got["p"]), torch.as_tensor(got["y"])))
    order = np.argsort(dsc)
    pick = order[np.linspace(0, len(order) - 1, min(OVERLAYS, len(order))).astype(int)]
    return {"loss": 1.0 - soft, "dsc": float(dsc.mean()), "dsc_sd": float(dsc.std()), "dsc_min": float(dsc.min()),
            "hd95": float(np.nanmean(hd)) if np.isfinite(hd).any() else float("nan"),
            "cases": float(len(rows)), "case_rows": rows, "overlays": [overlays[i] for i in pick]}
