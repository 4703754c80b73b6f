"""A trained model on the test splits: ``task.evaluate`` in this process, metrics and figures logged."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import torch

from physml.errors import DatasetError
from physml.platform import tracking
from physml.platform.data import storage
from physml.platform.data.local import local_batches


def evaluate_splits(task, model, cfg, specs: dict) -> dict:
    """``task.evaluate`` over the test splits, read in this process; float results become ``test/<k>``."""
    model.eval()
    task.before_evaluate(model, cfg)
    tests = [s for k, s in specs.items() if k.startswith("test")]
    with torch.no_grad():
        try:
            results = task.evaluate(model, itertools.chain.from_iterable(local_batches(s) for s in tests), cfg)
        except ValueError as err:  # the data cannot be scored (e.g. a class it needs is missing)
            raise DatasetError(str(err)) from None
    return {(f"test/{k}" if isinstance(v, float) else k): v for k, v in results.items()}


def evaluate_and_log(task, model, cfg, specs: dict, keep: str | None = None) -> dict:
    """Test splits through ``task.evaluate`` in this process; metrics and report logged to MLflow
    (the figures are also copied to ``keep``, a directory or URI, when given)."""
    results = evaluate_splits(task, model, cfg, specs)
    metrics = {k: v for k, v in results.items() if isinstance(v, float)}
    tracking.log_metrics(metrics)
    with tempfile.TemporaryDirectory() as tmp:
        for p in task.report(results, Path(tmp)):
            tracking.log_artifacts([p], "plots")
        if keep:
            storage.put_dir(tmp, keep)
    return metrics
