"""phases-confusion: van Nieuwenburg, Liu & Huber, "Learning phase transitions by confusion",
Nat. Phys. 13, 435 (2017).

For each proposed critical temperature Tc' on a grid, a classifier is trained with the labels
"T < Tc'". Its test accuracy is 1 at the ends of the grid (all one label), dips in between, and
peaks again where Tc' meets the true Tc: the accuracy-vs-Tc' curve is W-shaped and its middle peak
estimates Tc. The K classifiers are independent networks (separate parameters) trained side by side
in one model, so one training loop serves the whole scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from physml.tasks.base import Task

from . import data as phases_data
from .confusion_config import ConfusionConfig, ConfusionModel  # noqa: F401
from .nets import ConvClassifier


def proposals(text: str) -> np.ndarray:
    from physml.tasks.ising.params import parse_temperatures

    return np.array(parse_temperatures(text))


class Ensemble(nn.Module):
    """K independent classifiers; input float[B, L, L] -> logits float[B, K]."""

    def __init__(self, k: int, channels: int, hidden: int):
        super().__init__()
        self.nets = nn.ModuleList(ConvClassifier(channels, hidden) for _ in range(k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(x) for net in self.nets], dim=-1)


class ConfusionPhases(Task):
    name: ClassVar[str] = "phases-confusion"
    summary: ClassVar[str] = (
        "Tc by learning by confusion: networks trained on proposed critical temperatures (van Nieuwenburg et al. 2017)"
    )
    Config: ClassVar[type] = ConfusionConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 1e-2]}}
    metrics: ClassVar[tuple[str, ...]] = ("acc", "tc")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/acc", "max")

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("ising", "ising")

    def simulation(self, cfg):
        return phases_data.simulation(cfg.data)

    def datasets(self, cfg, uri: str):
        specs = phases_data.splits(cfg.data, uri, exclude=0.0)
        return {k: v for k, v in specs.items() if not k.startswith("test/") or k == f"test/L{cfg.data.fit_L}"}

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        d = cfg_dict.setdefault("data", {})
        d["L"], d["train_L"] = [int(x) for x in data_params.get("L", [])], 0
        return cfg_dict

    def model(self, cfg) -> nn.Module:
        return Ensemble(len(proposals(cfg.model.proposals)), cfg.model.channels, cfg.model.hidden)

    def _labels(self, T: torch.Tensor, cfg) -> torch.Tensor:
        tp = torch.as_tensor(proposals(cfg.model.proposals), dtype=torch.float32, device=T.device)
        return (T.float()[:, None] < tp[None, :]).float()

    def loss(self, model, batch: dict, cfg) -> dict:
        logits = model(batch["x"])
        y = self._labels(batch["T"], cfg)
        return {"loss": F.binary_cross_entropy_with_logits(logits, y) * logits.shape[-1]}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """acc per proposal (the W curve), the middle peak tc, and mean accuracy."""
        device = next(model.parameters()).device
        correct, n = None, 0
        for b in batches:
            logits = model(b["x"].to(device))
            ok = ((logits > 0).float() == self._labels(b["T"].to(device), cfg)).float().sum(0)
            correct = ok if correct is None else correct + ok
            n += len(b["x"])
        if not n:
            return {}
        acc = (correct / n).cpu().numpy()
        tp = proposals(cfg.model.proposals)
        tc, err = middle_peak(tp, acc)
        return {"acc": float(acc.mean()), "tc": tc, "tc_grid_step": err, "w_curve": (tp, acc)}

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_confusion

        return plot_confusion(results, Path(out_dir))


def middle_peak(tp: np.ndarray, acc: np.ndarray) -> tuple[float, float]:
    """Tc' of the middle peak of a W curve, and the grid step as the resolution of the scan.

    The peak is the highest point with a lower point on each side (the outer arms, rising to the
    trivial ends, have none on their outer side). Its top is often a noisy plateau, so the estimate
    is the vertex of a parabola fitted to the points of the hump that lie in its upper half (between
    the dips on either side), falling back to the highest point when that fit is not concave.
    """
    inner = [j for j in range(1, tp.size - 1) if acc[:j].min() < acc[j] and acc[j + 1 :].min() < acc[j]]
    if not inner:
        return float("nan"), float("nan")
    i = max(inner, key=lambda j: acc[j])
    lo, hi = int(np.argmin(acc[:i])), i + 1 + int(np.argmin(acc[i + 1 :]))
    level = acc[i] - 0.5 * (acc[i] - max(acc[lo], acc[hi]))
    top = [j for j in range(lo, hi + 1) if acc[j] >= level]
    step = float(tp[1] - tp[0])
    if len(top) >= 3:
        a, b, _ = np.polyfit(tp[top], acc[top], 2)
        if a < 0 and tp[top[0]] <= -b / (2 * a) <= tp[top[-1]]:
            return float(-b / (2 * a)), step
    return float(tp[i]), step
