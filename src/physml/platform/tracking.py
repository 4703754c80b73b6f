"""MLflow conventions (the docs' Concepts page): one experiment per task, local store by default.

With no ``MLFLOW_TRACKING_URI`` the store is ``sqlite:///<cwd>/mlflow.db`` with artefacts in
``<cwd>/mlruns`` (MLflow's default beside it); set the variable to use a tracking server instead.
"""

from __future__ import annotations

import logging
import os
import platform as _stdlib_platform
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow

from physml import __version__
from physml.errors import ConfigError
from physml.platform.locations import tracking_uri

for _name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent"):
    logging.getLogger(_name).setLevel(logging.WARNING)
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # physml prints its own lines


def require_store(option: str, value: str) -> None:
    """Refuse ``option value`` that needs earlier runs when the tracking store is the local default
    and does not exist yet (MLflow would create an empty ./mlflow.db just to find nothing in it)."""
    uri = tracking_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        raise ConfigError(
            f"{option} {value}: no MLflow store here ({uri.removeprefix('sqlite:///')} does not exist); run "
            "physml where the runs were made, or set MLFLOW_TRACKING_URI"
        )


def announce(active, experiment_name: str) -> None:
    """Say on stderr, as a run starts, where it logs: its id, the experiment and the store (and how to
    open it: a server's URL, or `physml ui` for the local store)."""
    uri = tracking_uri()
    where = uri if uri.startswith("http") else f"{uri} (open it with: physml ui)"
    print(
        f"physml: MLflow run {active.info.run_id}, experiment '{experiment_name}', in {where}",
        file=sys.stderr,
        flush=True,
    )


class EpochEcho:
    """While a Ray Train run trains elsewhere, print one line per epoch that its rank 0 logged to the
    MLflow run (polled every ``every`` seconds in a thread; the workers' own output stays in Ray's
    logs)."""

    def __init__(self, run_id: str, every: float = 1.0):
        self.run_id, self.every, self.seen = run_id, every, 0
        self.stop, self.started = threading.Event(), time.time()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> EpochEcho:
        self.seen = int(mlflow.MlflowClient(tracking_uri()).get_run(self.run_id).data.metrics.get("epoch", 0))
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self._show()

    def _poll(self) -> None:
        while not self.stop.wait(self.every):
            self._show()

    def _show(self) -> None:
        """Print the epochs logged since the last look, each from its own values (epochs shorter than the
        polling interval are read back from the metric histories, where the step is the epoch)."""
        from physml.platform.training.loop import epoch_line

        client = mlflow.MlflowClient(tracking_uri())
        try:
            latest = client.get_run(self.run_id).data.metrics
            if int(latest.get("epoch", 0)) <= self.seen:
                return
            keys = [k for k in latest if k.startswith("val/") or k in ("train/epoch_loss", "epoch")]
            history = {k: {m.step: m for m in client.get_metric_history(self.run_id, k)} for k in keys}
        except Exception:
            return
        for epoch in range(self.seen + 1, int(latest["epoch"]) + 1):
            values = {k: h[epoch].value for k, h in history.items() if epoch in h}
            if "epoch" in values:
                done = history["epoch"][epoch].timestamp / 1000 - self.started
                print(epoch_line(values, done), file=sys.stderr, flush=True)
        self.seen = int(latest["epoch"])


def experiment(name: str) -> str:
    """Id of experiment ``name``, created if missing."""
    mlflow.set_tracking_uri(tracking_uri())
    exp = mlflow.get_experiment_by_name(name)
    return exp.experiment_id if exp is not None else mlflow.create_experiment(name)


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def flatten(d: dict, prefix: str = "") -> dict[str, str]:
    """{"a": {"b": 1}} -> {"a.b": "1"}; lists become their string form."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = str(v)[:6000]
    return out


@contextmanager
def run(
    task: str, run_name: str, params: dict, tags: dict | None = None, run_id: str | None = None
) -> Iterator[mlflow.ActiveRun]:
    """An MLflow run in experiment ``task`` (or the existing ``run_id``, resumed): FINISHED on success,
    FAILED on error, KILLED on Ctrl-C."""
    exp_id = experiment(task)
    all_tags = {
        "physml.version": __version__,
        "physml.task": task,
        "git.commit": _git_commit(),
        "host": _stdlib_platform.node(),
        **(tags or {}),
    }
    kwargs = {"run_id": run_id} if run_id else {"experiment_id": exp_id, "run_name": run_name}
    with mlflow.start_run(**kwargs, tags=all_tags) as active:
        try:
            if not run_id:
                mlflow.log_params(flatten(params))
            yield active
        except KeyboardInterrupt:
            mlflow.end_run("KILLED")
            raise
        except BaseException:
            mlflow.end_run("FAILED")
            raise


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v}, step=step)


def log_series(series: dict[str, list[float]]) -> None:
    """Log each ``name: [v0, v1, ...]`` as metric ``name`` at steps 0, 1, ... in a few batched requests
    (one per 1,000 values, MLflow's batch limit) instead of one per value; NaNs are skipped."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    metrics = [
        Metric(name, float(v), now, step) for name, values in series.items() for step, v in enumerate(values) if v == v
    ]
    run_id = mlflow.active_run().info.run_id
    for i in range(0, len(metrics), 1000):
        mlflow.MlflowClient().log_batch(run_id, metrics=metrics[i : i + 1000])


def log_artifacts(paths: list[Path], subdir: str | None = None) -> None:
    for p in paths:
        mlflow.log_artifact(str(p), artifact_path=subdir)


def log_dict(obj: dict, name: str) -> None:
    mlflow.log_dict(obj, name)


def log_text(text: str, name: str) -> None:
    mlflow.log_text(text, name)
