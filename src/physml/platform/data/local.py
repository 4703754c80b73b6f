"""Datasets made and read in this process, without Ray: evaluation in the driver, the contract tests,
and a source run on a laptop without a cluster."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from physml.errors import DatasetError
from physml.platform.data.readers import reader_tables, task_reader
from physml.platform.data.shards import DatasetWriter, iter_tables, read_manifest
from physml.tasks.base import DatasetSpec
from physml.tasks.sources import ChainSampler, DataSource, ItemSource


def shard_name(sampler: ChainSampler, unit, k: int) -> str:
    """``<group>/u<unit>-s<step>.parquet``, the group from ``sampler.shard_group`` (e.g. ``L32``)."""
    group = "".join(f"{key}{value}" for key, value in sampler.shard_group(unit).items())
    name = f"u{unit.index:05d}-s{k:05d}.parquet"
    return f"{group}/{name}" if group else name


def write_in_process(source: DataSource, writer: DatasetWriter) -> int:
    """Every shard of ``source`` made here, one after the other (no resume, no Ray); rows written.
    The same shard names and manifest entries as the platform's Ray runners write."""
    rows = 0
    if isinstance(source, ItemSource):
        for item in source.items():
            entry = writer.entry(item, source.make(item), source)
            writer.commit([entry])
            rows += entry["rows"]
    elif isinstance(source, ChainSampler):
        for unit in source.units():
            state = source.init_state(unit)
            for k, (burn, nrec) in enumerate(source.plan(unit)):
                state, table = source.step(unit, state, burn, nrec)
                if table is not None:
                    group = source.shard_group(unit)
                    writer.commit(
                        [writer.put_shard(shard_name(source, unit, k), table, unit=unit.index, step=k, **group)]
                    )
                    rows += table.num_rows
    else:
        raise TypeError(f"{type(source).__name__} is neither an ItemSource nor a ChainSampler")
    writer.commit([], complete=True)
    return rows


def local_batches(spec: DatasetSpec, batch_size: int = 512, as_numpy: bool = False) -> Iterator[dict]:
    """The split's preprocessed batches as torch tensors (or numpy), read in this process (no Ray),
    one shard (or piece of files read in place) at a time (memory of one, whatever the dataset's size)."""
    tables = reader_tables(spec) if spec.reader else iter_tables(spec.uri, columns=spec.columns, where=spec.where)
    for table in tables:
        for rb in table.to_batches(max_chunksize=batch_size):
            cols = {name: rb.column(i).to_numpy(zero_copy_only=False) for i, name in enumerate(rb.schema.names)}
            out = spec.preprocess(cols)
            if len(next(iter(out.values()))) == 0:
                continue
            yield (
                {k: np.asarray(v) for k, v in out.items()}
                if as_numpy
                else {k: torch.as_tensor(np.asarray(v)) for k, v in out.items()}
            )


def check_kind(uri: str, kind: tuple, task: str) -> None:
    """Refuse a dataset of another kind/model (e.g. XY shards for an Ising task); ``kind[1]`` may be
    a tuple of the models the task accepts (e.g. simulated or converted jets)."""
    m = read_manifest(uri)
    have = (m.get("kind"), m.get("params", {}).get("model"))
    models = kind[1] if isinstance(kind[1], (tuple, list)) else (kind[1],)
    if have[0] != kind[0] or have[1] not in models:
        raise DatasetError(
            f"data.uri {uri} holds kind={have[0]!r}, model={have[1]!r}; task {task} needs "
            f"kind={kind[0]!r}, model={' or '.join(repr(x) for x in models)}"
        )


def check_data(task, cfg, uri: str, task_name: str):
    """A dataset of the task's kind at ``uri``, or files the task reads in place (its reader, returned,
    with every file opened and checked); anything else is refused before Ray starts."""
    reader = task_reader(task, cfg, uri)
    if reader is None:
        check_kind(uri, task.data_kind(cfg), task_name)
    return reader


def data_params(uri: str, reader) -> dict:
    """What defines the data at ``uri``: its manifest's params, or the reader's."""
    return reader.manifest_params() if reader is not None else read_manifest(uri).get("params", {})
