"""`physml run --dry-run`: what a run would do, told without importing Ray or MLflow or writing anything."""

from __future__ import annotations

import os

from physml.config import annotated_toml
from physml.errors import DatasetError
from physml.platform.data import storage
from physml.platform.data.cache import cache_uri
from physml.platform.data.shards import read_manifest
from physml.platform.locations import tracking_uri
from physml.tasks.sources import ItemSource


def describe_run(task_name: str, task, cfg, address: str | None) -> str:
    """What `physml run` would do, for ``--dry-run``: the resolved config (annotated), the resources,
    where the data comes from and where the run logs. Starts nothing and writes nothing."""
    t = cfg.train
    lines = [annotated_toml(cfg), f"# physml run {task_name}: dry run, nothing started"]
    runner = "in this process (train.runner = local)" if t.runner == "local" else "Ray Train"
    gpu = f", {t.workers} GPU(s)" if t.gpu else ""
    lines.append(f"# training: {t.workers} worker(s) x {t.cpus_per_worker:g} CPU{gpu}, {runner}, {t.epochs} epoch(s)")
    lines.append(f"# data: {_data_line(task, cfg)}")
    addr = address or os.environ.get("RAY_ADDRESS")
    lines.append(f"# ray: {'the cluster at ' + addr if addr else 'a private local instance'}")
    home = storage.home()
    lines.append(
        f"# mlflow: {tracking_uri()}, experiment '{task_name}'; checkpoints under "
        f"{storage.join(home, 'runs', task_name)}"
    )
    return "\n".join(lines)


def _data_line(task, cfg) -> str:
    """Where the run's data comes from, and its size when it exists."""
    reader = task.reader(cfg, cfg.data.uri) if cfg.data.uri else None
    if reader is not None:
        try:
            return f"data.uri = {cfg.data.uri} ({reader.describe()})"
        except ValueError as err:
            raise DatasetError(f"data.uri {cfg.data.uri}: {err}") from None
    if cfg.data.uri:
        m = read_manifest(cfg.data.uri)
        rows = sum(s["rows"] for s in m["shards"])
        return f"data.uri = {cfg.data.uri} (kind {m.get('kind')!r}, {rows} rows in {len(m['shards'])} shards)"
    sim = task.simulation(cfg)
    uri = cache_uri(sim.sampler, sim.params, storage.join(storage.home(), "cache"))
    source = sim.source()
    try:
        done = read_manifest(uri).get("complete", False)
    except DatasetError:
        done = False
    if isinstance(source, ItemSource):
        size = f"{len(source.items())} shard(s) of independent items"
    else:
        size = f"{len(source.units())} unit(s) of Markov chains"
    state = "cached, complete" if done else "to be simulated first"
    return f"simulated by {sim.sampler} ({size}) into {uri} ({state})"
