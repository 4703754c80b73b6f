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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow

from physml import __version__
from physml.errors import ConfigError

for _name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent"):
    logging.getLogger(_name).setLevel(logging.WARNING)


def tracking_uri() -> str:
    """The tracking URI in force: the environment's, or the local SQLite store in the cwd."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd().resolve() / 'mlflow.db'}"


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
