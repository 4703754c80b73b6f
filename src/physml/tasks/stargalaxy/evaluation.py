"""The features a stargalaxy model gives every cutout of a split (latent means, or the CNN's logit)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch


def features(task, model, batches: Iterable[dict], cfg) -> dict | None:
    """{"f": float[n, d], "y", "a", "mag": per row, "loss": mean batch loss}; None without rows."""
    device = next(model.parameters()).device
    kind = cfg.model.kind
    parts: dict[str, list] = {"f": [], "y": [], "a": [], "mag": []}
    losses = []
    for b in batches:
        x = b["x"].to(device)
        out = task.forward(model, {"x": x, "c": b["c"].to(device)}, cfg)
        f = out[:, None] if kind == "cnn" else out[-2]
        parts["f"].append(f.float().cpu().numpy())
        if kind != "cnn" or bool((b["y"] >= 0).all()):
            losses.append(float(task.loss_of(out, {**b, "x": x, "y": b["y"].to(device)}, cfg)["loss"]))
        for k in ("y", "a", "mag"):
            parts[k].append(np.asarray(b[k].cpu() if torch.is_tensor(b[k]) else b[k]))
    if not parts["f"]:
        return None
    got = {k: np.concatenate(v) for k, v in parts.items()}
    got["a"] = got["a"].astype(bool)
    got["loss"] = float(np.mean(losses)) if losses else float("nan")
    return got
