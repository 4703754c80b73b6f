"""What a run will do, resolved and checked before anything starts: its config (a shipped name or a
TOML file, --set overrides, or a resumed run's own), the resources it needs, where its data comes
from and the weights it starts from. `physml run` and `physml sweep` share these."""

from __future__ import annotations

import tomllib

import mlflow

from physml.config import dump_toml, from_dict, to_dict
from physml.errors import ConfigError
from physml.platform import cluster, tracking
from physml.platform.artifacts import load_model
from physml.platform.data import storage
from physml.platform.data.local import data_params
from physml.platform.simulate import ensure_dataset
from physml.tasks import TASKS


def check_resources(cfg, info: dict) -> None:
    t = cfg.train
    need = t.workers * t.cpus_per_worker
    if need > info["cpus"]:
        raise ConfigError(
            f"train.workers = {t.workers} x train.cpus_per_worker = {t.cpus_per_worker} needs "
            f"{need:g} CPUs; the cluster has {info['cpus']}: lower train.workers or cpus_per_worker"
        )
    if t.gpu and t.workers > info["gpus"]:
        raise ConfigError(
            f"train.gpu = true with {t.workers} workers needs {t.workers} GPUs; the cluster has {info['gpus']}"
        )


def shared(info: dict, uri: str) -> None:
    """PHYSML_HOME (checkpoints, sweep state, the data cache) and a dataset must reach every node."""
    try:
        cluster.require_shared(info, PHYSML_HOME=storage.home(), **({"data.uri": uri} if uri else {}))
    except ValueError as err:
        raise ConfigError(str(err)) from None


def data_uri(task, cfg, progress: bool) -> str:
    if cfg.data.uri:
        return cfg.data.uri
    sim = task.simulation(cfg)
    return ensure_dataset(sim.sampler, sim.params, storage.join(storage.home(), "cache"), progress=progress)


def for_data(task, cfg, uri: str, user_data: bool, reader=None):
    """A user's dataset (or the files ``reader`` reads in place) decides what the config says of its
    shape (e.g. the sizes L it holds)."""
    if not user_data:
        return cfg
    try:
        return from_dict(task.Config, task.adapt(to_dict(cfg), data_params(uri, reader)))
    except ValueError as err:
        raise ConfigError(f"data.uri {uri}: {err}") from None


def resume_id(task_name: str, resume: str | None) -> str | None:
    if resume in (None, ""):
        return None
    if resume != "last":
        return resume
    exp = mlflow.get_experiment_by_name(task_name)
    runs = (
        mlflow.search_runs(
            [exp.experiment_id] if exp else [],
            filter_string="tags.physml.kind = 'train'",
            order_by=["start_time DESC"],
            max_results=1,
            output_format="list",
        )
        if exp
        else []
    )
    if not runs:
        raise ConfigError(f"--resume: no earlier run of {task_name} to resume")
    return runs[0].info.run_id


def resumed_config(task_name: str, resume: str) -> dict:
    """The config (TOML dict) that the run to resume logged as config.toml."""
    if task_name not in TASKS:
        raise ConfigError(f"unknown task {task_name!r}; choose one of {', '.join(TASKS)}")
    tracking.require_store("--resume", resume)
    mlflow.set_tracking_uri(tracking.tracking_uri())
    rid = resume_id(task_name, resume)
    try:
        text = mlflow.artifacts.load_text(f"runs:/{rid}/config.toml")
    except Exception:
        raise ConfigError(
            f"--resume {rid}: no run of {task_name} with a logged config.toml at {tracking.tracking_uri()}"
        ) from None
    return tomllib.loads(text)


def check_resumable(task_name: str, resume: str, cfg) -> None:
    """The [model] of ``cfg`` must be the resumed run's, or its checkpoint will not load. Both are
    compared as typed configs, so a key added since the run was logged counts at its default."""

    def model(c) -> dict:
        return tomllib.loads(dump_toml(to_dict(c))).get("model", {})

    stored = model(from_dict(type(cfg), resumed_config(task_name, resume)))
    ours = model(cfg)
    diff = [
        f"model.{k} = {ours.get(k)!r} (the run: {stored.get(k)!r})"
        for k in sorted({*stored, *ours})
        if ours.get(k) != stored.get(k)
    ]
    if diff:
        raise ConfigError(f"--resume {resume}: {'; '.join(diff)}; leave out -c to resume with the run's own config")


def initial_state(task, cfg, task_name: str) -> dict | None:
    """The state dict of ``train.init_from`` (runs:/RUN_ID/model or a model directory), checked on the
    driver: the same task, and weights that fit this config's model (else a one-line error)."""
    uri = cfg.train.init_from
    if not uri:
        return None
    trained, _, state = load_model(uri, "train.init_from")
    if trained != task_name:
        raise ConfigError(f"train.init_from = {uri}: a model of task {trained!r}, not {task_name!r}")
    try:
        task.model(cfg).load_state_dict(state)
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:300]
        raise ConfigError(f"train.init_from = {uri}: its weights do not fit this model.* config ({detail})") from None
    return state
