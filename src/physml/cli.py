"""The `physml` command: parse, validate, call. Bad input exits 2 with one line naming the value."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from physml import __version__
from physml.cli_options import int64
from physml.errors import EXIT_FAILED, EXIT_INPUT, CliError, RunFailure, UserError


class _Parser(argparse.ArgumentParser):
    """argparse with physml's one-line errors: ``physml: error: <message> (see `<prog> --help`)``."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"physml: error: {message} (see `{self.prog} --help`)\n")


def _port(text: str) -> int:
    value = int64(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text}: a TCP port is 1..65535")
    return value


ADDRESS = re.compile(r"^(auto|local|(ray://)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):\d{1,5})$")


def _address(text: str) -> str:
    """A Ray address: auto, local, HOST:PORT or ray://HOST:PORT."""
    m = ADDRESS.match(text)
    if not m or (":" in text and not 1 <= int(text.rsplit(":", 1)[1]) <= 65535):
        raise argparse.ArgumentTypeError(f"{text!r}: expected HOST:PORT, ray://HOST:PORT, auto or local")
    return text


def _at_least_one(text: str) -> int:
    value = int64(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be >= 1")
    return value


def _cluster_options(p) -> None:
    p.add_argument(
        "--address", type=_address, default=None, help="Ray cluster address (default: RAY_ADDRESS, else local)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--force", action="store_true", help="start even when the output will not fit the free space")


def _check_size(source, out: str, force: bool) -> None:
    """Refuse a simulation whose output will not fit the free space of its (local) target unless
    --force (`physml simulate` says what it will write once its output is open)."""
    import shutil

    from physml.platform.data.storage import is_remote
    from physml.tasks.sources import human_bytes

    est = source.estimate()
    if est is None:
        return
    if not is_remote(out) and not force:
        parent = Path(out).expanduser().resolve()
        while not parent.exists():
            parent = parent.parent
        free = shutil.disk_usage(parent).free
        if est.bytes > free:
            raise CliError(
                f"--out {out}: the dataset needs about {human_bytes(est.bytes)}, {parent} has "
                f"{human_bytes(free)} free; make it smaller or pass --force"
            )


VERB_PREFIX = {"convert": "convert_", "detect": "detect_"}  #: a source's attributes per verb (simulate: none)


def _add_sources(parser, verb: str, chosen: str | None) -> None:
    """`physml simulate KIND` / `physml convert KIND` for every registered source, options built from its
    parameter dataclass (:mod:`physml.cli_options`). Only ``chosen`` is imported (None: all, for the docs and
    shell completion); the others are listed by their ``summary``, read from source."""
    from physml.tasks import SOURCES, class_attr

    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for name, path in SOURCES.items():
        summary = class_attr(path, VERB_PREFIX.get(verb, "") + "summary")
        if not summary:
            continue
        if chosen is not None and name != chosen:
            kinds.add_parser(name, help=summary)
            continue
        _source_parser(kinds, name, path, verb, summary)


def _source_parser(kinds, name: str, path: str, verb: str, summary: str) -> None:
    from physml.cli_options import add_options
    from physml.tasks import load
    from physml.tasks.sources import ChainSampler

    cls = load(path)
    prefix = VERB_PREFIX.get(verb, "")
    example = getattr(cls, prefix + "example")
    p = kinds.add_parser(
        name,
        help=summary,
        description=getattr(cls, prefix + "description"),
        epilog=f"example: {example}" if example else None,
    )
    add_options(p, cls.params_type, verb)
    p.add_argument("--out", required=True, help="dataset URI: path, file://, memory://, s3://, gs://")
    if issubclass(cls, ChainSampler):
        p.add_argument("--actors", type=_at_least_one, default=None, help="Ray actors (default: one per CPU)")
    p.add_argument("--brief", action="store_true", help="print a few summary lines, not the whole table")
    _cluster_options(p)


def _add_simulate(sub, chosen: str | None) -> None:
    p = sub.add_parser(
        "simulate",
        help="generate a dataset on Ray (Markov chains, MRI cases, sky images, lenses, jets)",
        description="Generate a sharded Parquet dataset (+ manifest.json) at --out on Ray, print a "
        "summary and log to MLflow. Re-running the same command on the same --out resumes it. "
        "See `physml simulate KIND --help`.",
    )
    _add_sources(p, "simulate", chosen)


def _add_convert(sub, chosen: str | None) -> None:
    p = sub.add_parser(
        "convert",
        help="convert real data (PROMISE12, NIfTI, FITS cutouts, top-tagging HDF5, Delphes ROOT) into a dataset",
        description="Read a directory of real files into Parquet shards at --out in parallel Ray "
        "tasks, in the schema the simulator of the same kind writes. Resumable.",
    )
    _add_sources(p, "convert", chosen)


def _add_detect(sub, chosen: str | None) -> None:
    p = sub.add_parser(
        "detect",
        help="label extreme weather in CF NetCDF/Zarr fields with heuristics (TECA-style), on Ray",
        description="Label every time step of --data (LABELS: 0 background, 1 tropical cyclone, 2 "
        "atmospheric river) in parallel Ray tasks; --out X.nc writes one CF NetCDF file, X.zarr one Zarr "
        "store, anything else a directory of NetCDF label files; `physml run` reads each as data.labels. "
        "Resumable.",
    )
    _add_sources(p, "detect", chosen)


def _add_sweep(sub) -> None:
    sw = sub.add_parser(
        "sweep",
        help="hyperparameter sweep: Ray Tune + Optuna + ASHA, nested MLflow runs",
        description="Sweep TASK over its search space (the task's default, or a sweep file's "
        "[sweep.space] / [[sweep.table]]). Each trial is a full `physml run`; one MLflow parent "
        "run holds a nested run per trial. --resume continues a killed sweep; --status shows one.",
    )
    sw.add_argument("task", nargs="?", help="task name (see `physml tasks`)")
    sw.add_argument(
        "--dry-run", action="store_true", help="print the base config, the space and the trials; start nothing"
    )
    sw.add_argument(
        "-c",
        "--config",
        default=None,
        help="sweep file (.toml with [sweep]) or a shipped config name (default: default)",
    )
    sw.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a base config value (repeatable)",
    )
    sw.add_argument(
        "--samples",
        type=int64,
        default=None,
        help="trials (Optuna), or repeats of a grid/table (default 8, grids 1)",
    )
    sw.add_argument(
        "--max-concurrent",
        type=int64,
        default=None,
        help="trials at once (default: as many as the cluster fits)",
    )
    sw.add_argument(
        "--scheduler", default=None, choices=["asha", "none"], help="early stopping of trials (default asha)"
    )
    sw.add_argument("--metric", nargs="+", default=None, help="objective(s), e.g. val/acc (two: multi-objective)")
    sw.add_argument("--mode", nargs="+", default=None, choices=["min", "max"], help="min or max per metric")
    sw.add_argument("--name", default=None, help="sweep name (default sweep-<date>-<time>)")
    sw.add_argument(
        "--resume",
        nargs="?",
        const="last",
        default=None,
        metavar="DIR",
        help="continue a sweep (default: the task's latest)",
    )
    sw.add_argument(
        "--status",
        nargs="?",
        const="last",
        default=None,
        metavar="DIR",
        help="print the trials table of a sweep (default: the task's latest) and exit",
    )
    sw.add_argument(
        "--address", type=_address, default=None, help="Ray cluster address (default: RAY_ADDRESS, else local)"
    )
    sw.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_generate(sub) -> None:
    g = sub.add_parser(
        "generate",
        help="a trained generator writes configurations as a sharded dataset",
        description="Generate configurations with a trained model (e.g. an ising-generation run) "
        "into Parquet shards in the simulator's schema (algorithm = generated:<kind>), so "
        "`physml evaluate` and the simulator's summary read them. Re-running resumes.",
    )
    g.add_argument("kind", choices=["ising"], help="what to generate")
    g.add_argument("--model", required=True, help="runs:/RUN_ID/model or a local model directory")
    g.add_argument(
        "--L",
        type=int64,
        nargs="+",
        required=True,
        help="lattice size(s); the actor-critic takes any multiple of 4 (scale-up), the VAE its own L",
    )
    g.add_argument("--temperatures", required=True, help="start:stop:count (inclusive) or a comma list, J/k_B")
    g.add_argument("--n", type=int64, default=1000, help="configurations per (L, T) (default 1000)")
    g.add_argument("--seed", type=int64, default=0, help="noise seed (default 0)")
    g.add_argument("--out", required=True, help="dataset URI: path, file://, memory://, s3://, gs://")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``chosen``, only that data source's options are built (imported)."""
    parser = _Parser(
        prog="physml", description="physml: Monte Carlo, training and sweeps for physics on Ray, tracked in MLflow."
    )
    parser.add_argument("--version", action="version", version=f"physml {__version__}")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show Ray's own log lines (by default they go to Ray's log directory)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_simulate(sub, chosen)
    _add_convert(sub, chosen)
    _add_detect(sub, chosen)
    ui = sub.add_parser(
        "ui",
        help="start the MLflow UI on 127.0.0.1 for the tracking store in use",
        description="Serve the MLflow UI of the store in use (MLFLOW_TRACKING_URI, else ./mlflow.db) on "
        "127.0.0.1 until Ctrl-C.",
    )
    ui.add_argument("--port", type=_port, default=5000, help="port (default 5000)")
    ui.add_argument("--workers", type=_at_least_one, default=1, help="server worker processes (default 1: one user)")
    run = sub.add_parser(
        "run",
        help="train a task on Ray Train, evaluate it, log to MLflow",
        description="Train TASK with a config (-c smoke|default|PATH.toml) plus --set "
        "overrides; data.uri empty = the task simulates (and caches) its data.",
    )
    run.add_argument("task", help="task name (see `physml tasks`)")
    run.add_argument("-c", "--config", default=None, help="shipped config name (smoke, default) or a .toml path")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the resolved config, the resources, the data and where the run would log; start nothing",
    )
    run.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=5 (repeatable)",
    )
    run.add_argument(
        "--resume",
        nargs="?",
        const="last",
        default=None,
        metavar="RUN_ID",
        help="continue a run from its last checkpoint (default: the task's latest run), with "
        "the run's own config unless -c is given; --set still applies (e.g. train.epochs)",
    )
    run.add_argument(
        "--address", type=_address, default=None, help="Ray cluster address (default: RAY_ADDRESS, else local)"
    )
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    ev = sub.add_parser(
        "evaluate",
        help="evaluate a saved model on a dataset; logs an evaluation run",
        description="Apply a trained model (runs:/RUN_ID/model or a model directory) to another dataset "
        "(e.g. other lattice sizes, real PROMISE12 cases), print the metrics, write the figures and "
        "log an evaluation run. Runs in this process.",
    )
    ev.add_argument("task", help="task name")
    ev.add_argument("--model", required=True, help="runs:/RUN_ID/model or a local model directory")
    ev.add_argument("--data", required=True, help="dataset URI (made by `physml simulate`) or files the task reads")
    ev.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help='override a key of the trained config for this data (not the model\'s), e.g. data.labels=""',
    )
    an = sub.add_parser(
        "analyse",
        help="analyse a dataset again (Ising: reweighting, Binder crossings, Tc); logs an MLflow run",
        description="Read a dataset made by `physml simulate KIND` (any filesystem), print its analysis "
        "(Ising: the per-L table, the Binder crossings on multiple-histogram reweighted curves and a line "
        "Tc = <value> +- <error> (<method>)) and log it with its figures as an MLflow run. Starts no Ray.",
    )
    an.add_argument("kind", metavar="KIND", help="the data source (e.g. ising, xy, jets)")
    an.add_argument("--data", required=True, help="dataset URI (made by `physml simulate KIND`)")
    an.add_argument("--brief", action="store_true", help="print a few summary lines, not the whole table")
    _add_sweep(sub)
    _add_generate(sub)
    sub.add_parser(
        "tasks",
        help="list the tasks",
        description="Every task: its name, what it reproduces, and the configs it ships (-c NAME).",
    )
    cf = sub.add_parser(
        "config",
        help="print a task's resolved config as TOML, each key with its type, default and meaning",
        description="Print the config that `physml run TASK` would use (a shipped config or a TOML file, "
        "plus --set overrides) as TOML; each key is followed by a comment with its type, its default "
        "when the value differs, and what it means. Nothing is started or written.",
    )
    cf.add_argument("task", help="task name (see `physml tasks`)")
    cf.add_argument("-c", "--config", default=None, help="shipped config name (smoke, default) or a .toml path")
    cf.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help="override a value (repeatable)"
    )
    demo = sub.add_parser(
        "demo",
        help="the main job: simulate L = 16, 32 near Tc with Wolff, Binder Tc",
        description="Simulate the 2D Ising model at L = 16 and 32 near Tc (Wolff), print the observables "
        "beside the exact values and Tc from the Binder crossing, then train phases-supervised on the "
        "same shards and print the learned Tc. Everything is logged to MLflow.",
    )
    demo.add_argument(
        "--out", default="physml-data/demo-ising", help="dataset location (default physml-data/demo-ising)"
    )
    upp = sub.add_parser(
        "up",
        help="start a local Ray head in the background that every physml command joins",
        description="Start one local Ray head for this user in the background (its own temp directory, "
        "dashboard on 127.0.0.1, token authentication, the CPUs of the machine); every physml command "
        "given no --address or RAY_ADDRESS then joins it instead of starting a private Ray (seconds "
        "saved per command). `physml down` stops it.",
    )
    upp.add_argument("--num-cpus", type=_at_least_one, default=None, help="CPUs the head offers (default: all)")
    comp = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or tcsh)",
        description="Print the completion script of `physml` for a shell, generated from this parser. "
        "Install it once, e.g. for bash: physml completion bash > ~/.local/share/bash-completion/completions/physml",
    )
    comp.add_argument("shell", choices=["bash", "zsh", "tcsh"], help="the shell")
    sub.add_parser(
        "down",
        help="stop the local Ray head of `physml up` (and no other Ray)",
        description="Stop the processes of the Ray head that `physml up` started, and only those.",
    )
    _add_examples(parser)
    return parser


