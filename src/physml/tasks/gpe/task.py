"""gpe: a network that returns the ground state of the Gross-Pitaevskii equation from the trap and the
interaction (Liang et al., Sci. Rep. 8, 16337 (2018): a ResNet, errors of order 1e-4), so that one
forward pass replaces an imaginary-time solve when many similar problems must be solved.

Data: :mod:`.source` (potentials V, interactions g, ground states psi from :mod:`.solver`). Metrics
on held-out potentials: the mean squared error of psi, the fidelity |<psi_pred|psi>|^2, and the
physical check: the GPE energy functional of the predicted state against the true ground-state
energy (relative error; the functional is minimal at the ground state, so the error is >= 0 up to
discretisation), and the residual ||H psi - mu psi|| of the predicted state.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
from torch import nn

from physml.tasks.base import DatasetSpec, Simulation, Task
from physml.tasks.splits import rows_of

from .config import GPEConfig, GPEData, GPEModel  # noqa: F401
from .nets import GroundStateNet
from .potentials import PotentialFamily
from .solver import Grid, energies
from .source import GPEParams

COLUMNS = ["id", "g", "E", "V", "psi"]
PUBLISHED_MSE = 1e-4  # Liang et al. 2018: errors of order 1e-4


def grid_of(d: GPEData) -> Grid:
    return Grid(d.dim, d.points, d.box)


def inputs(V: np.ndarray, g: np.ndarray, d: GPEData) -> np.ndarray:
    """float32[n, 2, *grid]: V / 10 clipped to [-2, 5] (the walls beyond hold no density) and
    log(1 + g) / log(1 + g_max), constant over the grid."""
    scale = np.log1p(d.g_max) or 1.0
    gg = np.broadcast_to((np.log1p(g) / scale).reshape((-1,) + (1,) * d.dim), V.shape)
    return np.stack([np.clip(V / 10, -2, 5), gg], axis=1).astype(np.float32)


def to_arrays(batch: dict, split: int | None, d: GPEData) -> dict:
    """Rows of ``split`` -> {"x": float32[n, 2, *grid], "y" (psi), "V": float32[n, *grid], "g", "E"}."""
    keep = rows_of(batch["id"], split, d.holdout)
    shape = grid_of(d).shape
    n = int(keep.sum())
    V = np.stack(batch["V"][keep]).reshape(n, *shape) if n else np.zeros((0, *shape), np.float32)
    psi = np.stack(batch["psi"][keep]).reshape(n, *shape) if n else np.zeros((0, *shape), np.float32)
    g = np.asarray(batch["g"], np.float64)[keep]
    return {
        "x": inputs(V, g, d),
        "y": psi.astype(np.float32),
        "V": V.astype(np.float32),
        "g": g.astype(np.float32),
        "E": np.asarray(batch["E"], np.float32)[keep],
    }


class GroundStates(Task):
    name: ClassVar[str] = "gpe"
    Config: ClassVar[type] = GPEConfig
    summary: ClassVar[str] = "ground states of the Gross-Pitaevskii equation from the trap and g (a ResNet, Liang 2018)"
    search_space: ClassVar[dict] = {
        "train.lr": {"loguniform": [3e-4, 3e-3]},
        "model.channels": {"choice": [16, 32, 64]},
    }
    metrics: ClassVar[tuple[str, ...]] = ("loss", "mse", "fidelity", "e_rel_err", "e_rel_err_max", "residual")
    sweep_metric: ClassVar[tuple[str, str]] = ("val/mse", "min")

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("gpe", f"gpe-{cfg.data.dim}d")

    def simulation(self, cfg) -> Simulation:
        d = cfg.data
        family = PotentialFamily(g=(0.0, d.g_max))
        params = GPEParams(n=d.n, dim=d.dim, points=d.points, box=d.box, seed=d.seed, family=family)
        return Simulation("gpe", params)

    def datasets(self, cfg, uri: str) -> dict[str, DatasetSpec]:
        d = cfg.data
        return {
            name: DatasetSpec(uri, COLUMNS, lambda b, s=split: to_arrays(b, s, d))
            for name, split in (("train", 2), ("val", 0), ("test", 1))
        }

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        """A user's dataset decides the grid (and the g range the inputs are scaled by)."""
        keys = {k: data_params[k] for k in ("dim", "points", "box") if k in data_params}
        g_max = data_params.get("family", {}).get("g", [0, None])[1]
        data = {**cfg_dict.get("data", {}), **keys, **({"g_max": g_max} if g_max is not None else {})}
        return {**cfg_dict, "data": data}

    def model(self, cfg) -> nn.Module:
        m, grid = cfg.model, grid_of(cfg.data)
        return GroundStateNet(grid.dim, grid.dv, m.channels, m.blocks, m.dilations, residual=m.kind == "resnet")

    def loss(self, model, batch: dict, cfg) -> dict:
        """Mean squared error of psi over the grid points."""
        return {"loss": ((model(batch["x"]) - batch["y"]) ** 2).mean()}

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """loss/mse (as in training), mean fidelity, the energy functional's relative error (mean and
        max) and the mean residual of the predicted states; per-state arrays for the figures."""
        device = next(model.parameters()).device
        parts: dict[str, list] = {k: [] for k in ("p", "y", "V", "g", "E")}
        for b in batches:
            parts["p"].append(model(b["x"].to(device)).detach().cpu().numpy().astype(np.float64))
            for k in ("y", "V", "g", "E"):
                parts[k].append(b[k].cpu().numpy().astype(np.float64))
        if not parts["p"] or not sum(len(p) for p in parts["p"]):
            return {}
        p, y, V, g, E = (np.concatenate(parts[k]) for k in ("p", "y", "V", "g", "E"))
        grid = grid_of(cfg.data)
        axes = grid.axes()
        mse = ((p - y) ** 2).mean(axis=axes)
        fidelity = (np.sum(p * y, axis=axes) * grid.dv) ** 2
        pred = energies(p, V, g, grid)
        e_rel = np.abs(pred["E"] - E) / np.abs(E)
        return {
            "loss": float(mse.mean()),
            "mse": float(mse.mean()),
            "fidelity": float(fidelity.mean()),
            "e_rel_err": float(e_rel.mean()),
            "e_rel_err_max": float(e_rel.max()),
            "residual": float(pred["residual"].mean()),
            "states": {"V": V, "g": g, "true": y, "pred": p, "mse": mse, "e_rel": e_rel},
        }

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        """plots/profiles.png (the worst and the median test state, true and predicted) and
        plots/errors_vs_g.png (each state's squared error and energy error against g)."""
        from .plots import errors_vs_g, profiles

        states = next((v for k, v in results.items() if k.endswith("states")), None)
        if states is None:
            return []
        out = Path(out_dir)
        return [profiles(states, out / "profiles.png"), errors_vs_g(states, out / "errors_vs_g.png")]
