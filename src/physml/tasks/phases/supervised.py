"""phases-supervised: Carrasquilla & Melko, "Machine learning phases of matter", Nat. Phys. 13, 431 (2017).

A classifier learns ordered (T < Tc) vs disordered from Ising configurations away from Tc; its mean
output P(ordered | T) on held-out chains crosses 1/2 at T*(L), and T*(L) = Tc + a/L extrapolates to
Tc. Published: Tc = 2.266(2) (exact 2.269185). The network trained at one L is also applied to the
other sizes it never saw.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from physml.tasks.base import Task

from . import data as phases_data
from .crossing import extrapolate_inverse_L, half_crossing
from .nets import ConvClassifier, DenseClassifier
from .supervised_config import ModelConfig, SupervisedConfig  # noqa: F401

PUBLISHED_TC = 2.266


class SupervisedPhases(Task):
    name: ClassVar[str] = "phases-supervised"
    summary: ClassVar[str] = (
        "Tc of the 2D Ising model from a CNN trained on ordered and disordered configurations"
        " (Carrasquilla & Melko 2017)"
    )
    Config: ClassVar[type] = SupervisedConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [1e-4, 1e-2]}, "model.channels": {"choice": [8, 16, 32]}}
    metrics: ClassVar[tuple[str, ...]] = ("acc", "loss")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/acc", "max")

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("ising", "ising")

    def simulation(self, cfg):
        return phases_data.simulation(cfg.data)

    def datasets(self, cfg, uri: str):
        specs = phases_data.splits(cfg.data, uri, exclude=cfg.data.exclude)
        if cfg.model.kind == "dense":  # the paper's net only sees its own L
            specs = {k: v for k, v in specs.items() if not k.startswith("test/") or k == f"test/L{cfg.data.fit_L}"}
        return specs

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """Config for evaluating a trained model on another dataset: its sizes become data.L."""
        d = cfg_dict.setdefault("data", {})
        sizes = [int(x) for x in data_params.get("L", [])]
        if cfg_dict.get("model", {}).get("kind") == "dense":
            fit = d.get("train_L") or max(d.get("L", sizes))
            if sizes != [fit]:
                raise ValueError(f"the dense net was trained at L = {fit}; the data has L = {sizes}")
            return cfg_dict
        d["L"], d["train_L"] = sizes, 0
        return cfg_dict

    def model(self, cfg) -> torch.nn.Module:
        if cfg.model.kind == "dense":
            return DenseClassifier(cfg.data.fit_L, cfg.model.hidden)
        return ConvClassifier(cfg.model.channels, cfg.model.hidden)

    def loss(self, model, batch: dict, cfg) -> dict:
        logits = model(batch["x"])
        loss = F.binary_cross_entropy_with_logits(logits, batch["y"])
        acc = ((logits > 0).float() == batch["y"]).float().mean()
        return {"loss": loss, "acc": acc}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """loss, acc; with data near Tc also P(ordered) curves, T*(L) per L and the extrapolated tc.

        The platform prefixes float keys with the split ("val/acc", "test/tc")."""
        rows = {"L": [], "T": [], "p": [], "y": []}
        device = next(model.parameters()).device
        for b in batches:
            p = torch.sigmoid(model(b["x"].to(device))).detach().cpu().numpy()
            rows["p"].append(p)
            for k in ("L", "T", "y"):
                rows[k].append(np.asarray(b[k].cpu() if torch.is_tensor(b[k]) else b[k]))
        if not rows["p"]:
            return {}
        L, T, p, y = (np.concatenate(rows[k]) for k in ("L", "T", "p", "y"))
        eps = 1e-7
        out = {
            "loss": float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))),
            "acc": float(np.mean((p > 0.5) == (y > 0.5))),
        }
        near = np.abs(T - phases_data.TC) <= cfg.data.exclude
        if near.any() or cfg.data.exclude == 0:
            out.update(self._curves(L, T, p))
        return out

    def _curves(self, L, T, p) -> dict:
        sizes = sorted(set(L.tolist()))
        res = {"curves": {}}
        tstar = []
        for size in sizes:
            sel = L == size
            ts = np.unique(T[sel])
            mean = np.array([p[sel & (T == t)].mean() for t in ts])
            err = np.array([p[sel & (T == t)].std(ddof=1) / np.sqrt((sel & (T == t)).sum()) for t in ts])
            ts_, e_ = half_crossing(ts, mean, err)
            res["curves"][int(size)] = (ts, mean, err)
            res[f"tc_L{size}"], res[f"tc_L{size}_err"] = ts_, e_
            tstar.append((size, ts_, e_))
        s, t_, e_ = zip(*tstar)
        res["tc"], res["tc_err"] = extrapolate_inverse_L(s, t_, e_)
        return res

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_supervised

        return plot_supervised(results, Path(out_dir), PUBLISHED_TC)