EXAMPLES = {
    "run": "physml run phases-supervised -c smoke --set train.epochs=5",
    "evaluate": "physml evaluate prostate --model runs:/RUN_ID/model --data path/to/PROMISE12",
    "analyse": "physml analyse ising --data physml-data/demo-ising",
    "sweep": "physml sweep prostate -c sweeps/prostate_table3.toml --max-concurrent 2",
    "generate": "physml generate ising --model runs:/RUN_ID/model --L 64 --temperatures 1.5:3.5:11 --out data/gen",
    "ui": "physml ui --port 5001",
    "tasks": "physml tasks",
    "config": "physml config lensing -c strong --set train.epochs=20",
    "demo": "physml demo",
    "up": "physml up",
    "completion": "physml completion bash",
    "down": "physml down",
}


def _add_examples(parser: argparse.ArgumentParser, path: str = "") -> None:
    """An example command line as the epilog of every sub-command (``EXAMPLES``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                key = f"{path} {name}".strip()
                if key in EXAMPLES:
                    sub.epilog = f"example: {EXAMPLES[key]}"
                _add_examples(sub, key)


def cmd_source(a: argparse.Namespace, argv: list[str], verb: str) -> int:
    """`physml simulate|convert KIND`: the source's parameters from the command line, checked (values, a
    directory's layout, the output's size) before Ray starts; then chain actors or item tasks -> shards."""
    from physml.cli_options import params_from
    from physml.tasks import SOURCES, load
    from physml.tasks.sources import ItemSource

    cls = load(SOURCES[a.kind])
    source = cls(params_from(cls.params_type, a, verb))
    if isinstance(source, ItemSource):
        try:
            source.items()
        except ValueError as err:
            raise CliError(str(err)) from None
    _check_size(source, a.out, a.force)
    from physml.platform.simulate import simulate  # Ray and MLflow, once the input is known good

    res = simulate(
        SOURCES[a.kind],
        (source.p,),
        a.out,
        getattr(a, "actors", None),
        a.address,
        not a.no_progress,
        "physml " + shlex.join(argv),
        verb=verb,
    )
    print(res.analysis.get("brief", res.analysis["text"]) if a.brief else res.analysis["text"])
    print(f"\n{_work_done(res.stats)}; data: {a.out}")
    print(f"MLflow run {res.run_id} (experiment '{source.task}'); open it with: physml ui")
    return 0


def _work_done(s) -> str:
    """One line of what a simulation did (item tasks or chain actors)."""
    from physml.platform.data.items import CaseStats

    if isinstance(s, CaseStats):
        return f"{s.items} items ({s.made} made now, {s.rows} rows) in {s.seconds:.1f} s on {s.nodes} node(s)"
    if not s.spin_updates:
        return "the dataset was complete already: nothing simulated"
    lost = f"; {s.actor_failures} actor(s) lost, their chains restarted from saved states" if s.actor_failures else ""
    rate = s.spin_updates / max(s.seconds, 1e-9) / 1e9
    return (
        f"{s.spin_updates:.3g} spin updates in {s.seconds:.1f} s on {s.actors} actor(s) on {s.nodes} node(s) "
        f"({rate:.3f} per ns){lost}"
    )


def cmd_run(a: argparse.Namespace) -> int:
    from physml.platform.configs import resolve

    cfg = resolve(a.task, a.config, a.sets, a.resume)  # refused here, before torch, Ray or MLflow is imported
    from physml.tasks import TASKS, load

    task = load(TASKS[a.task])()
    if a.dry_run:
        from physml.platform.dryrun import describe_run

        print(describe_run(a.task, task, cfg, a.address))
        return 0
    from physml.platform.run import run_task

    res = run_task(a.task, cfg, task, a.address, a.resume, not a.no_progress)
    _print_metrics(res.metrics)
    print(f"MLflow run {res.run_id} (experiment '{a.task}'); model: runs:/{res.run_id}/model; data: {res.data_uri}")
    _ray_logs()
    return 0


def _ray_logs() -> None:
    """Where Ray's own log lines went (they stay off the terminal unless --verbose)."""
    from physml.platform import cluster

    where = cluster.logs_dir()
    if where and not cluster.verbose():
        print(f"Ray's own logs: {where}")


