"""Ray tasks that turn independent items (e.g. MRI cases) into Parquet shards, one shard per item.

A generator of this shape has ``items()`` (dicts with the shard ``path`` and what ``make`` needs)
and ``make(item) -> pyarrow.Table`` (or the bytes of a file in the field's own format, e.g. NetCDF).
Items run as Ray tasks, one CPU each, spread over the cluster;
the driver is the single writer (shard, then manifest, both atomic), so a killed run resumes by
skipping the items whose shards the manifest lists. Ray retries a task whose node died.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import ray
from tqdm.auto import tqdm

from physml.platform.data.shards import DatasetError, DatasetWriter
from physml.tasks import load as _load


@ray.remote(num_cpus=1, max_retries=3)
def _make(source_path: str, source_args: tuple, item: dict):
    """(rows of ``item``, id of the node that made them)."""
    table = _load(source_path)(*source_args).make(item)
    return table, ray.get_runtime_context().get_node_id()


@dataclass
class CaseStats:
    seconds: float
    items: int  # items of the dataset
    made: int  # made in this run (the others were complete already)
    rows: int  # rows written in this run
    nodes: int = 1  # distinct Ray nodes that made items


def run_items(source_path: str, source_args: tuple, writer: DatasetWriter, progress: bool = True) -> CaseStats:
    """Make every item whose shard is not in ``writer``'s manifest yet; mark the dataset complete."""
    source = _load(source_path)(*source_args)
    items = source.items()
    done = {s["path"] for s in writer.shards}
    todo = {_make.remote(source_path, source_args, it): it for it in items if it["path"] not in done}
    t0, rows, nodes = time.perf_counter(), 0, set()
    bar = tqdm(
        total=len(items),
        initial=len(items) - len(todo),
        unit="shard",
        disable=not progress,
        desc=f"{source.kind} x{int(ray.available_resources().get('CPU', 1))} CPUs",
    )
    made = len(todo)
    try:
        while todo:
            ready, _ = ray.wait(list(todo), num_returns=1)
            item = todo.pop(ready[0])
            try:
                table, node = ray.get(ready[0])
            except ray.exceptions.RayTaskError as err:
                raise DatasetError(f"{item.get('case', item['path'])}: {_cause(err)}") from None
            entry = writer.entry(item, table, source)
            writer.commit([entry])
            rows, nodes = rows + entry["rows"], nodes | {node}
            bar.update(1)
    finally:
        for ref in todo:
            ray.cancel(ref)
        bar.close()
    writer.commit([], complete=True)
    return CaseStats(time.perf_counter() - t0, len(items), made, rows, max(1, len(nodes)))


def _cause(err: ray.exceptions.RayTaskError) -> str:
    """The original exception's one-line message inside Ray's wrapper."""
    cause = getattr(err, "cause", None)
    if cause is not None:
        return str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return str(err).strip().splitlines()[-1]
