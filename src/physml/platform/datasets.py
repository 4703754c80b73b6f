"""Task datasets on Ray Data (training) and as local batches (evaluation in the driver)."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow.parquet as pq
import ray
import torch

from physml.tasks.base import DatasetSpec

from .data import DatasetError, open_uri, read_manifest, read_table, verified_bytes


def shard_paths(spec: DatasetSpec, verify: bool = True) -> list[str]:
    """Filesystem paths of the shards a split reads; hashes checked once here when ``verify``."""
    fs, root = open_uri(spec.uri)
    entries = [s for s in read_manifest(spec.uri)["shards"]
               if all(s.get(k) == v for k, v in spec.where.items())]
    if not entries:
        raise DatasetError(f"{spec.uri}: no shards with {spec.where}")
    if verify:
        for e in entries:
            verified_bytes(fs, root, e)
    return [f"{root}/{e['path']}" for e in entries]


MATERIALIZE_BYTES = 512 * 2**20  #: splits smaller than this are read once and kept in the object store


def quiet_ray_data() -> None:
    """No Ray Data progress bars or execution banners (they flood a terminal and CI logs)."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_operator_progress_bars = False


def ray_dataset(spec: DatasetSpec, shuffle: bool = False) -> "ray.data.Dataset":
    """Ray dataset of a split: read_parquet on its shards, then the task's preprocess (block order
    randomized each epoch when ``shuffle``).

    Small splits are materialized once (epochs then re-read from the object store, not Parquet);
    larger ones stream, so datasets larger than memory work.
    """
    quiet_ray_data()
    fs, root = open_uri(spec.uri)
    local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
    paths = shard_paths(spec)
    ds = ray.data.read_parquet(paths, filesystem=None if local else fs).select_columns(spec.columns)
    ds = ds.map_batches(spec.preprocess, batch_format="numpy")
    size = sum(fs.size(p) for p in paths)
    ds = ds.materialize() if size < MATERIALIZE_BYTES else ds
    return ds.randomize_block_order() if shuffle else ds


def local_batches(spec: DatasetSpec, batch_size: int = 512) -> Iterator[dict]:
    """The split's batches as torch tensors, read in this process (no Ray)."""
    table = read_table(spec.uri, columns=spec.columns, where=spec.where)
    for rb in table.to_batches(max_chunksize=batch_size):
        cols = {name: rb.column(i).to_numpy(zero_copy_only=False) for i, name in enumerate(rb.schema.names)}
        out = spec.preprocess(cols)
        if len(next(iter(out.values()))) == 0:
            continue
        yield {k: torch.as_tensor(np.asarray(v)) for k, v in out.items()}


def check_kind(uri: str, kind: tuple[str, str], task: str) -> None:
    """Refuse a dataset of another kind/model (e.g. XY shards for an Ising task)."""
    m = read_manifest(uri)
    have = (m.get("kind"), m.get("params", {}).get("model"))
    if have != tuple(kind):
        raise DatasetError(f"data.uri {uri} holds kind={have[0]!r}, model={have[1]!r}; task {task} needs "
                           f"kind={kind[0]!r}, model={kind[1]!r}")