def _print_metrics(metrics: dict) -> None:
    for k in sorted(metrics):
        print(f"  {k:<28} {metrics[k]:.5g}")


def cmd_evaluate(a: argparse.Namespace) -> int:
    from physml.platform.locations import model_is_remote
    from physml.tasks import TASKS

    if a.task not in TASKS:
        raise CliError(f"unknown task {a.task!r}; choose one of {', '.join(TASKS)}")
    model_is_remote(a.model)  # a missing local model is refused before torch and MLflow are imported
    from physml.platform.run import evaluate_task

    run_id, metrics, figures = evaluate_task(a.task, a.model, a.data, a.set)
    _print_metrics(metrics)
    print(f"figures: {figures}")
    print(f"MLflow evaluation run {run_id} (experiment '{a.task}')")
    return 0


def cmd_analyse(a: argparse.Namespace, argv: list[str]) -> int:
    from physml.tasks import SOURCES

    if a.kind not in SOURCES:
        raise CliError(f"unknown data source {a.kind!r}; choose one of {', '.join(SOURCES)}")
    from physml.platform.simulate import analyse_dataset

    run_id, analysis = analyse_dataset(a.kind, a.data, "physml " + shlex.join(argv))
    print(analysis.get("brief", analysis["text"]) if a.brief else analysis["text"])
    print(f"MLflow run {run_id}; open it with: physml ui")
    return 0


