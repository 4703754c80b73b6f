"""Slices -> cases: predictions gathered per case, 3D Dice and Hausdorff 95 per case, their summary."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from .metrics import dice, hausdorff95, soft_dice

OVERLAYS = 6  # cases drawn in the overlay figure


def collect(model, batches: Iterable[dict]) -> dict | None:
    """Model probabilities and the inputs of every slice: {"p", "x", "y": float32[n, H, W], "case",
    "slice": int[n], "spacing": float[n, 3]}; slab rows are cut into their slices (padding dropped).
    None when there are no batches."""
    device = next(model.parameters()).device
    parts: dict[str, list] = {k: [] for k in ("p", "x", "y", "case", "slice", "spacing")}
    for b in batches:
        b = {k: np.asarray(v.cpu()) if torch.is_tensor(v) else np.asarray(v) for k, v in b.items()}
        p = torch.sigmoid(model(torch.as_tensor(b["x"]).to(device)))[:, 0].float().cpu().numpy()
        for k, v in as_slices({**b, "p": p}).items():
            parts[k].append(v)
    if not parts["p"]:
        return None
    return {k: np.concatenate(v) for k, v in parts.items()}


def as_slices(b: dict) -> dict:
    """A batch of slice rows (p [n, H, W], x/y [n, 1, H, W]) or slab rows (p [n, D, H, W], x/y
    [n, 1, D, H, W]) as slice rows, dropping the padding slices past each case's last."""
    p = b["p"]
    if p.ndim == 3:
        return {
            "p": p,
            "x": b["x"][:, 0],
            "y": b["y"][:, 0],
            "case": b["case"],
            "slice": b["slice"],
            "spacing": b["spacing"],
        }
    n, d = p.shape[:2]
    z = (b["slice"][:, None] + np.arange(d)).ravel()
    keep = z < np.repeat(b["slices"], d)
    flat = lambda a: a.reshape((n * d,) + a.shape[2:])[keep]
    return {
        "p": flat(p),
        "x": flat(b["x"][:, 0]),
        "y": flat(b["y"][:, 0]),
        "case": np.repeat(b["case"], d)[keep],
        "slice": z[keep],
        "spacing": np.repeat(b["spacing"], d, axis=0)[keep],
    }


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
        rows.append(
            {
                "case": name,
                "site": sites.get(name, ""),
                "dsc": dice(pred, y),
                "hd95_mm": hausdorff95(pred, y, spacing),
                "true_cc": float(y.sum() * voxel),
                "pred_cc": float(pred.sum() * voxel),
            }
        )
        k = int(np.argmax(y.reshape(len(sel), -1).sum(axis=1)))
        overlays.append((name, rows[-1]["dsc"], got["x"][sel[k]], y[k], pred[k]))
    dsc = np.array([r["dsc"] for r in rows])
    hd = np.array([r["hd95_mm"] for r in rows])
    soft = float(soft_dice(torch.as_tensor(got["p"]), torch.as_tensor(got["y"])))
    order = np.argsort(dsc)
    pick = order[np.linspace(0, len(order) - 1, min(OVERLAYS, len(order))).astype(int)]
    by_site = {
        f"dsc_site_{s}": float(np.mean([r["dsc"] for r in rows if r["site"] == s]))
        for s in sorted({r["site"] for r in rows if r["site"]})
    }
    return {
        "loss": 1.0 - soft,
        "dsc": float(dsc.mean()),
        "dsc_sd": float(dsc.std()),
        "dsc_min": float(dsc.min()),
        "hd95": float(np.nanmean(hd)) if np.isfinite(hd).any() else float("nan"),
        **by_site,
        "cases": float(len(rows)),
        "case_rows": rows,
        "overlays": [overlays[i] for i in pick],
    }
