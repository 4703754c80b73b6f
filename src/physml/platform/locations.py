"""Where a command's inputs live, checked before anything heavy is imported (no torch, Ray or MLflow)."""

from __future__ import annotations

import os
from pathlib import Path

from physml.errors import ConfigError


def model_is_remote(model_uri: str, option: str = "--model") -> bool:
    """Whether a model URI names an MLflow artifact (runs:/, models:/, a URL) rather than a local
    directory; a local one must exist (checked here, before torch or MLflow is imported)."""
    remote = model_uri.startswith(("runs:/", "models:/", "mlflow-artifacts:")) or "://" in model_uri
    if not remote and not Path(model_uri).exists():
        raise ConfigError(
            f"{option} {model_uri}: no such model directory; give runs:/RUN_ID/model or a directory "
            "that `physml run` wrote (state_dict.pt, config.toml, task.txt)"
        )
    return remote


def tracking_uri() -> str:
    """The tracking URI in force: the environment's, or the local SQLite store in the cwd."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd().resolve() / 'mlflow.db'}"