def _sweep_settings(a: argparse.Namespace) -> dict:
    keys = ("samples", "max_concurrent", "scheduler", "metric", "mode")
    return {k: getattr(a, k) for k in keys}


def cmd_sweep(a: argparse.Namespace) -> int:
    from physml.platform.sweep.request import prepare

    if a.task and a.status is None and a.resume is None:  # refused here, before Ray, Tune or MLflow is imported
        req = prepare(a.task, a.config, a.sets, _sweep_settings(a))
    from physml.platform.sweep import driver as sweep
    from physml.platform.sweep.report import format_table, status_text

    if a.status is not None:
        print(status_text(sweep.find_sweep(a.task, a.status)))
        return 0
    if a.resume is not None:
        res = sweep.resume_sweep(sweep.find_sweep(a.task, a.resume), a.address, not a.no_progress)
    else:
        if not a.task:
            raise CliError("physml sweep: give a TASK (see `physml tasks`), or --status/--resume DIR")
        if a.dry_run:
            print(sweep.describe_sweep(req, a.address))
            return 0
        res = sweep.run_sweep(req, a.address, not a.no_progress, a.name)
    from physml.platform.sweep.report import load_status

    meta, _ = load_status(res.dir)
    print(format_table(res.rows, meta["settings"]["metric"]))
    if res.best is not None:
        print(
            f"best: trial {res.best['trial']} (MLflow run {res.best['run_id']}, model runs:/{res.best['run_id']}/model)"
        )
    print(f"MLflow parent run {res.parent_id} (experiment '{meta['task']}'); compare the trials with: physml ui")
    if not res.complete:
        print(f"sweep interrupted; continue it with: physml sweep --resume {res.dir}", file=sys.stderr)
        return 130
    return 0


