"""One sweep trial: a full ``physml run`` of the task inside a Ray Tune trial.

Two runners share :func:`physml.platform.train.run_loop`:

* ``inline`` (1 worker, splits small enough to hold in memory): the loop runs in the trial's own
  actor; the splits are read once per actor and kept, and Tune reuses actors between trials, so a
  trial costs its training time plus well under a second.
* ``ray-train`` (several workers, or streamed splits): a ``TorchTrainer`` inside the trial, its epoch
  metrics forwarded to Tune by ``TuneReportCallback`` (Ray 2.60's documented Tune-over-Train form).

Either way the trial ends with the test evaluation, writes ``model/`` and ``plots/`` into its last
checkpoint, and reports ``trial/done = 1``; the sweep driver logs everything to MLflow (one writer).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import ray
import torch
from ray import tune
from ray.tune import Checkpoint

from physml.config import from_dict
from physml.tasks import TASKS, load

from .local_data import local_batches
from .space import apply

ROW = "__row__"  #: config key of the table-row index in a trial's Tune config
FINAL = "final.json"  #: the final report's metrics, kept in the final checkpoint
DONE = "trial/done"  #: reported (= 1) with the test metrics when a trial ran to its end
NODE = "trial/node"  #: the Ray node id the trial ran on (its last attempt)
_CACHE: dict = {}  #: split arrays kept by this actor between trials (Tune reuses actors)


def trial_config(setup: dict, params: dict) -> dict:
    """The trial's full config dict: the sweep's base config + its table row + its sampled values
    (choices of lists travel through Tune/Optuna as indices into ``setup["choices"][key]``)."""
    row = setup["table"][params[ROW]] if ROW in params else {}
    choices = setup.get("choices", {})
    values = {k: choices[k][v] if k in choices else v for k, v in params.items() if k != ROW}
    return apply(setup["base"], {**row, **values})


def load_split(spec, key: str) -> dict[str, np.ndarray]:
    """All preprocessed rows of a split as numpy arrays, cached in this process under ``key``."""
    if key not in _CACHE:
        parts = list(local_batches(spec, 4096, as_numpy=True))
        _CACHE[key] = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    return _CACHE[key]


class InlineSession:
    """The loop's view of a 1-worker trial: in-memory splits, Tune checkpoints and reports.

    ``report=None`` keeps the loop entirely local (benchmarks: Optuna alone)."""

    rank = 0

    def __init__(
        self,
        splits: dict[str, dict[str, np.ndarray]],
        device: torch.device,
        report=tune.report,
        get_checkpoint=tune.get_checkpoint,
    ):
        self.splits, self.device = splits, device
        self._report, self._get_checkpoint = report, get_checkpoint

    def prepare(self, model: torch.nn.Module) -> torch.nn.Module:
        return model.to(self.device)

    def batches(self, split: str, batch_size: int, shuffle_seed: int | None = None):
        arrays = self.splits.get(split, {})
        n = len(next(iter(arrays.values()))) if arrays else 0
        order = np.random.default_rng(shuffle_seed).permutation(n) if shuffle_seed is not None else None
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size] if order is not None else slice(i, i + batch_size)
            yield {k: torch.as_tensor(v[idx]).to(self.device) for k, v in arrays.items()}

    def get_checkpoint(self):
        return self._get_checkpoint() if self._get_checkpoint else None

    def report(self, metrics: dict, checkpoint=None, name: str | None = None) -> None:
        """Metrics and a checkpoint to Tune (stored before this returns; then its local directory is deleted)."""
        if self._report is not None:
            metrics = {**metrics, NODE: ray.get_runtime_context().get_node_id()}
            self._report(metrics, checkpoint=Checkpoint.from_directory(checkpoint.path) if checkpoint else None)
        if checkpoint is not None:
            shutil.rmtree(checkpoint.path, ignore_errors=True)

    def broadcast_stop(self, stop: bool) -> bool:
        return stop


class _NoLog:
    def log(self, metrics: dict, step: int) -> None:
        pass

    def flush(self) -> None:
        pass


def inline_splits(cfg_dict: dict, specs: dict) -> dict[str, dict[str, np.ndarray]]:
    """The train and val splits in memory, read once per actor for a given data/model config."""
    key = json.dumps({k: v for k, v in cfg_dict.items() if k != "train"}, sort_keys=True)
    return {name: load_split(specs[name], f"{name}:{key}") for name in ("train", "val")}


def train_inline(
    task,
    cfg,
    cfg_dict: dict,
    splits: dict,
    report=tune.report,
    get_checkpoint=tune.get_checkpoint,
    init_state: dict | None = None,
):
    """Train in this process on in-memory splits (from ``init_state`` weights when given); returns
    (model, last epoch metrics)."""
    from .train import run_loop

    torch.set_num_threads(max(1, int(cfg.train.cpus_per_worker)))
    device = torch.device("cuda" if cfg.train.gpu and torch.cuda.is_available() else "cpu")
    return run_loop(task, cfg, cfg_dict, InlineSession(splits, device, report, get_checkpoint), _NoLog(), init_state)


def _train_ray(task, cfg, cfg_dict: dict, specs: dict, setup: dict, trial_id: str):
    """A TorchTrainer inside the trial (Ray Train restores its own checkpoints on a resumed trial)."""
    from ray.tune.integration.ray_train import TuneReportCallback

    from .datasets import ray_dataset
    from .run import training_failure
    from .train import fit, load_state

    res = fit(
        TASKS[setup["task"]],
        cfg,
        ray_dataset(specs["train"], shuffle_seed=cfg.train.seed),
        ray_dataset(specs["val"]),
        setup["storage"] + "/train",
        trial_id,
        "",
        "",
        callbacks=(TuneReportCallback(),),
        init_state=setup.get("init_state"),
    )
    if res.error is not None:
        raise training_failure(res.error)
    state = load_state(res.checkpoint)
    model = task.model(cfg)
    model.load_state_dict(state["model"])
    metrics = state.get("metrics") or res.metrics  # a trial resumed at its last epoch trains no more
    return model, {k: v for k, v in metrics.items() if isinstance(v, (int, float))}


def run_trial(params: dict, setup: dict) -> None:
    """Tune function trainable: train, evaluate on the test splits, report with model and plots.
    Reports ``time/train_s`` (the loop) and ``time/work_s`` (loop + test evaluation + figures)."""
    from .run import evaluate_splits, write_model

    if _report_again_if_done(tune.get_checkpoint()):
        return
    task = load(TASKS[setup["task"]])()
    cfg_dict = trial_config(setup, params)
    cfg = from_dict(task.Config, cfg_dict)
    specs = task.datasets(cfg, setup["uri"])
    splits = inline_splits(cfg_dict, specs) if setup["runner"] == "inline" else None
    start = time.perf_counter()
    if splits is not None:
        model, metrics = train_inline(task, cfg, cfg_dict, splits, init_state=setup.get("init_state"))
    else:
        model, metrics = _train_ray(task, cfg, cfg_dict, specs, setup, tune.get_context().get_trial_id())
    trained = time.perf_counter()
    results = evaluate_splits(task, model.cpu(), cfg, specs)
    with tempfile.TemporaryDirectory() as d:
        write_model(model, cfg, setup["task"], Path(d) / "model")
        task.report(results, Path(d) / "plots")
        final = {k: v for k, v in results.items() if isinstance(v, float)}
        final.update(
            {
                "time/train_s": trained - start,
                "time/work_s": time.perf_counter() - start,
                DONE: 1.0,
                NODE: ray.get_runtime_context().get_node_id(),
            }
        )
        (Path(d) / FINAL).write_text(json.dumps({**metrics, **final}))
        tune.report({**metrics, **final}, checkpoint=Checkpoint.from_directory(d))


def _report_again_if_done(checkpoint, report=tune.report) -> bool:
    """A trial restored from its final checkpoint (the driver died between the final report and the
    trial's end) reports that checkpoint's metrics again instead of training: True if it did."""
    if checkpoint is None:
        return False
    with checkpoint.as_directory() as d:
        if not (Path(d) / FINAL).exists():
            return False
        metrics = json.loads((Path(d) / FINAL).read_text())
        report(metrics, checkpoint=Checkpoint.from_directory(d))
    return True
