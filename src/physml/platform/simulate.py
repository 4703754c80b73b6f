"""`physml simulate`: run a sampler's chains on Ray, write the dataset, analyse it, log to MLflow."""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from physml import __version__
from physml.tasks import load

from . import cluster, tracking
from .data import DatasetWriter, read_manifest, read_table
from .ensemble import EnsembleStats, run_ensemble


@dataclass
class SimulationResult:
    run_id: str
    analysis: dict
    stats: EnsembleStats
    cluster: dict


def simulate(sampler_path: str, sampler_args: tuple, out: str, actors: int | None = None,
             address: str | None = None, progress: bool = True, command: str = "") -> SimulationResult:
    """Everything after validation: output, Ray, chains, analysis, MLflow run. Resumes ``out``."""
    sampler = load(sampler_path)(*sampler_args)
    params = sampler.manifest_params()
    writer = DatasetWriter(out, sampler.kind, params, params["seed"], f"physml {__version__}: {command}")
    t0 = time.perf_counter()
    tags = {"data.uri": str(out), "command": command}
    with tracking.run(sampler.task, f"simulate-{sampler.kind}", {**params, "out": str(out)}, tags) as active:
        info = cluster.connect(address)
        tracking.mlflow.set_tag("ray.address", info["address"])
        stats = run_ensemble(sampler_path, sampler_args, writer, actors, progress)
        analysis = sampler.analyse(read_table(out, columns=sampler.summary_columns))
        tracking.log_metrics({**analysis["metrics"], "sim/seconds": time.perf_counter() - t0,
                              "sim/spin_updates": stats.spin_updates, "sim/actors": stats.actors,
                              "sim/flips_per_ns": stats.spin_updates / max(stats.seconds, 1e-9) / 1e9})
        for name, values in analysis["series"].items():
            for step, v in enumerate(values):
                tracking.log_metrics({name: v}, step=step)
        with tempfile.TemporaryDirectory() as tmp:
            for p in sampler.report(analysis, tmp):
                tracking.log_artifacts([p], p.parent.name)
        tracking.log_dict(read_manifest(out), "dataset/manifest.json")
        return SimulationResult(active.info.run_id, analysis, stats, info)


def ensure_dataset(sampler_name: str, params: dict, cache_root: str | Path, actors: int | None = None,
                   progress: bool = True) -> str:
    """URI of the dataset a task asked to simulate: reused when complete, else made (resumably)."""
    import hashlib
    import json

    from physml.tasks import SAMPLERS

    key = hashlib.sha256(json.dumps([sampler_name, params], sort_keys=True).encode()).hexdigest()[:16]
    uri = str(Path(cache_root).resolve() / f"{sampler_name}-{key}")
    sampler = load(SAMPLERS[sampler_name]).from_dict(params)
    mp = sampler.manifest_params()
    writer = DatasetWriter(uri, sampler.kind, mp, mp["seed"], f"physml {__version__}: cache of {params}")
    if not writer.manifest.get("complete"):
        run_ensemble(SAMPLERS[sampler_name], (sampler.p,), writer, actors, progress)
    return uri