def cmd_generate(a: argparse.Namespace, argv: list[str]) -> int:
    from physml.platform.generate import generate

    if a.seed < 0:
        raise CliError(f"--seed {a.seed}: must be >= 0")
    res = generate(
        a.kind,
        a.model,
        {"L": a.L, "temperatures": a.temperatures, "n": a.n},
        a.out,
        a.seed,
        not a.no_progress,
        "physml " + shlex.join(argv),
    )
    print(res.text)
    print(f"\n{res.shards} shard(s) written, {res.skipped} already complete; data: {res.uri}")
    print(f"MLflow run {res.run_id}")
    return 0


def cmd_head(a: argparse.Namespace) -> int:
    from physml.platform import head

    if a.command == "down":
        print("physml: stopped the local Ray head" if head.down() else "physml: no local Ray head is running")
        return 0
    info, started = head.up(a.num_cpus)
    state = "started" if started else "already running"
    print(
        f"physml: local Ray head {state} at {info['address']} (temp dir {info['temp_dir']}); commands join it; "
        "`physml down` stops it"
    )
    return 0


def cmd_config(a: argparse.Namespace) -> int:
    from physml.config import annotated_toml
    from physml.platform.configs import resolve

    print(annotated_toml(resolve(a.task, a.config, a.sets)), end="")
    return 0


