"""Task datasets on Ray Data (training); local batches (evaluation in the driver) are in :mod:`.local_data`."""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray

from physml.platform.data.local import local_batches
from physml.platform.data.readers import pieces_of, read_piece, reader_size
from physml.platform.data.shards import (
    DatasetError,
    matches,
    open_uri,
    read_manifest,
    verified_bytes,
)
from physml.tasks.base import DatasetSpec


def shard_paths(spec: DatasetSpec, verify: bool = True) -> list[str]:
    """Filesystem paths of the shards a split reads; hashes checked once here when ``verify``."""
    fs, root = open_uri(spec.uri)
    entries = [s for s in read_manifest(spec.uri)["shards"] if matches(s, spec.where)]
    if not entries:
        raise DatasetError(f"{spec.uri}: no shards with {spec.where}")
    if verify:
        for e in entries:
            verified_bytes(fs, root, e)
    return [f"{root}/{e['path']}" for e in entries]


MATERIALIZE_BYTES = 512 * 2**20  #: splits smaller than this in memory are read once and kept in the object store


def materialize_limit() -> int:
    """``MATERIALIZE_BYTES``, or ``PHYSML_MATERIALIZE_MB`` MiB when set (0: always stream)."""
    mb = os.environ.get("PHYSML_MATERIALIZE_MB", "")
    try:
        return int(float(mb) * 2**20) if mb else MATERIALIZE_BYTES
    except ValueError:
        raise DatasetError(f"PHYSML_MATERIALIZE_MB = {mb!r}: expected a number of MiB (0 = always stream)") from None


def split_size(spec: DatasetSpec) -> tuple[float, int]:
    """(bytes per row of the split's columns as Arrow tables, from its first shard read whole; the
    rows the manifest lists). Files read in place: the first piece's bytes per row, the pieces' rows."""
    if spec.reader:
        return reader_size(spec)
    fs, root = open_uri(spec.uri)
    entries = [e for e in read_manifest(spec.uri)["shards"] if matches(e, spec.where)]
    if not entries:
        return 0.0, 0
    with fs.open(f"{root}/{entries[0]['path']}", "rb") as f:
        first = pq.read_table(f, columns=spec.columns)
    return first.nbytes / max(first.num_rows, 1), sum(e["rows"] for e in entries)


def split_memory(spec: DatasetSpec) -> int:
    """The split's size in memory as Arrow tables of its columns (on disk, compressed and encoded, it
    can be 100x less)."""
    per_row, rows = split_size(spec)
    return int(per_row * rows)


SHUFFLE_ROWS = 20000  #: rows of the training split's local shuffle buffer (Ray Data) ...
SHUFFLE_BYTES = 128 * 2**20  #: ... but at most this many bytes of them


KEEP_BYTES = 256 * 2**20  #: a split up to this size is kept in a Train worker after its first pass


def training_stream(spec: DatasetSpec, batch_size: int) -> tuple[int, bool]:
    """(rows of the training split's local shuffle buffer: ``SHUFFLE_ROWS``, fewer where rows are large
    (a 192 x 288 x 7 climate field is 1.5 MB: 20,000 of them would be 30 GB), at least 4 batches;
    whether the split is small enough, ``KEEP_BYTES``, for a single Train worker to keep after its
    first pass, see ``RayTrainSession.batches``), from one read of its first shard or piece."""
    per_row, rows = split_size(spec)
    buffer = max(4 * batch_size, min(SHUFFLE_ROWS, int(SHUFFLE_BYTES / max(per_row, 1.0))))
    return buffer, per_row * rows <= KEEP_BYTES


def quiet_ray_data() -> None:
    """No Ray Data progress bars or execution banners (they flood a terminal and CI logs), and the
    V1 Parquet reader: the V2 one (``ListFiles -> ReadFiles``) reads many shards per task, and its
    workers' memory grew with the dataset (2-3 GB at 400,000 jet images against 0.5 GB with V1)."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_operator_progress_bars = False
    ctx.use_datasource_v2 = False


def ray_dataset(spec: DatasetSpec, shuffle_seed: int | None = None) -> ray.data.Dataset:
    """Ray dataset of a split, after the task's preprocess; with a ``shuffle_seed``, its order is
    randomized reproducibly (and differently each epoch when streamed).

    A split larger in memory than ``materialize_limit()`` (512 MiB) streams: ``read_parquet`` on its
    shards in a shuffled file order (not ``randomize_block_order``, which would hold every block at
    once), so datasets larger than memory work with memory that does not grow with them. A smaller
    one is read here once (its bytes are read anyway to verify the hashes), preprocessed, and handed
    to Ray Data as Arrow blocks: this skips two Ray Data executions (about 10 s each on a 2-core
    machine) before the first training step.
    """
    from ray.data import FileShuffleConfig

    quiet_ray_data()
    fs, _ = open_uri(spec.uri)
    if split_memory(spec) < materialize_limit():
        ds = ray.data.from_arrow(_arrow_blocks(spec))  # read_table verifies the hashes
        return ds.randomize_block_order(seed=shuffle_seed) if shuffle_seed is not None else ds
    if spec.reader:
        return _pieces_dataset(spec, shuffle_seed).map_batches(spec.preprocess, batch_format="numpy")
    paths = shard_paths(spec, verify=True)
    local = "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
    shuffle = FileShuffleConfig(seed=shuffle_seed) if shuffle_seed is not None else None
    # one read task per shard: Ray Data's own estimate from the footers (encoded sizes) can be 100x
    # small for sparse images and would read hundreds of shards into one multi-GB block
    ds = ray.data.read_parquet(
        paths, filesystem=None if local else fs, shuffle=shuffle, columns=spec.columns, override_num_blocks=len(paths)
    )
    return ds.map_batches(spec.preprocess, batch_format="numpy")


class PiecesDatasource(ray.data.Datasource):
    """Files read in place by a task's reader: one read task per piece (a file or a range of its
    rows), in a seeded shuffled order; rows a ``where`` key selects are filtered in the task."""

    def __init__(self, spec: DatasetSpec, shuffle_seed: int | None = None):
        self.spec, self.pieces = spec, pieces_of(spec)
        if shuffle_seed is not None:
            order = np.random.default_rng(shuffle_seed).permutation(len(self.pieces))
            self.pieces = [self.pieces[i] for i in order]

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None) -> list:
        from ray.data import ReadTask
        from ray.data.block import BlockMetadata

        reader, columns, where = self.spec.reader, self.spec.columns, self.spec.where
        tasks = []
        for piece in self.pieces:
            where_from = (piece.get("file", piece["path"]),)
            meta = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=where_from)
            tasks.append(ReadTask(lambda p=piece: [read_piece(reader, p, columns, where)], meta))
        return tasks


def _pieces_dataset(spec: DatasetSpec, shuffle_seed: int | None) -> ray.data.Dataset:
    """A Ray dataset streaming the pieces of files read in place (one block per piece)."""
    source = PiecesDatasource(spec, shuffle_seed)
    return ray.data.read_datasource(source, override_num_blocks=len(source.pieces))


def _arrow_blocks(spec: DatasetSpec, rows: int = 4096) -> list:
    """The preprocessed split as Arrow tables of about ``rows`` rows (tensor columns for arrays)."""
    from ray.data.extensions import ArrowTensorArray

    blocks = []
    for batch in local_batches(spec, rows, as_numpy=True):
        blocks.append(pa.table({k: ArrowTensorArray.from_numpy(v) if v.ndim > 1 else v for k, v in batch.items()}))
    if not blocks:
        raise DatasetError(f"{spec.uri}: the split selects no rows ({spec.where})")
    return blocks
