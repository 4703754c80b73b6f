"""`physml simulate` / `physml convert`: run a generator on Ray, write the dataset, analyse it, log to
MLflow. A generator is a Markov-chain sampler (``units``/``plan``/``step``: chain actors, see
:mod:`.ensemble`) or a source of independent items (``items``/``make``: Ray tasks, see :mod:`.cases`)."""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from physml import __version__
from physml.platform import cluster, tracking
from physml.platform.data.cache import cache_uri
from physml.platform.data.ensemble import EnsembleStats, run_ensemble
from physml.platform.data.items import CaseStats, run_items
from physml.platform.data.shards import DatasetWriter, read_manifest, read_table
from physml.tasks import load, source_path
from physml.tasks.sources import ItemSource, human_bytes


@dataclass
class SimulationResult:
    run_id: str
    analysis: dict
    stats: EnsembleStats | CaseStats
    cluster: dict


def produce(
    sampler_path: str, sampler_args: tuple, writer: DatasetWriter, actors: int | None, progress: bool
) -> tuple[EnsembleStats | CaseStats, dict]:
    """Run the generator into ``writer`` (chain actors or item tasks); (stats, metrics to log)."""
    if issubclass(load(sampler_path), ItemSource):
        s = run_items(sampler_path, sampler_args, writer, progress)
        return s, {"sim/items_made": s.made, "sim/rows_written": s.rows, "sim/nodes": s.nodes}
    s = run_ensemble(sampler_path, sampler_args, writer, actors, progress)
    return s, {
        "sim/spin_updates": s.spin_updates,
        "sim/actors": s.actors,
        "sim/flips_per_ns": s.spin_updates / max(s.seconds, 1e-9) / 1e9,
    }


def simulate(
    sampler_path: str,
    sampler_args: tuple,
    out: str,
    actors: int | None = None,
    address: str | None = None,
    progress: bool = True,
    command: str = "",
    verb: str = "simulate",
) -> SimulationResult:
    """Everything after validation: output, Ray, generator, analysis, MLflow run. Resumes ``out``."""
    sampler = load(sampler_path)(*sampler_args)
    params = sampler.manifest_params()
    where = sampler.dataset_uri(str(out))  # the dataset's own directory (out itself, unless out is one file)
    writer = DatasetWriter(where, sampler.kind, params, params.get("seed", 0), f"physml {__version__}: {command}")
    est = sampler.estimate()
    if est is not None:
        print(f"physml: will write about {human_bytes(est.bytes)} ({est.work:.3g} {est.unit})", file=sys.stderr)
    t0 = time.perf_counter()
    info = cluster.connect(address)  # before the MLflow run: an unreachable cluster leaves no FAILED run
    tags = {"data.uri": str(out), "command": command, "ray.address": info["address"]}
    with tracking.run(sampler.task, f"{verb}-{sampler.kind}", {**params, "out": str(out)}, tags) as active:
        tracking.announce(active, sampler.task)
        stats, metrics = produce(sampler_path, sampler_args, writer, actors, progress)
        sampler.finish(str(out), where)
        analysis = log_analysis(sampler, where, {**metrics, "sim/seconds": time.perf_counter() - t0})
        return SimulationResult(active.info.run_id, analysis, stats, info)


def log_analysis(sampler, uri: str, metrics: dict | None = None) -> dict:
    """The source's analysis of the dataset at ``uri``, logged to the active MLflow run (metrics,
    series, the report's figures and tables, the manifest); returns the analysis."""
    table = sampler.summary_table(uri)
    analysis = sampler.analyse(table if table is not None else read_table(uri, columns=sampler.summary_columns))
    tracking.log_metrics({**analysis["metrics"], **(metrics or {})})
    tracking.log_series(analysis["series"])
    with tempfile.TemporaryDirectory() as tmp:
        for p in sampler.report(analysis, tmp):
            tracking.log_artifacts([p], p.parent.name)
    tracking.log_dict(read_manifest(uri), "dataset/manifest.json")
    return analysis


def analyse_dataset(kind: str, uri: str, command: str = "") -> tuple[str, dict]:
    """`physml analyse KIND --data URI`: the source of ``kind`` rebuilt from the dataset's manifest,
    its analysis printed by the caller and logged as an MLflow run; (run id, analysis). No Ray."""
    from physml.errors import DatasetError

    m = read_manifest(uri)
    cls = load(source_path(kind))
    if m.get("kind") != cls.kind:
        raise DatasetError(f"--data {uri} holds kind {m.get('kind')!r}; `physml analyse {kind}` reads {cls.kind!r}")
    try:
        sampler = cls.from_dict(m.get("params", {}))
    except (TypeError, ValueError) as err:
        raise DatasetError(f"--data {uri}: its manifest's params do not make a {kind} source ({err})") from None
    tags = {"data.uri": str(uri), "command": command, "physml.kind": "analyse"}
    with tracking.run(sampler.task, f"analyse-{sampler.kind}", {**m.get("params", {}), "data": str(uri)}, tags) as r:
        tracking.announce(r, sampler.task)
        return r.info.run_id, log_analysis(sampler, uri)


def ensure_dataset(
    sampler_name: str, params, cache_root: str | Path, actors: int | None = None, progress: bool = True
) -> str:
    """URI of the dataset a task asked to simulate (``sampler_name``: a ``SOURCES`` key or an import
    path), cached under ``cache_root`` by its parameters: reused when complete, else made (resumably)."""
    path = source_path(sampler_name)
    sampler = load(path).of(params)
    uri = cache_uri(sampler_name, params, cache_root)
    mp = sampler.manifest_params()
    writer = DatasetWriter(uri, sampler.kind, mp, mp.get("seed", 0), f"physml {__version__}: cache of {sampler_name}")
    if not writer.manifest.get("complete"):
        produce(path, (sampler.p,), writer, actors, progress)
    return uri
