"""The model directory physml saves and loads: ``state_dict.pt`` (``torch.load(weights_only=True)``),
``config.toml`` (the resolved config) and ``task.txt``; logged as the ``model/`` artefact of a run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import torch

from physml.config import dump_toml, load_toml, to_dict
from physml.errors import ConfigError
from physml.platform import tracking
from physml.platform.locations import model_is_remote


def write_model(model: torch.nn.Module, cfg, task_name: str, d: Path) -> Path:
    """A model directory: state_dict.pt (torch.load(weights_only=True)) + config.toml + task.txt."""
    d.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), d / "state_dict.pt")
    (d / "config.toml").write_text(dump_toml(to_dict(cfg)))
    (d / "task.txt").write_text(task_name + "\n")
    return d


def log_model(model: torch.nn.Module, cfg, task_name: str) -> None:
    """The model/ artefact of the active MLflow run (see :func:`write_model`)."""
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.log_artifacts(str(write_model(model, cfg, task_name, Path(tmp) / "model")), "model")


def load_model(model_uri: str, option: str = "--model"):
    """(task name, config dict, state dict) from ``runs:/RUN_ID/model`` or a local model directory;
    errors name ``option``."""
    local = Path(model_uri)
    if model_is_remote(model_uri, option):
        tracking.require_store(option, model_uri)
        mlflow.set_tracking_uri(tracking.tracking_uri())
        try:
            local = Path(mlflow.artifacts.download_artifacts(model_uri))
        except Exception as err:
            raise ConfigError(f"{option} {model_uri}: cannot load ({str(err).splitlines()[0]})") from None
    files = {"state_dict.pt", "config.toml", "task.txt"}
    missing = [f for f in files if not (local / f).exists()]
    if missing:
        raise ConfigError(f"{option} {model_uri}: not a physml model directory (missing {', '.join(missing)})")
    state = torch.load(local / "state_dict.pt", weights_only=True, map_location="cpu")
    return (local / "task.txt").read_text().strip(), load_toml(local / "config.toml"), state
