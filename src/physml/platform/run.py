"""`physml run` and `physml evaluate`: configs resolved, data found or simulated, Ray Train, MLflow."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import mlflow

from physml.config import ConfigError, dump_toml, from_dict, merge, to_dict
from physml.platform import cluster, tracking
from physml.platform.artifacts import load_model, log_model
from physml.platform.data import storage
from physml.platform.data.local import check_data
from physml.platform.data.shards import DatasetError, read_manifest
from physml.platform.data.streams import ray_dataset, training_stream
from physml.platform.evaluation import evaluate_and_log
from physml.platform.plan import check_resources, check_resumable, data_uri, for_data, initial_state, resume_id, shared
from physml.platform.simulate import ensure_dataset
from physml.platform.training.local import fit_local
from physml.platform.training.loop import fit, load_state, training_failure
from physml.platform.training.runplan import RunPlan
from physml.tasks import TASKS, load


@dataclass
class RunResult:
    run_id: str
    metrics: dict
    data_uri: str


def run_task(
    task_name: str, cfg, task=None, address: str | None = None, resume: str | None = None, progress: bool = True
) -> RunResult:
    """Train ``task_name`` with ``cfg`` on Ray Train (or in this process with train.runner = "local"),
    evaluate on the test splits, log to MLflow."""
    task = task or load(TASKS[task_name])()
    if resume:
        check_resumable(task_name, resume, cfg)
    init = initial_state(task, cfg, task_name)
    storage.home()  # a PHYSML_HOME Ray cannot use fails here, before Ray starts
    if cfg.data.uri:  # a missing or foreign dataset, or a bad file, is refused before Ray starts
        check_data(task, cfg, cfg.data.uri, task_name)
    info = cluster.connect(address)
    check_resources(cfg, info)
    shared(info, cfg.data.uri)
    uri = data_uri(task, cfg, progress)
    reader = check_data(task, cfg, uri, task_name)
    cfg = for_data(
        task, replace(cfg, data=replace(cfg.data, uri=uri)), uri, bool(cfg.data.uri) or reader is not None, reader
    )
    specs = task.datasets(cfg, uri)
    tracking.experiment(task_name)
    run_id = resume_id(task_name, resume)
    tags = {"data.uri": uri, "ray.address": info["address"], "physml.kind": "train"}
    cfg_dict = to_dict(cfg)  # the MLflow boundary: params and config.toml
    with tracking.run(task_name, f"run-{task_name}", cfg_dict, tags, run_id=run_id) as active:
        rid = active.info.run_id
        tracking.announce(active, task_name)
        mlflow.log_text(dump_toml(cfg_dict), "config.toml")
        runs = storage.join(storage.home(), "runs", task_name)
        shuffle, keep = training_stream(specs["train"], cfg.train.batch_size)
        plan = RunPlan(task_name, cfg, uri, runs, rid, rid, tracking.tracking_uri(), init, shuffle, keep)
        try:
            if cfg.train.runner == "local":
                res = fit_local(task, plan, specs)
            else:
                train = ray_dataset(specs["train"], shuffle_seed=cfg.train.seed)
                with tracking.EpochEcho(rid):  # the workers' epochs, one line each, from the MLflow run
                    res = fit(plan, train, ray_dataset(specs["val"]))
        except Exception as err:
            raise training_failure(err) from None
        if res.error is not None:
            raise training_failure(res.error)
        model, state = task.model(cfg), load_state(res.checkpoint)
        model.load_state_dict(state["model"])
        mlflow.set_tag("physml.checkpoint_epoch", str(state["epoch"]))  # the epoch evaluated and saved
        metrics = evaluate_and_log(task, model, cfg, specs)
        log_model(model, cfg, task_name)
        return RunResult(rid, metrics, uri)


def ingested(task, cfg, data_uri: str, progress: bool = True) -> str:
    """``data_uri`` itself when it is a dataset; a directory of raw files (e.g. PROMISE12 cases) that
    the task can read (``task.ingest``) is converted once into the data cache and that URI returned."""
    if task.reader(cfg, data_uri) is not None:  # files the task reads in place
        return data_uri
    try:
        read_manifest(data_uri)
        return data_uri
    except DatasetError:
        sim = task.ingest(cfg, data_uri) if Path(data_uri).is_dir() else None
        if sim is None:
            raise
    try:
        sim.source().items()  # the layout, checked before Ray
    except ValueError as err:
        raise ConfigError(f"--data {data_uri}: {err}") from None
    cluster.connect(None)
    return ensure_dataset(sim.sampler, sim.params, storage.join(storage.home(), "cache"), progress=progress)


def override(cfg_dict: dict, sets: list[str]) -> dict:
    """The trained config with ``--set`` overrides of its data (the model's keys stay: its weights fit them)."""
    bad = [s for s in sets if not s.startswith("data.")]
    if bad:
        raise ConfigError(f"--set {bad[0]}: evaluation may override data.* keys only (the model is trained)")
    return merge(cfg_dict, sets) if sets else cfg_dict


def evaluate_task(task_name: str, model_uri: str, data_uri: str, sets: list[str] = ()) -> tuple[str, dict, str]:
    """Evaluate a saved model on new shards (or a directory of raw cases the task can ingest); logs an
    evaluation run and writes its figures under ``<PHYSML_HOME>/evaluations/<run id>``. Returns (run
    id, metrics, figure directory)."""
    trained, cfg_dict, state = load_model(model_uri)
    storage.home()
    if trained != task_name:
        raise ConfigError(f"--model {model_uri} was trained for task {trained!r}, not {task_name!r}")
    task = load(TASKS[task_name])()
    cfg_dict = override(cfg_dict, list(sets))
    data_uri = ingested(task, from_dict(task.Config, cfg_dict), data_uri)
    cfg_dict.setdefault("data", {})["uri"] = data_uri
    reader = check_data(task, from_dict(task.Config, cfg_dict), data_uri, task_name)
    cfg = for_data(task, from_dict(task.Config, cfg_dict), data_uri, True, reader)
    model = task.model(cfg)
    model.load_state_dict(state)
    tags = {"data.uri": data_uri, "model.uri": model_uri, "physml.kind": "evaluate"}
    with tracking.run(task_name, f"evaluate-{task_name}", to_dict(cfg), tags) as active:
        out = storage.join(storage.home(), "evaluations", active.info.run_id)
        specs = task.evaluation_datasets(cfg, data_uri)
        metrics = evaluate_and_log(task, model, cfg, specs, out)
        return active.info.run_id, metrics, out


__all__ = ["run_task", "evaluate_task", "RunResult"]