def cmd_tasks() -> int:
    from physml.tasks import TASKS, describe, shipped_configs

    width = max(map(len, TASKS))
    for name in TASKS:
        print(f"{name:<{width}}  {describe(name)}  [configs: {', '.join(shipped_configs(name))}]")
    return 0


def cmd_ui(a: argparse.Namespace) -> int:
    import socket

    from physml.platform.tracking import tracking_uri

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", a.port))
        except OSError as err:
            raise CliError(
                f"--port {a.port}: cannot serve there ({err.strerror or err}); choose another port"
            ) from None
    uri = tracking_uri()
    print(f"MLflow UI for {uri} at http://127.0.0.1:{a.port}  (Ctrl-C to stop)")
    # MLflow's background job runner (GenAI scoring, trace archival) is of no use to physml's runs and
    # doubles the start-up time on a laptop; MLFLOW_SERVER_ENABLE_JOB_EXECUTION=true brings it back
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    return subprocess.call(
        [
            sys.executable,
            "-m",
            "mlflow",
            "ui",
            "--backend-store-uri",
            uri,
            "--host",
            "127.0.0.1",
            "--port",
            str(a.port),
            "--workers",
            str(a.workers),
        ],
        env=env,
    )


DEMO_TEMPERATURES = "1.5,1.7,1.9,2.0,2.1,2.15,2.2,2.225,2.25,2.27,2.29,2.31,2.35,2.4,2.5,2.6,2.8,3.0,3.2"


