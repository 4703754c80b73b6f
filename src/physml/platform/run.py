"""`physml run` and `physml evaluate`: configs resolved, data found or simulated, Ray Train, MLflow."""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import mlflow
import tomllib
import torch

from physml.config import ConfigError, dump_toml, from_dict, load_toml, merge, to_dict
from physml.errors import TrainingError
from physml.tasks import TASKS, config_path, load, shipped_configs

from . import cluster, storage, tracking
from .data import DatasetError, read_manifest
from .datasets import ray_dataset
from .local_data import check_kind, local_batches
from .simulate import ensure_dataset


def config_dict(task_name: str, config: str | None) -> dict:
    """The raw TOML dict of a shipped config name (default "default") or of a .toml path."""
    if task_name not in TASKS:
        raise ConfigError(f"unknown task {task_name!r}; choose one of {', '.join(TASKS)}")
    name = config or "default"
    if name.endswith(".toml") or os.sep in name:
        return load_toml(Path(name))
    if config_path(task_name, name).exists():
        return load_toml(config_path(task_name, name))
    raise ConfigError(
        f"-c {name!r}: not a .toml file nor a config of {task_name} ({', '.join(shipped_configs(task_name))})"
    )


def resolve(task_name: str, config: str | None, sets: list[str], resume: str | None = None):
    """(task instance, typed config) from a shipped config name or a TOML path plus --set overrides;
    with ``resume`` and no config, the resumed run's own config is the base."""
    base = resumed_config(task_name, resume) if resume and config is None else config_dict(task_name, config)
    task = load(TASKS[task_name])()
    return task, from_dict(task.Config, merge(base, sets))


@dataclass
class RunResult:
    run_id: str
    metrics: dict
    data_uri: str


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


def _for_data(task, cfg, uri: str, user_data: bool):
    """A user's dataset decides what the config says of its shape (e.g. the sizes L it holds)."""
    if not user_data:
        return cfg
    try:
        return from_dict(task.Config, task.adapt(to_dict(cfg), read_manifest(uri).get("params", {})))
    except ValueError as err:
        raise ConfigError(f"data.uri {uri}: {err}") from None


def _resume_id(task_name: str, resume: str | None) -> str | None:
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
    mlflow.set_tracking_uri(tracking.tracking_uri())
    rid = _resume_id(task_name, resume)
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


def training_failure(err: BaseException) -> TrainingError:
    """A one-line TrainingError naming the cause inside Ray's wrapped worker/trial traceback."""
    from .train import NonFiniteLoss

    if isinstance(err, NonFiniteLoss):  # raised in this process by the local runner
        return TrainingError(f"training stopped: non-finite loss ({err})")
    text = str(err)
    m = re.search(r"NonFiniteLoss: ([^\n]+)", text)
    if m:
        return TrainingError(f"training stopped: non-finite loss ({m.group(1)})")
    last = [ln for ln in text.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", ln.strip())]
    return TrainingError(f"training failed: {last[-1].strip() if last else text.splitlines()[0]}")


def run_task(
    task_name: str, cfg, task=None, address: str | None = None, resume: str | None = None, progress: bool = True
) -> RunResult:
    """Train ``task_name`` with ``cfg`` on Ray Train (or in this process with train.runner = "local"),
    evaluate on the test splits, log to MLflow."""
    from .local_run import fit_local
    from .train import fit, load_state

    task = task or load(TASKS[task_name])()
    if resume:
        check_resumable(task_name, resume, cfg)
    init = initial_state(task, cfg, task_name)
    storage.home()  # a PHYSML_HOME Ray cannot use fails here, before Ray starts
    info = cluster.connect(address)
    check_resources(cfg, info)
    shared(info, cfg.data.uri)
    uri = data_uri(task, cfg, progress)
    check_kind(uri, task.data_kind(cfg), task_name)
    cfg = _for_data(task, replace(cfg, data=replace(cfg.data, uri=uri)), uri, user_data=bool(cfg.data.uri))
    specs = task.datasets(cfg, uri)
    tracking.experiment(task_name)
    run_id = _resume_id(task_name, resume)
    tags = {"data.uri": uri, "ray.address": info["address"], "physml.kind": "train"}
    with tracking.run(task_name, f"run-{task_name}", to_dict(cfg), tags, run_id=run_id) as active:
        rid = active.info.run_id
        mlflow.log_text(dump_toml(to_dict(cfg)), "config.toml")
        runs = storage.join(storage.home(), "runs", task_name)
        try:
            if cfg.train.runner == "local":
                res = fit_local(task, cfg, specs, storage.join(runs, rid), tracking.tracking_uri(), rid, init)
            else:
                train = ray_dataset(specs["train"], shuffle_seed=cfg.train.seed)
                res = fit(
                    TASKS[task_name],
                    cfg,
                    train,
                    ray_dataset(specs["val"]),
                    runs,
                    rid,
                    tracking.tracking_uri(),
                    rid,
                    init_state=init,
                )
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


def evaluate_splits(task, model, cfg, specs: dict) -> dict:
    """``task.evaluate`` over the test splits, read in this process; float results become ``test/<k>``."""
    model.eval()
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
    if model_uri.startswith(("runs:/", "models:/", "mlflow-artifacts:")) or not local.exists():
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


def ingested(task, cfg, data_uri: str, progress: bool = True) -> str:
    """``data_uri`` itself when it is a dataset; a directory of raw files (e.g. PROMISE12 cases) that
    the task can read (``task.ingest``) is converted once into the data cache and that URI returned."""
    try:
        read_manifest(data_uri)
        return data_uri
    except DatasetError:
        sim = task.ingest(cfg, data_uri) if Path(data_uri).is_dir() else None
        if sim is None:
            raise
    from physml.tasks import source_path

    try:
        load(source_path(sim.sampler)).from_dict(sim.params).items()  # the layout, checked before Ray
    except ValueError as err:
        raise ConfigError(f"--data {data_uri}: {err}") from None
    cluster.connect(None)
    return ensure_dataset(sim.sampler, sim.params, storage.join(storage.home(), "cache"), progress=progress)


def evaluate_task(task_name: str, model_uri: str, data_uri: str) -> tuple[str, dict, str]:
    """Evaluate a saved model on new shards (or a directory of raw cases the task can ingest); logs an
    evaluation run and writes its figures under ``<PHYSML_HOME>/evaluations/<run id>``. Returns (run
    id, metrics, figure directory)."""
    trained, cfg_dict, state = load_model(model_uri)
    storage.home()
    if trained != task_name:
        raise ConfigError(f"--model {model_uri} was trained for task {trained!r}, not {task_name!r}")
    task = load(TASKS[task_name])()
    data_uri = ingested(task, from_dict(task.Config, cfg_dict), data_uri)
    cfg_dict.setdefault("data", {})["uri"] = data_uri
    check_kind(data_uri, task.data_kind(from_dict(task.Config, cfg_dict)), task_name)
    cfg = _for_data(task, from_dict(task.Config, cfg_dict), data_uri, user_data=True)
    model = task.model(cfg)
    model.load_state_dict(state)
    tags = {"data.uri": data_uri, "model.uri": model_uri, "physml.kind": "evaluate"}
    with tracking.run(task_name, f"evaluate-{task_name}", to_dict(cfg), tags) as active:
        out = storage.join(storage.home(), "evaluations", active.info.run_id)
        specs = task.evaluation_datasets(cfg, data_uri)
        metrics = evaluate_and_log(task, model, cfg, specs, out)
        return active.info.run_id, metrics, out


__all__ = ["resolve", "run_task", "evaluate_task", "TrainingError", "DatasetError", "ConfigError"]
