"""Files in a field's own format read in place by a task's :class:`~physml.tasks.sources.FileReader`
(no conversion, no copy): the pieces a split selects, each piece's rows, and the checks a run makes
before Ray starts. The streaming Ray Data datasource over the pieces is in :mod:`.streams`."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from physml.errors import DatasetError
from physml.platform.data.shards import matches
from physml.tasks.base import DatasetSpec
from physml.tasks.sources import FileReader


def task_reader(task, cfg, uri: str) -> FileReader | None:
    """The task's reader of ``uri`` with its pieces listed (files opened, their structure checked), or
    None when ``uri`` is not files the task reads in place. A bad file is a DatasetError naming it."""
    reader = task.reader(cfg, uri) if uri else None
    if reader is not None:
        try:
            reader.pieces()
        except ValueError as err:
            raise DatasetError(f"data.uri {uri}: {err}") from None
    return reader


def split_where(piece: dict, where: dict) -> tuple[dict, dict]:
    """(what selects pieces: the keys a piece has; what selects rows: the other keys, as columns)."""
    return {k: v for k, v in where.items() if k in piece}, {k: v for k, v in where.items() if k not in piece}


def pieces_of(spec: DatasetSpec) -> list[dict]:
    """The reader's pieces that ``spec.where`` selects (keys a piece lacks select rows instead)."""
    chosen = [p for p in spec.reader.pieces() if matches(p, split_where(p, spec.where)[0])]
    if not chosen:
        raise DatasetError(f"{spec.uri}: no pieces with {spec.where}")
    return chosen


def _rows_where(table: pa.Table, where: dict) -> pa.Table:
    mask = None
    for k, v in where.items():
        values = list(v) if isinstance(v, (list, tuple, set, frozenset)) else [v]
        m = pc.is_in(table.column(k), value_set=pa.array(values))
        mask = m if mask is None else pc.and_(mask, m)
    return table if mask is None else table.filter(mask)


def read_piece(reader: FileReader, piece: dict, columns: list[str], where: dict) -> pa.Table:
    """One piece's rows that ``where`` selects (keys the piece lacks, as columns), ``columns`` only."""
    rows = split_where(piece, where)[1]
    table = reader.read(piece, list(dict.fromkeys([*columns, *rows])))
    missing = [c for c in [*columns, *rows] if c not in table.column_names]
    if missing:
        raise DatasetError(f"{piece['path']}: the reader gave no column(s) {', '.join(missing)}")
    return _rows_where(table, rows).select(columns)


def reader_tables(spec: DatasetSpec) -> Iterator[pa.Table]:
    """The split's rows, one piece at a time (memory of one piece, whatever the files' size)."""
    for piece in pieces_of(spec):
        try:
            yield read_piece(spec.reader, piece, spec.columns, spec.where)
        except ValueError as err:
            raise DatasetError(str(err)) from None


def reader_size(spec: DatasetSpec) -> tuple[float, int]:
    """(bytes per row of the split's columns as Arrow tables, from its first piece; the rows, or upper
    bounds, its pieces give)."""
    chosen = pieces_of(spec)
    first = read_piece(spec.reader, chosen[0], spec.columns, spec.where)
    return first.nbytes / max(first.num_rows, 1), sum(p["rows"] for p in chosen)
