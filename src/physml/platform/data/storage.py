"""PHYSML_HOME: the data cache, Ray Train checkpoints, sweep state and evaluation figures.

A local directory (default ``./physml-data``) or a URI of an object store that every node reaches
(``s3://bucket/prefix``, ``gs://...``, ``hdfs://...``). Ray Train and Tune write their checkpoints
there through pyarrow's filesystems; physml's own files (sweep status, figures) go through fsspec.
Credentials and endpoints come from the environment (``AWS_*``, ``GOOGLE_APPLICATION_CREDENTIALS``).
"""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from physml.config import ConfigError
from physml.platform.data.shards import open_uri, write_atomic

#: object stores that both pyarrow (Ray's checkpoints) and fsspec (physml's files) open by URI
REMOTE = ("s3", "gs", "gcs", "hdfs", "abfs", "abfss")


def is_remote(where: str) -> bool:
    """True for a URI with a scheme other than file://."""
    return "://" in str(where) and not str(where).startswith("file://")


def home() -> str:
    """$PHYSML_HOME (or ./physml-data) as an absolute local path or a remote URI without a trailing /."""
    raw = os.environ.get("PHYSML_HOME", "") or "physml-data"
    if not is_remote(raw):
        return str(Path(raw.removeprefix("file://")).expanduser().resolve())
    scheme = raw.split("://", 1)[0]
    if scheme not in REMOTE:
        raise ConfigError(
            f"PHYSML_HOME = {raw}: scheme {scheme}:// is not shared by Ray's workers; use a local "
            f"directory or one of {', '.join(s + '://' for s in REMOTE)}"
        )
    return raw.rstrip("/")


def join(root: str, *parts: str) -> str:
    """``root/part/...`` for a local path or a URI."""
    return "/".join([str(root).rstrip("/"), *parts]) if is_remote(root) else str(Path(root, *parts))


def exists(where: str) -> bool:
    fs, path = open_uri(where)
    return fs.exists(path)


def makedirs(where: str) -> None:
    """Create a local directory; object stores have no directories to create."""
    if not is_remote(where):
        Path(where).mkdir(parents=True, exist_ok=True)


def read_json(where: str):
    fs, path = open_uri(where)
    with fs.open(path, "rb") as f:
        return json.loads(f.read())


def write_json(where: str, obj) -> None:
    """Atomic JSON write (a reader never sees half a file)."""
    fs, path = open_uri(where)
    write_atomic(fs, path, json.dumps(obj, indent=1, default=str).encode())


def glob(pattern: str) -> list[str]:
    """Files (paths or URIs) matching ``pattern``, oldest first by modification time."""
    fs, path = open_uri(pattern)
    found = fs.glob(path)
    found.sort(key=lambda p: fs.modified(p).timestamp())
    if not is_remote(pattern):
        return found
    uri_head, path_head = pattern.split("*", 1)[0], path.split("*", 1)[0]  # the URI as the user spells it
    return [uri_head + p[len(path_head) :] for p in found]


def parent(where: str) -> str:
    """The directory (path or URI) holding ``where``."""
    return str(where).rstrip("/").rsplit("/", 1)[0]


def put_dir(local: str | Path, where: str) -> None:
    """Copy a local directory's files to ``where`` (a local directory or a URI)."""
    fs, path = open_uri(where)
    fs.makedirs(path, exist_ok=True)
    for f in sorted(Path(local).rglob("*")):
        if f.is_file():
            dest = f"{path}/{f.relative_to(local).as_posix()}"
            fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(f), dest)


def remove(where: str) -> None:
    """Delete a file or a directory tree (path or URI); nothing if it is not there."""
    fs, path = open_uri(where)
    if fs.exists(path):
        fs.rm(path, recursive=True)


class _Replacing(io.FileIO):
    """A file written under a temporary name beside ``path`` and renamed onto it when closed."""

    def __init__(self, path: str):
        self.final = path
        super().__init__(f"{path}.tmp-{os.getpid()}-{threading.get_ident()}", "wb")

    def close(self) -> None:
        if not self.closed:
            super().close()
            os.replace(self.name, self.final)


class _WholeFiles(pafs.FSSpecHandler):
    """A local pyarrow filesystem handler whose new files appear whole or not at all."""

    def open_output_stream(self, path: str, metadata):
        return pa.PythonFile(_Replacing(path), mode="w")


def tune_filesystem(where: str) -> pafs.FileSystem | None:
    """The filesystem Ray Tune writes ``where`` through. Tune copies its state (trials, searcher) into
    it file by file; a driver killed during a plain local copy leaves a truncated file that makes
    ``--resume`` fail (Tune then silently restarts the experiment). Locally, each file is therefore
    written under a temporary name and renamed; object stores (None: Tune's own choice) put whole
    objects already."""
    if is_remote(where):
        return None
    import fsspec

    return pafs.PyFileSystem(_WholeFiles(fsspec.filesystem("file")))
