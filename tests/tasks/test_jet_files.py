"""Jet files read in place (no Ray): the top-tagging HDF5 table in pandas' two layouts and Delphes-like
ROOT trees, checked against the numbers the test wrote (independent numpy), on local and memory://
filesystems; the bad inputs the issue names; and the rows of files read in place equal to the rows
`physml convert jets` writes (its shards made in this process)."""

from __future__ import annotations

import warnings

import fsspec
import numpy as np
import pyarrow as pa
import pytest

from physml.platform.data.local import local_batches, write_in_process
from physml.platform.data.shards import DatasetWriter, read_table
from physml.tasks.base import DatasetSpec
from physml.tasks.jets.files import JetFiles, looks_like_files
from physml.tasks.jets.reader import PIECE, JetFileReader
from physml.tasks.jets.source import JetParams, JetsSource
from tests.tasks.jet_files import write_delphes, write_toptagging

CHEAP = ["id", "label", "process", "pt", "eta", "mass", "n_constituents", "image", "c_pt", "c_eta", "c_phi", "c_e"]


def reader(src: str, **files) -> JetFileReader:
    return JetFileReader(src, JetParams(src=src, pt_min=300, pt_max=900, files=JetFiles(**files)))


def rows(r: JetFileReader, columns=CHEAP) -> pa.Table:
    return pa.concat_tables([r.read(p, columns) for p in r.pieces()]).select(columns)


def test_toptagging_rows_are_the_written_four_vectors(tmp_path):
    df = write_toptagging(tmp_path / "train.h5", 40, size=30)
    t = rows(reader(str(tmp_path / "train.h5")))
    e = df[[f"E_{i}" for i in range(30)]].to_numpy(np.float64)
    px, py, pz = (df[[f"{c}_{i}" for i in range(30)]].to_numpy(np.float64) for c in ("PX", "PY", "PZ"))
    real = e > 0
    assert t.column("n_constituents").to_pylist() == real.sum(1).tolist()
    assert t.column("label").to_pylist() == df["is_signal_new"].tolist()
    assert t.column("id").to_pylist()[3] == "train-00000003"
    jet_pt = np.hypot(px.sum(1), py.sum(1))  # padding is zero: sums over all columns
    m2 = e.sum(1) ** 2 - px.sum(1) ** 2 - py.sum(1) ** 2 - pz.sum(1) ** 2
    np.testing.assert_allclose(t.column("pt").to_numpy(), jet_pt, rtol=1e-6)
    np.testing.assert_allclose(t.column("mass").to_numpy(), np.sqrt(np.maximum(m2, 0)), rtol=1e-4, atol=1e-3)
    for j in (0, 7):  # constituents hardest first, as written (the file is pT-ordered)
        pt = np.hypot(px[j], py[j])[real[j]]
        np.testing.assert_allclose(t.column("c_pt")[j].values.to_numpy(), pt, rtol=1e-5)
        np.testing.assert_allclose(t.column("c_e")[j].values.to_numpy(), e[j][real[j]], rtol=1e-5)
    images = np.stack(t.column("image").to_numpy(zero_copy_only=False))
    np.testing.assert_allclose(images.sum(1), 1.0, rtol=1e-5)  # unit sum: every constituent lies inside


def test_both_pandas_layouts_give_the_same_rows(tmp_path):
    write_toptagging(tmp_path / "a.h5", 30, seed=3, layout="fixed")
    write_toptagging(tmp_path / "b.h5", 30, seed=3, layout="table")
    a, b = rows(reader(str(tmp_path / "a.h5"))), rows(reader(str(tmp_path / "b.h5")))
    assert a.drop(["id"]).equals(b.drop(["id"]))


def test_row_ranges_pieces_and_taus_on_request(tmp_path):
    n = PIECE + 250
    write_toptagging(tmp_path / "big.h5", n, size=8)
    r = reader(str(tmp_path / "big.h5"))
    pieces = r.pieces()
    assert [(p["start"], p["stop"], p["chunk"]) for p in pieces] == [(0, PIECE, 0), (PIECE, n, 1)]
    t = rows(r, ["id", "label"])
    assert t.num_rows == n and len(set(t.column("id").to_pylist())) == n
    cheap = r.read(pieces[1], ["id", "pt"])
    assert np.isnan(cheap.column("tau32").to_numpy()).all()  # not asked: FastJet never ran
    first = r.read({**pieces[1], "stop": PIECE + 3}, ["tau32"]).column("tau32").to_numpy()
    assert np.isfinite(first).all() and ((first > 0) & (first <= 1.5)).all()


def test_more_constituents_than_kept_are_cut_by_pt_and_said_once(tmp_path):
    df = write_toptagging(tmp_path / "t.h5", 12, size=30)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        t = rows(reader(str(tmp_path / "t.h5"), constituents=5))
    said = [w for w in caught if "the 5 hardest" in str(w.message)]
    assert len(said) == 1 and "t.h5" in str(said[0].message)
    assert max(t.column("n_constituents").to_pylist()) == 5
    pt = np.hypot(df[[f"PX_{i}" for i in range(30)]].to_numpy(), df[[f"PY_{i}" for i in range(30)]].to_numpy())
    np.testing.assert_allclose(t.column("c_pt")[2].values.to_numpy(), np.sort(pt[2])[::-1][:5], rtol=1e-5)


def test_memory_filesystem_reads_the_same_rows(tmp_path):
    write_toptagging(tmp_path / "m.h5", 20)
    fs = fsspec.filesystem("memory")
    fs.pipe("/jets-test/m.h5", (tmp_path / "m.h5").read_bytes())
    assert rows(reader("memory://jets-test/m.h5")).equals(rows(reader(str(tmp_path / "m.h5"))))


