"""PHYSML_HOME as a local directory or an object-store URI: parsing, joins, JSON and figure copies
(fsspec memory:// and file://, no Ray)."""

import os
import time

import fsspec
import pytest

from physml.config import ConfigError
from physml.platform.data import storage


@pytest.mark.parametrize(
    "raw,expect",
    [
        ("s3://bucket/physml/", "s3://bucket/physml"),
        ("gs://b/p", "gs://b/p"),
    ],
)
def test_home_keeps_remote_uris(monkeypatch, raw, expect):
    monkeypatch.setenv("PHYSML_HOME", raw)
    assert storage.home() == expect
    assert storage.join(storage.home(), "runs", "t") == expect + "/runs/t"


def test_home_resolves_local_paths(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PHYSML_HOME", raising=False)
    assert storage.home() == str(tmp_path / "physml-data")
    monkeypatch.setenv("PHYSML_HOME", f"file://{tmp_path}/h")
    assert storage.home() == str(tmp_path / "h") and not storage.is_remote(storage.home())
    assert storage.join(storage.home(), "cache") == os.path.join(tmp_path, "h", "cache")


def test_home_refuses_a_scheme_ray_workers_cannot_share(monkeypatch):
    monkeypatch.setenv("PHYSML_HOME", "memory://x")
    with pytest.raises(ConfigError, match=r"PHYSML_HOME = memory://x: scheme memory:// .* s3://, gs://"):
        storage.home()


@pytest.mark.parametrize("root", ["memory://storage-test", "file"])
def test_json_glob_and_figure_copies(root, tmp_path):
    root = str(tmp_path / "root") if root == "file" else root
    for name in ("old", "new"):
        storage.write_json(storage.join(root, "sweeps", name, "meta.json"), {"name": name})
        time.sleep(0.02 if root.startswith("memory") else 1.1)  # distinct modification times
    found = storage.glob(storage.join(root, "sweeps", "*", "meta.json"))
    assert [storage.read_json(f)["name"] for f in found] == ["old", "new"]
    assert storage.parent(found[-1]) == storage.join(root, "sweeps", "new")
    assert storage.exists(found[0]) and not storage.exists(storage.join(root, "nothing"))
    figs = tmp_path / "figs"
    (figs / "sub").mkdir(parents=True)
    (figs / "a.png").write_bytes(b"png")
    (figs / "sub" / "b.csv").write_text("x")
    storage.put_dir(figs, storage.join(root, "evaluations", "r1"))
    fs, path = fsspec.core.url_to_fs(storage.join(root, "evaluations", "r1"))
    assert fs.cat(f"{path}/a.png") == b"png" and fs.cat(f"{path}/sub/b.csv") == b"x"


def test_tune_writes_local_files_whole_or_not_at_all(tmp_path):
    """A file Tune copies into a local sweep directory exists only once complete (a driver killed mid-copy
    leaves the previous version); copy_files, the call Tune syncs with, goes through it."""
    import pyarrow.fs as pafs

    fs = storage.tune_filesystem(str(tmp_path))
    target = tmp_path / "state.pkl"
    target.write_bytes(b"old")
    out = fs.open_output_stream(str(target))
    out.write(b"new contents")
    assert target.read_bytes() == b"old"
    out.close()
    assert target.read_bytes() == b"new contents"
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.json").write_text("{}")
    pafs.copy_files(str(src), str(tmp_path / "dst"), destination_filesystem=fs)
    assert (tmp_path / "dst" / "sub" / "a.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.rglob("*tmp-*")) == []
    assert storage.tune_filesystem("s3://bucket/sweeps") is None
