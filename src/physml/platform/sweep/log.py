"""The sweep's record: one MLflow parent run, one nested child run per trial, and a status file.

Everything is written by the sweep driver (a Tune callback), never by trials: one writer per store.
After a ``--resume`` the callback finds each trial's child run again by its ``physml.trial_id`` tag,
so no trial gets a second run and finished runs are left as they are.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from ray.tune import Callback

from physml.platform.data import storage
from physml.platform.sweep.trial import DONE, NODE
from physml.platform.tracking import flatten
from physml.platform.training.loop import training_failure

STATUS = "physml-trials.json"  #: per-trial status table in the sweep directory
META = "physml-sweep.json"  #: the sweep's settings, base config, space and parent run id


def numeric(result: dict) -> dict[str, float]:
    """The metrics worth logging from a Tune result: namespaced finite numbers and the epoch."""
    out = {}
    for k, v in result.items():
        if (
            ("/" in k or k == "epoch")
            and isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(float(v))
        ):
            out[k] = float(v)
    return out


class SweepLogger(Callback):
    """Tune callback: child runs per trial under ``parent_id``, metrics per epoch, artefacts at the
    end (model/, plots/), FAILED on error; keeps ``physml-trials.json`` and a progress bar."""

    def __init__(
        self,
        tracking_uri: str,
        experiment_id: str,
        parent_id: str,
        sweep_dir: str,
        trial_cfg,
        total: int,
        progress: bool = True,
    ):
        self.uri, self.exp_id, self.parent_id = tracking_uri, experiment_id, parent_id
        self.dir, self.trial_cfg, self.total, self.progress = sweep_dir, trial_cfg, total, progress
        self._client = self._bar = None
        self.runs: dict[str, str] = {}
        self.status: dict[str, dict] = {}
        self._closed: set[str] = set()

    def __getstate__(self):
        return {**self.__dict__, "_client": None, "_bar": None}

    def setup(self, **info) -> None:
        from mlflow import MlflowClient

        self._client = MlflowClient(self.uri)
        children = self._client.search_runs(
            [self.exp_id], f"tags.mlflow.parentRunId = '{self.parent_id}'", max_results=10000
        )
        self.runs = {
            r.data.tags["physml.trial_id"]: r.info.run_id for r in children if "physml.trial_id" in r.data.tags
        }
        path = storage.join(self.dir, STATUS)
        self.status = storage.read_json(path) if storage.exists(path) else {}
        self._closed = {
            tid
            for tid, e in self.status.items()  # finished before the driver died
            if e.get("status") == "finished" and e["metrics"].get(DONE) == 1.0 and tid in self.runs
        }
        if self.progress:
            from tqdm import tqdm

            done = sum(s["status"] in ("finished", "failed", "stopped") for s in self.status.values())
            self._bar = tqdm(total=self.total, initial=done, desc="trials", unit="trial", dynamic_ncols=True)

    def _save(self) -> None:
        storage.write_json(storage.join(self.dir, STATUS), self.status)

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        tid = trial.trial_id
        if tid in self._closed:  # Tune restores it from its final checkpoint: its run stays as it was
            return
        cfg = self.trial_cfg(trial.config)
        if tid not in self.runs:
            tags = {
                "mlflow.parentRunId": self.parent_id,
                "physml.trial_id": tid,
                "physml.kind": "trial",
                "physml.sweep_dir": self.dir,
            }
            run = self._client.create_run(self.exp_id, run_name=f"trial-{len(self.runs) + 1:03d}", tags=tags)
            self.runs[tid] = run.info.run_id
            params = flatten(cfg)
            items = list(params.items())
            from mlflow.entities import Param

            for i in range(0, len(items), 100):
                self._client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in items[i : i + 100]])
        else:
            self._client.update_run(self.runs[tid], status="RUNNING")
        entry = self.status.setdefault(
            tid, {"run_id": self.runs[tid], "params": dict(trial.config), "metrics": {}, "started": time.time()}
        )
        entry.update(status="running", driver_pid=os.getpid())
        self._save()

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        from mlflow.entities import Metric

        if trial.trial_id in self._closed:
            return
        metrics = numeric(result)
        step = int(result.get("epoch", result.get("training_iteration", 0)))
        if result.get(DONE) == 1.0:  # the final report repeats the last epoch's metrics: log the new ones
            logged = self.status[trial.trial_id]["metrics"].get(DONE) == 1.0  # a restored trial's second one
            metrics = {} if logged else {k: v for k, v in metrics.items() if k.startswith(("test/", "time/", "trial/"))}
        entry = self.status[trial.trial_id]
        if result.get(DONE) != 1.0 and step <= entry.get("logged_epoch", 0):
            metrics = {}  # a retry from an older checkpoint (its node died) redoes a logged epoch
        now = int(time.time() * 1000)
        self._client.log_batch(self.runs[trial.trial_id], metrics=[Metric(k, v, now, step) for k, v in metrics.items()])
        if result.get(DONE) != 1.0:
            entry["logged_epoch"] = max(step, entry.get("logged_epoch", 0))
        entry["metrics"].update(numeric(result))
        if NODE in result:
            entry["node"] = result[NODE]
            entry["nodes"] = sorted({*entry.get("nodes", []), result[NODE]})
            self._client.set_tag(self.runs[trial.trial_id], "ray.node_id", result[NODE])
        self._save()

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        if trial.trial_id in self._closed:
            return
        entry = self.status[trial.trial_id]
        finished = entry["metrics"].get(DONE) == 1.0
        run_id = self.runs[trial.trial_id]
        ckpt = trial.checkpoint
        if finished and ckpt is not None:
            with ckpt.as_directory() as d:  # a local directory, or a download from remote storage
                for sub in ("model", "plots"):
                    if (Path(d) / sub).is_dir():
                        self._client.log_artifacts(run_id, str(Path(d) / sub), sub)
        if not finished:
            self._client.set_tag(run_id, "physml.stopped_early", "true")
        self._client.set_terminated(run_id, "FINISHED")
        self._end(trial, "finished" if finished else "stopped")

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        if trial.trial_id in self._closed:
            return
        run_id = self.runs.get(trial.trial_id)
        message = _error_line(trial)
        if run_id:
            self._client.set_tag(run_id, "physml.error", message[:5000])
            self._client.set_terminated(run_id, "FAILED")
        self.status.setdefault(trial.trial_id, {"params": dict(trial.config), "metrics": {}})["error"] = message
        self._end(trial, "failed")

    def _end(self, trial, status: str) -> None:
        entry = self.status[trial.trial_id]
        entry.update(status=status, ended=time.time())
        entry["wall_s"] = entry["ended"] - entry.get("started", entry["ended"])
        self._save()
        if self._bar is not None:
            self._bar.set_postfix_str(f"last: {status}", refresh=False)
            self._bar.update(1)

    def on_experiment_end(self, trials, **info) -> None:
        self._drop_lost({t.trial_id for t in trials})
        if self._bar is not None:
            self._bar.close()

    def _drop_lost(self, known: set[str]) -> None:
        """Trials the killed driver started but never saved in Tune's state: Tune ran them again under a
        new id, so their child runs are deleted and their entries dropped (no orphan runs)."""
        lost = [tid for tid in self.status if tid not in known]
        for tid in lost:
            run_id = self.status.pop(tid).get("run_id") or self.runs.get(tid)
            if run_id:
                self._client.set_terminated(run_id, "KILLED")
                self._client.delete_run(run_id)
        if lost:
            self._save()


def _error_line(trial) -> str:
    """The cause of a trial's error in one line (e.g. "training stopped: non-finite loss (...)")."""
    path = getattr(trial, "error_file", None) or ""
    text = Path(path).read_text() if path and Path(path).exists() else ""
    text = text or str(getattr(trial, "error_msg", "") or "trial failed")
    return str(training_failure(RuntimeError(text.strip())))