@pytest.mark.parametrize(
    "damage, words",
    [
        ("drop PZ_3", ["PZ_3", "missing column"]),
        ("drop is_signal_new", ["is_signal_new"]),
        ("nan", ["row 7", "E_2", "non-finite"]),
        ("truncate", ["bad.h5", "unreadable HDF5"]),
        ("key", ["no pandas key 'table'", "jets"]),
    ],
)
def test_bad_toptagging_files_are_named(tmp_path, damage, words):
    df = write_toptagging(tmp_path / "ok.h5", 10)
    path = tmp_path / "bad.h5"
    if damage.startswith("drop"):
        df.drop(columns=[damage.split()[1]]).to_hdf(path, key="table")
    elif damage == "nan":
        df.loc[7, "E_2"] = np.nan
        df.to_hdf(path, key="table")
    elif damage == "truncate":
        data = (tmp_path / "ok.h5").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        df.to_hdf(path, key="jets")
    with pytest.raises(ValueError) as err:
        r = reader(str(path))
        r.read(r.pieces()[0])
    msg = str(err.value)
    assert all(w in msg for w in words) and "\n" not in msg, msg


def test_mixed_formats_and_a_wrong_format_are_refused(tmp_path):
    write_toptagging(tmp_path / "a.h5", 4)
    write_delphes(tmp_path / "ttbar.root", 4, top=True)
    with pytest.raises(ValueError, match=r"mixed formats.*ttbar\.root \(delphes\).*a\.h5 \(toptagging\)"):
        reader(str(tmp_path)).pieces()
    with pytest.raises(ValueError, match="format = 'delphes'"):
        reader(str(tmp_path / "a.h5"), format="delphes").pieces()
    assert looks_like_files(str(tmp_path)) and looks_like_files(str(tmp_path / "*.h5"))
    assert not looks_like_files(str(tmp_path / "nothing-here"))


def _within(truth: dict, radius: float = 0.8) -> np.ndarray:
    """The toy event's particles (pt, eta, phi) within ``radius`` of its jet, by plain numpy."""
    _, jeta, jphi = truth["jet"]
    p = truth["particles"]
    dphi = (p[:, 2] - jphi + np.pi) % (2 * np.pi) - np.pi
    return p[np.hypot(p[:, 1] - jeta, dphi) < radius]


@pytest.mark.parametrize("tower", [False, True])
def test_delphes_jets_take_their_particles_within_r(tmp_path, tower):
    truth = write_delphes(tmp_path / "ttbar_1.root", 12, top=True, seed=4, tower=tower)
    particles = ("Tower",) if tower else ("EFlowTrack", "EFlowPhoton", "EFlowNeutralHadron")
    t = rows(reader(str(tmp_path / "ttbar_1.root"), particles=particles))
    assert t.num_rows == 12  # one jet per event: the soft second jet is outside the pT window
    assert set(t.column("label").to_pylist()) == {1} and set(t.column("process").to_pylist()) == {"top"}
    for j, ev in enumerate(truth):
        inside = _within(ev)
        assert t.column("n_constituents")[j].as_py() == len(inside)
        np.testing.assert_allclose(np.sort(t.column("c_pt")[j].values.to_numpy()), np.sort(inside[:, 0]), rtol=1e-5)


def test_delphes_labels_by_file_name_and_missing_branches(tmp_path):
    write_delphes(tmp_path / "qcd.root", 5, top=False)
    t = rows(reader(str(tmp_path / "qcd.root")))
    assert set(t.column("label").to_pylist()) == {0}
    with pytest.raises(ValueError, match=r"no branch EFlowMuon\.PT or EFlowMuon\.ET"):
        reader(str(tmp_path / "qcd.root"), particles=("EFlowMuon",)).pieces()
    with pytest.raises(ValueError, match="no tree 'Events'.*Delphes"):
        reader(str(tmp_path / "qcd.root"), tree="Events").pieces()


def _spec(uri: str, r=None, where=None) -> DatasetSpec:
    return DatasetSpec(uri, CHEAP, lambda b: b, where=where or {}, reader=r)


@pytest.mark.parametrize("kind", ["toptagging", "delphes"])
def test_converted_shards_hold_the_rows_read_in_place(tmp_path, kind):
    src = tmp_path / "in"
    src.mkdir()
    if kind == "toptagging":
        write_toptagging(src / "train.h5", PIECE + 40, size=10)
    else:
        write_delphes(src / "ttbar.root", 30, top=True)
        write_delphes(src / "qcd.root", 30, top=False, seed=1)
    p = JetParams(src=str(src), pt_min=300, pt_max=900)
    source = JetsSource(p)
    out = str(tmp_path / "converted")
    write_in_process(source, DatasetWriter(out, "jets", source.manifest_params(), 0, "test"))
    direct = pa.concat_tables([pa.table(b) for b in local_batches(_spec(str(src), source.reader), as_numpy=True)])
    shards = pa.concat_tables([pa.table(b) for b in local_batches(_spec(out), as_numpy=True)])
    assert direct.num_rows == shards.num_rows > 0
    assert sorted(direct.to_pylist(), key=lambda r: r["id"]) == sorted(shards.to_pylist(), key=lambda r: r["id"])
    assert read_table(out, columns=["id"]).num_rows == direct.num_rows


def test_where_selects_pieces_by_field_and_rows_by_column(tmp_path):
    write_toptagging(tmp_path / "w.h5", PIECE + 10, size=6)
    r = reader(str(tmp_path / "w.h5"))
    qcd = [b for b in local_batches(_spec(str(tmp_path), r, {"process": "qcd", "chunk": [1]}), as_numpy=True)]
    labels = np.concatenate([b["label"] for b in qcd])
    assert len(labels) == 5 and (labels == 0).all()  # rows 1000-1009 of chunk 1, the QCD half
