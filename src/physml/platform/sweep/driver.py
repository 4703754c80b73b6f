"""`physml sweep`: Ray Tune + OptunaSearch (TPE) + ASHA over a task's search space.

A sweep file is a task config (or ``base = "smoke"`` plus overrides) with a ``[sweep]`` table:
settings (samples, metric, mode, scheduler, max_concurrent, grace_period, reduction_factor), a
``[sweep.space]`` (see :mod:`physml.platform.sweep.space`) and optional ``[[sweep.table]]`` rows. All of it is
checked before Ray starts; the resource plan is checked against the cluster before Tune starts.
The sweep lives in ``<PHYSML_HOME>/sweeps/<task>/<name>``: ``physml-sweep.json``, ``physml-trials.json``,
Tune's experiment in ``tune/`` (restored by ``--resume`` with ``Tuner.restore``) and, for trials running
a TorchTrainer, Ray Train's checkpoints in ``train/``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import mlflow

from physml.config import ConfigError, annotated_toml, from_dict
from physml.platform import cluster, tracking
from physml.platform.data import storage
from physml.platform.data.local import check_data
from physml.platform.data.streams import materialize_limit, split_memory
from physml.platform.plan import check_resources, data_uri, initial_state, shared
from physml.platform.sweep.log import META, SweepLogger
from physml.platform.sweep.report import summarize
from physml.platform.sweep.request import SweepRequest, prepare  # noqa: F401  (prepare: the driver's entry)
from physml.platform.sweep.space import Space, SweepSettings, parse_space
from physml.platform.sweep.trial import ROW, run_trial, trial_config
from physml.tasks import TASKS, load

TRIAL_CPU = 0.01  #: a ray-train trial's own share (it only waits on its TorchTrainer)
DATA_CPUS = 1.0  #: kept free for Ray Data's read/shuffle tasks when trials run TorchTrainers
TUNE_DIR = "tune"  #: Tune's experiment directory inside the sweep directory (Tune syncs it; ours stay apart)


@dataclass
class Plan:
    runner: str  # inline | ray-train
    cpus: float  # per trial
    gpus: float  # per trial
    concurrent: int


def plan(req: SweepRequest, cfg, info: dict, small: bool = True) -> Plan:
    """Trials x workers x CPUs/GPUs against the cluster ``info`` ({"cpus", "gpus"}); ConfigError saying
    what to change. ``small``: the splits fit in a trial's memory (1-worker trials then run inline)."""
    check_resources(cfg, info)
    t = cfg.train
    runner = "inline" if t.workers == 1 and small else "ray-train"
    cpus = t.cpus_per_worker if runner == "inline" else TRIAL_CPU + t.workers * t.cpus_per_worker
    gpus = float(t.gpu) * (1 if runner == "inline" else t.workers)
    reserve = DATA_CPUS if runner == "ray-train" else 0.0
    fit = math.floor((info["cpus"] - reserve) / cpus + 1e-9)
    if gpus:
        fit = min(fit, math.floor(info["gpus"] / gpus + 1e-9))
    want = req.settings.max_concurrent
    if fit < 1 or (want is not None and want > fit):
        need = f"{cpus:g} CPU(s)" + (f" and {gpus:g} GPU(s)" if gpus else "")
        have = f"{info['cpus']} CPUs" + (f" and {info['gpus']} GPUs" if gpus else "")
        kept = f", {reserve:g} CPU kept for Ray Data" if reserve else ""
        fix = f"use --max-concurrent {fit} or " if fit >= 1 else ""
        raise ConfigError(
            f"{f'--max-concurrent {want}: ' if want else ''}each trial needs {need} ({t.workers} "
            f"worker(s) x train.cpus_per_worker = {t.cpus_per_worker:g}); the cluster has {have}"
            f"{kept}: {fix}lower train.workers or train.cpus_per_worker"
        )
    return Plan(runner, cpus, gpus, max(1, min(want or fit, req.total)))


def _small(task_path: str, cfg, uri: str) -> bool:
    """True when the train and val splits fit in a trial's memory (read once, kept by the actor)."""
    specs = load(task_path)().datasets(cfg, uri)
    return sum(split_memory(specs[n]) for n in ("train", "val")) < materialize_limit()