def cmd_demo(a: argparse.Namespace) -> int:
    """Simulate L = 16, 32 (Binder Tc), then learn Tc from the same shards (Carrasquilla & Melko)."""
    from physml.physics import TC

    sim = [
        "simulate",
        "ising",
        "--L",
        "16",
        "32",
        "--temperatures",
        DEMO_TEMPERATURES,
        "--replicas",
        "4",
        "--sweeps",
        "40000",
        "--thermalize",
        "1000",
        "--every",
        "10",
        "--algorithm",
        "wolff",
        "--seed",
        "0",
        "--brief",
        "--out",
        a.out,
    ]
    print("physml demo, step 1/2: physml " + shlex.join(sim), flush=True)
    if main(sim) != 0:
        return 1
    train = [
        "run",
        "phases-supervised",
        "--set",
        f"data.uri={json.dumps(str(a.out))}",
        "--set",
        "train.epochs=3",
        "--set",
        "model.channels=8",
        "--set",
        'train.early_stop_metric=""',
        "--set",
        "data.exclude=0.15",
    ]
    print("\nphysml demo, step 2/2: physml " + shlex.join(train), flush=True)
    code = main(train)
    if code == 0:
        print(
            f"\nexact Tc (Onsager) = {TC:.6f}; compare the Binder crossing (step 1) and the learned "
            f"test/tc (step 2). Open the runs with: .venv/bin/physml ui"
        )
    return code


def _chosen_source(argv: list[str]) -> str:
    """The KIND of `physml [--verbose] simulate|convert|detect KIND ...` ("" for other commands: no source is
    imported)."""
    words = [w for w in argv if w != "--verbose"]
    return words[1] if len(words) > 1 and words[0] in ("simulate", "convert", "detect") else ""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_chosen_source(argv)).parse_args(argv)
    if args.verbose:
        os.environ["PHYSML_VERBOSE"] = "1"
    env_address = os.environ.get("RAY_ADDRESS", "")
    if env_address and not ADDRESS.match(env_address):
        print(
            f"physml: error: RAY_ADDRESS = {env_address!r}: expected HOST:PORT, ray://HOST:PORT, auto or local",
            file=sys.stderr,
        )
        return EXIT_INPUT
    try:
        if args.command in ("simulate", "convert", "detect"):
            return cmd_source(args, argv, args.command)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "analyse":
            return cmd_analyse(args, argv)
        if args.command == "sweep":
            return cmd_sweep(args)
        if args.command == "tasks":
            return cmd_tasks()
        if args.command == "config":
            return cmd_config(args)
        if args.command in ("up", "down"):
            return cmd_head(args)
        if args.command == "completion":
            import shtab

            print(shtab.complete(build_parser(), shell=args.shell))
            return 0
        if args.command == "generate":
            return cmd_generate(args, argv)
        if args.command == "ui":
            return cmd_ui(args)
        return cmd_demo(args)
    except UserError as err:
        print(f"physml: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except RunFailure as err:
        print(f"physml: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # the output was piped into a command that stopped reading (head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("physml: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
