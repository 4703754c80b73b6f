"""Ray Data splits: the streamed (read_parquet) and in-memory paths give the same rows."""

import numpy as np
import pytest

from physml.config import from_dict
from physml.platform.data import streams as datasets
from physml.platform.simulate import ensure_dataset
from physml.tasks.phases.supervised import SupervisedPhases

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _rows(ds):
    rows = ds.take_all()
    x = np.stack([r["x"] for r in rows])
    keys = np.column_stack([np.array([r["T"] for r in rows]), x.reshape(len(rows), -1)])
    order = np.lexsort(keys.T[::-1])  # full lexicographic order: (T, then every spin)
    return x[order], np.array([rows[i]["y"] for i in order])


def test_streamed_and_in_memory_splits_agree(tmp_path, monkeypatch):
    task = SupervisedPhases()
    params = dict(
        L=[8],
        temperatures="1.5:3.0:4",
        replicas=4,
        sweeps=50,
        thermalize=10,
        every=5,
        algorithm="metropolis",
        seed=2,
        model="ising",
    )
    uri = ensure_dataset("ising", params, tmp_path, progress=False)
    cfg = from_dict(task.Config, {"data": {"uri": uri, "L": [8]}})
    spec = task.datasets(cfg, uri)["train"]
    x1, y1 = _rows(datasets.ray_dataset(spec))
    monkeypatch.setenv("PHYSML_MATERIALIZE_MB", "0")  # always stream
    x2, y2 = _rows(datasets.ray_dataset(spec, shuffle_seed=3))
    assert x1.shape == (4 * 3 * 10, 8, 8)  # 4 T x 3 training replicas (chain % 4 != 0) x 10 records
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)


def test_split_size_is_its_size_in_memory_not_on_disk(tmp_path, monkeypatch):
    """Zeros compress to almost nothing: the limit must see the 12 MB they take in memory."""
    import pyarrow as pa

    from physml.platform.data.shards import DatasetWriter
    from physml.tasks.base import DatasetSpec

    uri = str(tmp_path / "zeros")
    w = DatasetWriter(uri, "test", {}, 0, "test")
    t = pa.table({"x": np.zeros(500_000), "y": np.ones(500_000, np.float32)})
    w.commit([w.put_shard(f"s{k}.parquet", t, part=k) for k in range(2)], complete=True)
    assert sum(p.stat().st_size for p in (tmp_path / "zeros").glob("*.parquet")) < 100_000
    bitmaps = 500_000 // 8  # validity bitmaps: at most one bit per value per column
    both = datasets.split_memory(DatasetSpec(uri, ["x", "y"], lambda b: b))
    assert 12_000_000 <= both <= 12_000_000 + 4 * bitmaps
    one = datasets.split_memory(DatasetSpec(uri, ["x"], lambda b: b, where={"part": 1}))
    assert 4_000_000 <= one <= 4_000_000 + bitmaps
    monkeypatch.setenv("PHYSML_MATERIALIZE_MB", "1.5")
    assert datasets.materialize_limit() == int(1.5 * 2**20)
    monkeypatch.setenv("PHYSML_MATERIALIZE_MB", "lots")
    with pytest.raises(datasets.DatasetError, match="PHYSML_MATERIALIZE_MB = 'lots': expected a number of MiB"):
        datasets.materialize_limit()


def test_the_shuffle_buffer_is_bounded_in_bytes_not_only_rows(monkeypatch):
    """20,000 rows of 1.5 MB climate fields would be 30 GB: the buffer holds at most SHUFFLE_BYTES of
    rows (and at least 4 batches); small rows keep SHUFFLE_ROWS."""
    import numpy as np
    import pyarrow as pa

    from physml.platform.data.shards import DatasetWriter
    from physml.platform.data.streams import SHUFFLE_BYTES, SHUFFLE_ROWS, training_stream
    from physml.tasks.base import DatasetSpec

    for name, floats in (("big", 100_000), ("small", 10)):
        w = DatasetWriter(f"memory://shuffle/{name}", "t", {}, 0, "test")
        column = pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(3 * floats, np.float32)), floats)
        w.commit([w.put_shard("a.parquet", pa.table({"x": column}))], complete=True)
    big = DatasetSpec("memory://shuffle/big", ["x"], lambda b: b)
    rows, keep = training_stream(big, 8)  # 4 bytes x 100,000 floats per row, and Arrow's buffer padding
    assert 0.95 * SHUFFLE_BYTES / 400_000 <= rows <= SHUFFLE_BYTES / 400_000
    assert training_stream(big, 200)[0] == 800  # at least 4 batches
    assert training_stream(DatasetSpec("memory://shuffle/small", ["x"], lambda b: b), 8)[0] == SHUFFLE_ROWS
    # a split larger than KEEP_BYTES is not gathered by a single worker only to be dropped
    from physml.platform.data import streams

    assert keep  # 1.2 MB
    monkeypatch.setattr(streams, "KEEP_BYTES", 1_000_000)
    assert not streams.training_stream(big, 8)[1]
