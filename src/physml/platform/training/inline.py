"""The training loop in this process on in-memory splits: sweep trials (1 worker) and the local runner.

The splits are read once per process and kept (Tune reuses a trial's actor for the next trial), so
a trial costs its training time plus well under a second. Nothing here imports Ray Tune.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

import numpy as np
import torch

from physml.config import to_dict
from physml.platform.data.local import local_batches
from physml.platform.training.loop import run_loop
from physml.platform.training.runplan import RunPlan

_CACHE: dict = {}  #: split arrays kept by this process between trials


def load_split(spec, key: str) -> dict[str, np.ndarray]:
    """All preprocessed rows of a split as numpy arrays, cached in this process under ``key``."""
    if key not in _CACHE:
        parts = list(local_batches(spec, 4096, as_numpy=True))
        _CACHE[key] = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    return _CACHE[key]


class InlineSession:
    """The loop's view of one worker in this process: in-memory splits; each epoch's metrics and
    checkpoint go to ``report(metrics, checkpoint)`` (a sweep trial's Tune report, the local runner's
    checkpoint directory; None: nowhere), the checkpoint to resume from comes from
    ``get_checkpoint()``."""

    rank = 0

    def __init__(
        self,
        splits: dict[str, dict[str, np.ndarray]],
        device: torch.device,
        report: Callable | None = None,
        get_checkpoint: Callable | None = None,
    ):
        self.splits, self.device = splits, device
        self._report, self._get_checkpoint = report, get_checkpoint

    def prepare(self, model: torch.nn.Module, find_unused: bool = False) -> torch.nn.Module:
        return model.to(self.device)

    def batches(
        self, split: str, batch_size: int, shuffle_seed: int | None = None, shuffle_rows: int = 0, keep: bool = True
    ):
        arrays = self.splits.get(split, {})
        n = len(next(iter(arrays.values()))) if arrays else 0
        order = np.random.default_rng(shuffle_seed).permutation(n) if shuffle_seed is not None else None
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size] if order is not None else slice(i, i + batch_size)
            yield {k: torch.as_tensor(v[idx]).to(self.device) for k, v in arrays.items()}

    def get_checkpoint(self):
        return self._get_checkpoint() if self._get_checkpoint else None

    def report(self, metrics: dict, checkpoint=None, name: str | None = None) -> None:
        """Metrics and a checkpoint to ``report`` (which stores it before returning; then its local
        directory is deleted)."""
        if self._report is not None:
            self._report(metrics, checkpoint)
        if checkpoint is not None:
            shutil.rmtree(checkpoint.path, ignore_errors=True)

    def broadcast_stop(self, stop: bool) -> bool:
        return stop

    def gather_rows(self, rows: int) -> list[int]:
        return [rows]


class NoLog:
    """A metric logger that logs nothing (a sweep logs from its driver)."""

    def log(self, metrics: dict, step: int) -> None:
        pass

    def flush(self) -> None:
        pass


def inline_splits(cfg, specs: dict) -> dict[str, dict[str, np.ndarray]]:
    """The train and val splits in memory, read once per process for a given data/model config."""
    key = json.dumps({k: v for k, v in to_dict(cfg).items() if k != "train"}, sort_keys=True)
    return {name: load_split(specs[name], f"{name}:{key}") for name in ("train", "val")}


def train_inline(
    task, plan: RunPlan, splits: dict, report: Callable | None = None, get_checkpoint: Callable | None = None
):
    """Train in this process on in-memory splits (from ``plan.init_state`` weights when given);
    epochs go to ``report(metrics, checkpoint)``, a resumed trial starts from ``get_checkpoint()``.
    Returns (model, last epoch metrics)."""
    t = plan.cfg.train
    torch.set_num_threads(max(1, int(t.cpus_per_worker)))
    device = torch.device("cuda" if t.gpu and torch.cuda.is_available() else "cpu")
    return run_loop(task, plan, InlineSession(splits, device, report, get_checkpoint), NoLog())
