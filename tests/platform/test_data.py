"""Sharded Parquet datasets on memory:// and file://: atomic writes, manifest, verification."""

import json
import uuid

import numpy as np
import pyarrow as pa
import pytest

from physml.platform.data.shards import DatasetError, DatasetWriter, read_manifest, read_table


def _table(n, offset=0):
    return pa.table({"x": np.arange(offset, offset + n), "y": np.linspace(0, 1, n)})


@pytest.fixture(params=["memory", "file"])
def uri(request, tmp_path):
    if request.param == "memory":
        return f"memory://physml-test/{uuid.uuid4().hex}"
    return (tmp_path / "ds").as_uri()


def test_roundtrip_manifest_and_hashes(uri):
    w = DatasetWriter(uri, "toy", {"a": 1}, 0, "test")
    entries = [w.put_shard(f"p/s{i}.parquet", _table(10, 10 * i), step=i) for i in range(3)]
    w.commit(entries[:2])
    assert len(read_manifest(uri)["shards"]) == 2  # only committed shards are visible
    w.commit(entries[2:], complete=True)
    m = read_manifest(uri)
    assert m["complete"] and m["kind"] == "toy" and m["seed"] == 0
    assert set(m) >= {"schema_version", "kind", "created_by", "params", "seed", "shards"}
    t = read_table(uri)
    assert sorted(t.column("x").to_pylist()) == list(range(30))
    assert [s["step"] for s in m["shards"]] == [0, 1, 2]


def test_corrupted_and_truncated_shards_are_named(uri):
    w = DatasetWriter(uri, "toy", {}, 0, "test")
    w.commit([w.put_shard("a.parquet", _table(100)), w.put_shard("b.parquet", _table(100))])
    data = w.fs.cat_file(f"{w.root}/b.parquet")
    w.fs.pipe_file(f"{w.root}/b.parquet", data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"shard b\.parquet: sha256 mismatch"):
        read_table(uri)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    w.fs.pipe_file(f"{w.root}/b.parquet", bytes(flipped))
    with pytest.raises(DatasetError, match=r"shard b\.parquet"):
        read_table(uri)
    w.fs.rm(f"{w.root}/b.parquet")
    with pytest.raises(DatasetError, match=r"b\.parquet: listed in the manifest but missing"):
        read_table(uri)


def test_other_parameters_are_refused_same_are_reopened(uri):
    w = DatasetWriter(uri, "toy", {"sweeps": 100}, 0, "test")
    w.commit([w.put_shard("a.parquet", _table(5))])
    again = DatasetWriter(uri, "toy", {"sweeps": 100}, 0, "test")
    assert len(again.shards) == 1
    with pytest.raises(DatasetError, match=r"sweeps = 100 there, 200 here"):
        DatasetWriter(uri, "toy", {"sweeps": 200}, 0, "test")
    with pytest.raises(DatasetError, match="seed"):
        DatasetWriter(uri, "toy", {"sweeps": 100}, 1, "test")


def test_state_roundtrip_and_adopt(uri):
    w = DatasetWriter(uri, "toy", {}, 0, "test")
    w.put_state("u0", {"spins": np.ones((2, 3), np.int8), "step": np.array([4])})
    s = w.get_state("u0")
    assert s["spins"].shape == (2, 3) and s["step"][0] == 4
    assert w.get_state("u1") is None
    e = w.put_shard("c.parquet", _table(7))  # written but not committed: a crash here ...
    adopted = w.adopt_shard("c.parquet")  # ... is repaired on resume
    assert adopted["sha256"] == e["sha256"] and adopted["rows"] == 7
    assert w.adopt_shard("missing.parquet") is None


def test_not_a_dataset_and_nonempty_directory(tmp_path):
    with pytest.raises(DatasetError, match="no manifest.json"):
        read_manifest(str(tmp_path))
    (tmp_path / "stuff.txt").write_text("x")
    with pytest.raises(DatasetError, match="not empty"):
        DatasetWriter(str(tmp_path), "toy", {}, 0, "test")


def test_unwritable_location_fails_cleanly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatasetError, match="cannot"):
        DatasetWriter(str(blocker / "ds"), "toy", {}, 0, "test")


def test_no_temporary_files_remain(tmp_path):
    w = DatasetWriter(str(tmp_path / "d"), "toy", {}, 0, "test")
    w.commit([w.put_shard("a.parquet", _table(3))])
    names = [p.name for p in (tmp_path / "d").rglob("*")]
    assert not [n for n in names if n.startswith(".tmp-")]
    assert json.loads((tmp_path / "d" / "manifest.json").read_text())["shards"][0]["rows"] == 3


def test_a_bumped_revision_keys_a_new_cache(monkeypatch):
    """A generator whose rows changed for the same parameters (its ``revision`` bumped) does not reuse
    the old cache; the same parameters, as dataclass or as plain values, share one; revision 0 leaves
    the key as it was before revisions existed."""
    import hashlib

    from physml.platform.data.cache import cache_uri
    from physml.tasks.example.source import OscillatorParams, OscillatorSource

    name = "physml.tasks.example.source:OscillatorSource"
    p = OscillatorParams(n=10)
    before = cache_uri(name, p, "/tmp/cache")
    assert before == cache_uri(name, {"n": 10}, "/tmp/cache")
    manifest = OscillatorSource(p).manifest_params()
    old_key = hashlib.sha256(json.dumps([name, manifest], sort_keys=True).encode()).hexdigest()[:16]
    assert before.endswith(f"oscillator-{old_key}")
    monkeypatch.setattr(OscillatorSource, "revision", 1)
    assert cache_uri(name, p, "/tmp/cache") != before
