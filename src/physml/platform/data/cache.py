"""Where a task's simulated dataset is cached: named by its source and a hash of its manifest parameters."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from physml.platform.data import storage
from physml.tasks import SOURCES, load, source_path


def cache_uri(sampler_name: str, params, cache_root: str | Path) -> str:
    """Where the dataset of ``sampler_name`` (a ``SOURCES`` key or an import path) with ``params`` (its
    parameter dataclass or plain values) is cached under ``cache_root``: a directory named by the source
    and a hash of it, its manifest parameters (so both forms of the same parameters share it) and its
    ``revision`` when bumped (so a changed generator does not reuse an old cache)."""
    source = load(source_path(sampler_name))
    manifest = source.of(params).manifest_params()
    what = [sampler_name, manifest] + ([source.revision] if source.revision else [])
    key = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]
    prefix = sampler_name if sampler_name in SOURCES else load(source_path(sampler_name)).kind
    root = str(cache_root) if storage.is_remote(str(cache_root)) else str(Path(cache_root).resolve())
    return storage.join(root, f"{prefix}-{key}")
