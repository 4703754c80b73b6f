"""example-oscillator: the damping rate and frequency of a damped oscillator from a noisy trajectory.

The developer guide's minimal task: a source (:mod:`.source`), a typed config, a small network, one
loss, metrics and a figure. Everything else (Ray, the loop, checkpoints, MLflow) is the platform's.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
from torch import nn

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import rows_of

from .config import OscillatorConfig, OscillatorData, OscillatorModel  # noqa: F401
from .source import OscillatorParams


def _scaled(d: OscillatorData) -> tuple[np.ndarray, np.ndarray]:
    """(centre, half width) of the (gamma, omega0) ranges: targets are trained as (y - centre) / width,
    so that both weigh alike in the loss."""
    lo, hi = np.array([d.gamma[0], d.omega0[0]]), np.array([d.gamma[1], d.omega0[1]])
    return (lo + hi) / 2, (hi - lo) / 2


def _preprocess(batch: dict, split: int | None, d: OscillatorData) -> dict:
    """x float32[n, steps]; y float32[n, 2] = (gamma, omega0) scaled by :func:`_scaled`; rows of
    ``split`` only."""
    keep = rows_of(batch["id"], split, d.holdout)
    x = np.stack(batch["x"][keep]).astype(np.float32) if keep.any() else np.zeros((0, d.steps), np.float32)
    centre, width = _scaled(d)
    y = (np.stack([batch["gamma"][keep], batch["omega0"][keep]], axis=1) - centre) / width
    return {"x": x, "y": y.astype(np.float32)}


class Oscillator(Task):
    name: ClassVar[str] = "example-oscillator"
    Config: ClassVar[type] = OscillatorConfig
    summary: ClassVar[str] = "the developer guide's example: a damped oscillator's gamma and omega0 from its trajectory"
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 1e-2]}, "model.hidden": {"choice": [32, 64]}}
    metrics: ClassVar[tuple[str, ...]] = ("loss", "r2_gamma", "r2_omega0")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/r2_gamma", "max")

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("oscillator", "damped")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        params = OscillatorParams(n=d.n, steps=d.steps, noise=d.noise, gamma=d.gamma, omega0=d.omega0, seed=d.seed)
        return Simulation("physml.tasks.example.source:OscillatorSource", params)

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        cols, d = ["id", "gamma", "omega0", "x"], cfg.data
        return {
            name: DatasetSpec(uri, cols, lambda b, s=split: _preprocess(b, s, d))
            for name, split in (("train", 2), ("val", 0), ("test", 1))
        }

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """A user's dataset decides the trajectory length the network takes."""
        return {**cfg_dict, "data": {**cfg_dict.get("data", {}), "steps": int(data_params["steps"])}}

    def model(self, cfg) -> nn.Module:
        h = cfg.model.hidden
        return nn.Sequential(nn.Linear(cfg.data.steps, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 2))

    def loss(self, model, batch: dict, cfg) -> dict:
        """Mean squared error of the scaled (gamma, omega0)."""
        return {"loss": ((model(batch["x"]) - batch["y"]) ** 2).mean()}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """loss (as in training), r2 of gamma and of omega0 (1 - SSE / SST), and the predictions
        (true, predicted: float[n, 2], physical units) for the figure."""
        device = next(model.parameters()).device
        pred, true = [], []
        for b in batches:
            pred.append(model(b["x"].to(device)).cpu().numpy())
            true.append(b["y"].cpu().numpy())
        if not pred:
            return {}
        centre, width = _scaled(cfg.data)
        p, y = np.concatenate(pred) * width + centre, np.concatenate(true) * width + centre
        r2 = 1 - ((p - y) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
        return {
            "loss": float((((p - y) / width) ** 2).mean()),
            "r2_gamma": float(r2[0]),
            "r2_omega0": float(r2[1]),
            "predictions": (y, p),
        }

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        """plots/predicted.png: predicted against true gamma and omega0."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if "predictions" not in results:
            return []
        y, p = results["predictions"]
        fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
        for k, (ax, label) in enumerate(zip(axes, ("gamma (1/s)", "omega0 (rad/s)"))):
            ax.scatter(y[:, k], p[:, k], s=3)
            ax.plot(*[[y[:, k].min(), y[:, k].max()]] * 2, "k--", lw=0.8)
            ax.set(xlabel=f"true {label}", ylabel="predicted")
        out = Path(out_dir) / "predicted.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(out, dpi=100)
        plt.close(fig)
        return [out]
