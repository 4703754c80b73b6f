"""One sweep trial: a full ``physml run`` of the task inside a Ray Tune trial.

Two runners share :func:`physml.platform.training.loop.run_loop`:

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
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import ray
from ray import tune
from ray.tune import Checkpoint

from physml.config import from_dict
from physml.platform.artifacts import write_model
from physml.platform.data.streams import ray_dataset, training_stream
from physml.platform.evaluation import evaluate_splits
from physml.platform.sweep.space import apply
from physml.platform.training.inline import inline_splits, train_inline
from physml.platform.training.loop import fit, load_state, training_failure
from physml.platform.training.runplan import RunPlan
from physml.tasks import TASKS, load

ROW = "__row__"  #: config key of the table-row index in a trial's Tune config
FINAL = "final.json"  #: the final report's metrics, kept in the final checkpoint
DONE = "trial/done"  #: reported (= 1) with the test metrics when a trial ran to its end
NODE = "trial/node"  #: the Ray node id the trial ran on (its last attempt)


def trial_config(setup: dict, params: dict) -> dict:
    """The trial's full config dict: the sweep's base config + its table row + its sampled values
    (choices of lists travel through Tune/Optuna as indices into ``setup["choices"][key]``)."""
    row = setup["table"][params[ROW]] if ROW in params else {}
    choices = setup.get("choices", {})
    values = {k: choices[k][v] if k in choices else v for k, v in params.items() if k != ROW}
    return apply(setup["base"], {**row, **values})


def _train_ray(task, plan: RunPlan, specs: dict):
    """A TorchTrainer inside the trial (Ray Train restores its own checkpoints on a resumed trial)."""
    from ray.tune.integration.ray_train import TuneReportCallback

    cfg = plan.cfg
    shuffle, keep = training_stream(specs["train"], cfg.train.batch_size)
    plan = replace(plan, shuffle_rows=shuffle, keep_train=keep)
    train = ray_dataset(specs["train"], shuffle_seed=cfg.train.seed)
    res = fit(plan, train, ray_dataset(specs["val"]), callbacks=(TuneReportCallback(),))
    if res.error is not None:
        raise training_failure(res.error)
    state = load_state(res.checkpoint)
    model = task.model(cfg)
    model.load_state_dict(state["model"])
    metrics = state.get("metrics") or res.metrics  # a trial resumed at its last epoch trains no more
    return model, {k: v for k, v in metrics.items() if isinstance(v, (int, float))}


def _tune_report(metrics: dict, checkpoint=None) -> None:
    """An epoch's metrics (with the node it ran on) and checkpoint to Tune."""
    metrics = {**metrics, NODE: ray.get_runtime_context().get_node_id()}
    tune.report(metrics, checkpoint=Checkpoint.from_directory(checkpoint.path) if checkpoint else None)


def run_trial(params: dict, setup: dict) -> None:
    """Tune function trainable: train, evaluate on the test splits, report with model and plots.
    Reports ``time/train_s`` (the loop) and ``time/work_s`` (loop + test evaluation + figures)."""

    if _report_again_if_done(tune.get_checkpoint()):
        return
    task = load(TASKS[setup["task"]])()
    cfg = from_dict(task.Config, trial_config(setup, params))  # the Tune boundary: typed once
    specs = task.datasets(cfg, setup["uri"])
    trial_id = tune.get_context().get_trial_id()
    plan = RunPlan(
        setup["task"], cfg, setup["uri"], setup["storage"] + "/train", trial_id, "", "", setup.get("init_state")
    )
    start = time.perf_counter()
    if setup["runner"] == "inline":
        splits = inline_splits(cfg, specs)
        model, metrics = train_inline(task, plan, splits, _tune_report, tune.get_checkpoint)
    else:
        model, metrics = _train_ray(task, plan, specs)
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