def tune_space(space: Space) -> tuple[dict, dict]:
    """(Tune param_space, {key: values} of choices encoded as indices: Optuna only takes scalars)."""
    from ray import tune

    out, encoded = {}, {}
    for d in space.dims:
        if d.kind == "uniform":
            out[d.key] = tune.uniform(*d.args)
        elif d.kind == "loguniform":
            out[d.key] = tune.loguniform(*d.args)
        elif d.kind == "int":
            out[d.key] = tune.randint(d.args[0], d.args[1] + 1)
        elif d.kind == "grid":
            out[d.key] = tune.grid_search(list(d.args))
        elif all(isinstance(v, (int, float, str, bool)) for v in d.args):
            out[d.key] = tune.choice(list(d.args))
        else:
            out[d.key], encoded[d.key] = tune.choice(list(range(len(d.args)))), list(d.args)
    if space.table:
        out[ROW] = tune.grid_search(list(range(len(space.table))))
    return out, encoded


def _quiet_tune() -> None:
    """Checkpoint snapshots each epoch are intended (resume); Tune's warning about them is noise."""
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # our progress bar and table instead of Tune's


def _trial_dirname(trial) -> str:
    return trial.trial_id


def _tuner_parts(req: SweepRequest, meta: dict, plan_: Plan):
    """(trainable, TuneConfig) of a sweep, rebuilt identically on --resume."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    s = req.settings
    setup = {
        "task": req.task,
        "base": req.base,
        "table": [dict(r) for r in req.space.table],
        "choices": meta["choices"],
        "uri": meta["uri"],
        "runner": plan_.runner,
        "storage": meta["dir"],
    }
    task = load(TASKS[req.task])()
    setup["init_state"] = initial_state(task, from_dict(task.Config, req.base), req.task)  # train.init_from
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, setup=setup), {"CPU": plan_.cpus, "GPU": plan_.gpus}
    )
    search = None
    if not req.space.exhaustive:
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        one = len(s.metric) == 1
        search = OptunaSearch(
            metric=s.metric[0] if one else s.metric,
            mode=s.mode[0] if one else s.mode,
            seed=req.base.get("train", {}).get("seed", 0),
        )
    epochs = req.base["train"]["epochs"]
    scheduler = (
        ASHAScheduler(
            time_attr="epoch",
            metric=s.metric[0],
            mode=s.mode[0],
            max_t=epochs + 1,
            grace_period=s.grace_period,
            reduction_factor=s.reduction_factor,
        )
        if s.scheduler == "asha"
        else FIFOScheduler()
    )
    config = tune.TuneConfig(
        num_samples=s.samples or (1 if req.space.exhaustive else 8),
        search_alg=search,
        scheduler=scheduler,
        max_concurrent_trials=plan_.concurrent,
        reuse_actors=plan_.runner == "inline",
        trial_dirname_creator=_trial_dirname,
    )
    return trainable, config, setup


@dataclass
class SweepResult:
    name: str
    dir: str
    parent_id: str
    rows: list[dict]
    best: dict | None
    complete: bool


def run_sweep(
    req: SweepRequest, address: str | None = None, progress: bool = True, name: str | None = None
) -> SweepResult:
    """Launch a new sweep: data, resource plan, parent MLflow run, Tuner.fit, summary artefacts."""
    from ray import tune

    _quiet_tune()
    task = load(TASKS[req.task])()
    cfg = from_dict(task.Config, req.base)
    storage.home()  # a PHYSML_HOME Ray cannot use fails here, before Ray starts
    info = cluster.connect(address)
    shared(info, cfg.data.uri)
    uri = data_uri(task, cfg, progress)
    check_data(task, cfg, uri, req.task)
    plan_ = plan(req, cfg, info, _small(TASKS[req.task], cfg, uri))
    name = name or time.strftime("sweep-%Y%m%d-%H%M%S")
    sweep_dir = storage.join(storage.home(), "sweeps", req.task, name)
    if storage.exists(sweep_dir):
        raise ConfigError(f"sweep {sweep_dir} exists; resume it with --resume {sweep_dir}")
    storage.makedirs(sweep_dir)
    space, choices = tune_space(req.space)
    exp_id = tracking.experiment(req.task)
    parent = _parent_run(req, exp_id, name, uri, plan_, info)
    meta = {
        "task": req.task,
        "name": name,
        "dir": sweep_dir,
        "uri": uri,
        "parent_id": parent,
        "experiment_id": exp_id,
        "tracking_uri": tracking.tracking_uri(),
        "base": req.base,
        "space": [asdict(d) for d in req.space.dims],
        "table": [dict(r) for r in req.space.table],
        "settings": asdict(req.settings),
        "choices": choices,
        "plan": asdict(plan_),
        "total": req.total,
    }
    storage.write_json(storage.join(sweep_dir, META), meta)
    trainable, tune_config, setup = _tuner_parts(req, meta, plan_)
    logger = SweepLogger(
        meta["tracking_uri"], exp_id, parent, sweep_dir, functools.partial(trial_config, setup), req.total, progress
    )
    tuner = tune.Tuner(
        trainable,
        param_space=space,
        tune_config=tune_config,
        run_config=tune.RunConfig(
            name=TUNE_DIR,
            storage_path=sweep_dir,
            callbacks=[logger],
            verbose=0,
            storage_filesystem=storage.tune_filesystem(sweep_dir),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            failure_config=tune.FailureConfig(max_failures=req.base["train"]["max_failures"]),
        ),
    )
    _print_plan(req, plan_, info, sweep_dir)
    return _finish(tuner, meta, setup)


def _print_plan(req: SweepRequest, p: Plan, info: dict, sweep_dir: str) -> None:
    s = req.settings
    searcher = "grid/table (exact)" if req.space.exhaustive else "Optuna TPE"
    print(
        f"sweep {req.task}: {req.total} trials, {searcher}, scheduler {s.scheduler}, objective "
        f"{', '.join(f'{m} ({o})' for m, o in zip(s.metric, s.mode))}; {p.concurrent} concurrent x "
        f"{p.cpus:g} CPU ({p.runner}) on {info['cpus']} CPUs; state in {sweep_dir}",
        flush=True,
    )


def _parent_run(req: SweepRequest, exp_id: str, name: str, uri: str, p: Plan, info: dict) -> str:
    client = mlflow.MlflowClient(tracking.tracking_uri())
    tags = {
        "physml.kind": "sweep",
        "physml.task": req.task,
        "data.uri": uri,
        "ray.address": info["address"],
        "physml.version": __import__("physml").__version__,
    }
    run = client.create_run(exp_id, run_name=name, tags=tags)
    rid = run.info.run_id
    params = {
        **tracking.flatten(req.base),
        **{f"sweep.{k}": str(v) for k, v in asdict(req.settings).items()},
        "sweep.runner": p.runner,
        "sweep.concurrent": str(p.concurrent),
        "sweep.trials": str(req.total),
    }
    from mlflow.entities import Param

    items = [Param(k, v) for k, v in params.items()]
    for i in range(0, len(items), 100):
        client.log_batch(rid, params=items[i : i + 100])
    client.log_dict(
        rid, {"space": [asdict(d) for d in req.space.dims], "table": list(req.space.table)}, "sweep_space.json"
    )
    return rid


def _finish(tuner, meta: dict, setup: dict) -> SweepResult:
    """Run (or continue) the Tuner, then write the summary to the parent run."""
    client = mlflow.MlflowClient(meta["tracking_uri"])
    client.update_run(meta["parent_id"], status="RUNNING")
    try:
        tuner.fit()
    except KeyboardInterrupt:
        client.set_terminated(meta["parent_id"], "KILLED")
        raise
    except Exception:
        client.set_terminated(meta["parent_id"], "FAILED")
        raise
    rows, best, complete = summarize(meta, setup, client)
    status = (
        "FINISHED"
        if complete and any(r["status"] != "failed" for r in rows)
        else ("KILLED" if not complete else "FAILED")
    )
    client.set_terminated(meta["parent_id"], status)
    return SweepResult(meta["name"], meta["dir"], meta["parent_id"], rows, best, complete)


def find_sweep(task: str | None, where: str | None) -> str:
    """A sweep directory or URI: ``where`` itself, or the latest sweep of ``task`` under PHYSML_HOME."""
    if where and where != "last":
        d = where.rstrip("/") if storage.is_remote(where) else str(Path(where).expanduser().resolve())
        if not storage.exists(storage.join(d, META)):
            raise ConfigError(f"{where}: not a physml sweep directory (no {META})")
        return d
    if not task:
        raise ConfigError("give the sweep directory, or the task whose latest sweep to use")
    root = storage.join(storage.home(), "sweeps", task)
    metas = storage.glob(storage.join(root, "*", META))
    if not metas:
        raise ConfigError(f"no sweep of {task} under {root}")
    return storage.parent(metas[-1])


def _check_state(tune_dir: str) -> None:
    """Tune's newest saved state (trials, searcher) must be readable: if not, Tune would silently start the
    whole sweep again. Sweeps written before files were renamed into place can hold a truncated one."""
    if storage.is_remote(tune_dir):
        return
    import ray.cloudpickle as cloudpickle

    for pattern, reader in (
        ("experiment_state-*.json", json.load),
        ("search_gen_state-*.json", cloudpickle.load),
        ("searcher-state-*.pkl", cloudpickle.load),
    ):
        found = sorted(Path(tune_dir).glob(pattern))
        try:
            if found:
                with open(found[-1], "rb") as f:
                    reader(f)
        except Exception as e:
            raise ConfigError(
                f"{found[-1]}: Tune's saved state is damaged ({type(e).__name__}: the driver was "
                "killed while writing it); this sweep cannot be resumed, start it again"
            ) from None


def resume_sweep(where: str, address: str | None = None, progress: bool = True) -> SweepResult:
    """Continue a sweep with Tuner.restore: finished trials are kept, unfinished ones continue from
    their last checkpoint, the remaining samples are run; same parent and child MLflow runs."""
    from ray import tune

    _quiet_tune()
    meta = storage.read_json(storage.join(where, META))
    if meta["tracking_uri"] != tracking.tracking_uri():
        raise ConfigError(
            f"sweep {where} logs to {meta['tracking_uri']}, but the tracking URI in force is "
            f"{tracking.tracking_uri()}: set MLFLOW_TRACKING_URI or run from the same directory"
        )
    task = load(TASKS[meta["task"]])()
    space = parse_space(
        {d["key"]: {d["kind"]: list(d["args"])} for d in meta["space"]}, meta["table"], task.Config, meta["base"]
    )
    req = SweepRequest(meta["task"], meta["base"], space, SweepSettings(**meta["settings"]))
    info = cluster.connect(address)
    shared(info, meta["uri"])
    plan_ = Plan(**meta["plan"])
    if plan_.cpus * plan_.concurrent > info["cpus"] + 1e-9:
        plan_ = replace(plan_, concurrent=max(1, math.floor(info["cpus"] / plan_.cpus)))
    tune_dir = storage.join(where, TUNE_DIR)
    if not tune.Tuner.can_restore(tune_dir):
        raise ConfigError(f"{where}: Tune saved no state yet (killed before the first trial); start it again")
    _check_state(tune_dir)
    trainable, _, setup = _tuner_parts(req, meta, plan_)
    tuner = tune.Tuner.restore(
        tune_dir,
        trainable,
        param_space=tune_space(space)[0],
        resume_unfinished=True,
        resume_errored=False,
        storage_filesystem=storage.tune_filesystem(tune_dir),
    )
    print(f"resuming sweep {meta['name']} of {meta['task']} ({where})", flush=True)
    return _finish(tuner, meta, setup)


def describe_sweep(req: SweepRequest, address: str | None) -> str:
    """What `physml sweep` would do, for ``--dry-run``: the base config (annotated), the searched
    keys, the trials and the objective. Starts nothing and writes nothing."""
    task = load(TASKS[req.task])()
    cfg = from_dict(task.Config, req.base)
    s = req.settings
    lines = [annotated_toml(cfg), f"# physml sweep {req.task}: dry run, nothing started"]
    for d in req.space.dims:
        lines.append(f"# search {d.key}: {d.kind} {list(d.args)}")
    if req.space.table:
        lines.append(f"# table: {len(req.space.table)} fixed rows of {', '.join(sorted(req.space.table[0]))}")
    searcher = "grid/table (exact)" if req.space.exhaustive else "Optuna TPE"
    objective = ", ".join(f"{m} ({o})" for m, o in zip(s.metric, s.mode))
    lines.append(f"# trials: {req.total}, {searcher}, scheduler {s.scheduler}, objective {objective}")
    concurrent = s.max_concurrent or "as many as the cluster fits"
    lines.append(
        f"# concurrency: {concurrent}; each trial {cfg.train.workers} worker(s) x {cfg.train.cpus_per_worker:g} CPU"
    )
    addr = address or os.environ.get("RAY_ADDRESS")
    lines.append(f"# ray: {'the cluster at ' + addr if addr else 'a private local instance'}")
    lines.append(
        f"# mlflow: {tracking.tracking_uri()}, experiment '{req.task}' (one parent run, a nested run per trial)"
    )
    return "\n".join(lines)
