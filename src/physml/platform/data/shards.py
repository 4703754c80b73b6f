"""Sharded Parquet datasets on any fsspec URI (the docs' Concepts page, "Datasets").

A dataset is a directory of Parquet shards plus ``manifest.json``. Shards and the manifest are
written to a temporary name and renamed when complete; the manifest lists only complete shards with
their row count and sha256, and readers verify both. Resumable generators keep their chain states
under ``_state/``, also written atomically. This module is the single writer: Ray actors compute and
hand rows to the driver, so ``memory://`` works as well as ``file://``, S3 or GCS.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from physml.errors import DatasetError

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"


def open_uri(uri: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """(filesystem, path) for a plain path or any fsspec URI (file://, memory://, s3://, gs://)."""
    try:
        fs, path = fsspec.core.url_to_fs(str(uri))
    except (ImportError, ValueError) as err:
        raise DatasetError(f"cannot open {uri!r}: {err}") from None
    fs.invalidate_cache()  # object stores cache listings per process: another process may have written
    return fs, path.rstrip("/") or "/"


def _join(root: str, rel: str) -> str:
    return f"{root}/{rel}"


#: object stores whose PUT replaces an object whole (a reader sees the old or the new one, never half)
WHOLE_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"}


def write_atomic(fs, path: str, data: bytes) -> None:
    """Write ``data`` to a temporary sibling, then rename it to ``path``; on an object store, one PUT
    (a rename there is a copy and a delete: 6 requests instead of 1)."""
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    if protocols & WHOLE_PUT:
        fs.pipe_file(path, data)
        return
    parent = path.rsplit("/", 1)[0]
    tmp = f"{parent}/.tmp-{uuid.uuid4().hex}-{path.rsplit('/', 1)[-1]}"
    fs.makedirs(parent, exist_ok=True)
    fs.pipe_file(tmp, data)
    fs.mv(tmp, path)


def table_bytes(table: pa.Table) -> bytes:
    """Parquet (zstd) bytes of ``table``."""
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(uri: str) -> dict:
    """The manifest of the dataset at ``uri``; DatasetError if there is none or it is unreadable."""
    fs, root = open_uri(uri)
    path = _join(root, MANIFEST)
    if not fs.exists(path):
        raise DatasetError(f"{uri}: no {MANIFEST}; not a physml dataset (make one with `physml simulate`)")
    try:
        return json.loads(fs.cat_file(path))
    except (ValueError, UnicodeDecodeError) as err:
        raise DatasetError(f"{uri}/{MANIFEST}: unreadable ({err})") from None


class DatasetWriter:
    """Creates or reopens a dataset; refuses one that was made with other parameters."""

    def __init__(self, uri: str, kind: str, params: dict, seed: int, created_by: str):
        self.uri = str(uri)
        self.fs, self.root = open_uri(self.uri)
        fresh = {
            "schema_version": SCHEMA_VERSION,
            "kind": kind,
            "created_by": created_by,
            "params": params,
            "seed": seed,
            "shards": [],
            "complete": False,
        }
        try:
            exists = self.fs.exists(_join(self.root, MANIFEST))
        except OSError as err:
            raise DatasetError(f"cannot use --out {self.uri}: {err}") from None
        if exists:
            old = read_manifest(self.uri)
            _check_same(self.uri, old, fresh)
            self.manifest = old
        else:
            if self.fs.exists(self.root) and self.fs.ls(self.root, detail=False):
                raise DatasetError(
                    f"--out {self.uri} exists, is not empty and has no {MANIFEST}; choose an empty or new location"
                )
            self.manifest = fresh
            try:
                self._save_manifest()
            except OSError as err:
                raise DatasetError(f"cannot write to --out {self.uri}: {err.strerror or err}") from None

    @property
    def shards(self) -> list[dict]:
        return self.manifest["shards"]

    def _save_manifest(self) -> None:
        write_atomic(self.fs, _join(self.root, MANIFEST), json.dumps(self.manifest, indent=1).encode())

    def put_shard(self, rel: str, table: pa.Table | bytes, rows: int | None = None, **meta) -> dict:
        """Write one complete shard atomically: a table (as Parquet) or the bytes of a file in a field's
        own format (e.g. NetCDF) holding ``rows`` rows; returns its manifest entry (not yet committed)."""
        data = table if isinstance(table, bytes) else table_bytes(table)
        write_atomic(self.fs, _join(self.root, rel), data)
        rows = table.num_rows if isinstance(table, pa.Table) else int(rows or 0)
        return {"path": rel, "rows": rows, "sha256": sha256(data), **meta}

    def entry(self, item: dict, made, source) -> dict:
        """The manifest entry of one made item: written by ``source`` into its own store (a
        :class:`~physml.tasks.sources.StoreWriter` whose ``put`` takes it), else as a shard file."""
        meta = item_meta(item)
        from physml.tasks.sources import StoreWriter

        rows = source.put(self.uri, item, made) if isinstance(source, StoreWriter) else None
        if rows is None:
            return self.put_shard(item["path"], made, **meta)
        return {"path": item["path"], "rows": int(rows), "sha256": "", **{k: v for k, v in meta.items() if k != "rows"}}

    def adopt_shard(self, rel: str, **meta) -> dict | None:
        """Entry for a complete shard found on disk but missing from the manifest (crash before commit)."""
        path = _join(self.root, rel)
        if not self.fs.exists(path):
            return None
        data = self.fs.cat_file(path)
        rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        return {"path": rel, "rows": rows, "sha256": sha256(data), **meta}

    def commit(self, entries: Iterable[dict], complete: bool = False) -> None:
        """Add shard entries (replacing same paths) and rewrite the manifest atomically."""
        new = {e["path"]: e for e in entries}
        self.manifest["shards"] = [s for s in self.shards if s["path"] not in new] + list(new.values())
        self.manifest["complete"] = complete
        self._save_manifest()

    def put_state(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        write_atomic(self.fs, _join(self.root, f"_state/{name}.npz"), buf.getvalue())

    def saved_states(self) -> set[str]:
        """Names of the saved unit states (one listing, not one request per unit)."""
        try:
            found = self.fs.ls(_join(self.root, "_state"), detail=False)
        except FileNotFoundError:
            return set()
        return {f.rsplit("/", 1)[-1].removesuffix(".npz") for f in found if f.endswith(".npz")}

    def get_state(self, name: str) -> dict[str, np.ndarray] | None:
        path = _join(self.root, f"_state/{name}.npz")
        if not self.fs.exists(path):
            return None
        with np.load(io.BytesIO(self.fs.cat_file(path))) as z:
            return {k: z[k] for k in z.files}


def item_meta(item: dict) -> dict:
    """The item's scalar fields for its manifest entry (``rows``: of a file made as bytes)."""
    return {k: v for k, v in item.items() if k != "path" and isinstance(v, (str, int, float))}


def _check_same(uri: str, old: dict, new: dict) -> None:
    for key in ("kind", "seed"):
        if old.get(key) != new[key]:
            raise DatasetError(
                f"--out {uri} holds a dataset with {key} = {old.get(key)!r}, this command asks "
                f"{new[key]!r}; use another --out, or the same command to resume"
            )
    a, b = old.get("params", {}), json.loads(json.dumps(new["params"]))  # tuples are stored as lists
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            raise DatasetError(
                f"--out {uri} was made by a different command ({key} = {a.get(key)!r} there, "
                f"{b.get(key)!r} here); use another --out, or the same command to resume"
            )


def verified_bytes(fs, root: str, entry: dict) -> bytes:
    """The bytes of one shard, checked against its manifest entry."""
    rel = entry["path"]
    path = _join(root, rel)
    if not fs.exists(path):
        raise DatasetError(f"shard {rel}: listed in the manifest but missing")
    data = fs.cat_file(path)
    if sha256(data) != entry["sha256"]:
        raise DatasetError(f"shard {rel}: sha256 mismatch (corrupted or truncated file; re-create it)")
    return data


def matches(entry: dict, where: dict | None) -> bool:
    """Whether a manifest entry has every field of ``where`` (a list value = any of its items)."""
    return all(
        entry.get(k) in v if isinstance(v, (list, tuple, set, frozenset)) else entry.get(k) == v
        for k, v in (where or {}).items()
    )


def iter_tables(
    uri: str, columns: list[str] | None = None, verify: bool = True, where: dict | None = None
) -> Iterator[pa.Table]:
    """The shards (optionally only those whose manifest entry matches ``where``) one table at a time,
    so a dataset larger than memory can be read through."""
    fs, root = open_uri(uri)
    manifest = read_manifest(uri)
    found = False
    for entry in manifest["shards"]:
        if not matches(entry, where):
            continue
        data = verified_bytes(fs, root, entry) if verify else fs.cat_file(_join(root, entry["path"]))
        try:
            t = pq.read_table(io.BytesIO(data), columns=columns)
        except (pa.ArrowException, OSError) as err:
            raise DatasetError(f"shard {entry['path']}: unreadable Parquet ({err})") from None
        if t.num_rows != entry["rows"]:
            raise DatasetError(f"shard {entry['path']}: {t.num_rows} rows, manifest says {entry['rows']}")
        found = True
        yield t
    if not found:
        raise DatasetError(f"{uri}: no shards{' matching ' + str(where) if where else ''}")


def read_table(uri: str, columns: list[str] | None = None, verify: bool = True, where: dict | None = None) -> pa.Table:
    """All shards (optionally only those whose manifest entry matches ``where``) as one table."""
    parts = list(iter_tables(uri, columns, verify, where))
    try:
        return pa.concat_tables(parts)
    except pa.ArrowInvalid:
        raise DatasetError(
            f"{uri}: shards have different schemas (e.g. several L); read one part with "
            f"where={{'L': ...}} or leave out the 'spins' column"
        ) from None
