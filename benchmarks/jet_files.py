"""Jet files read in place: the readers against h5py / uproot, against training's consumption, peak
memory of an epoch streamed from 1x and 10x the files, and `physml run` against a plain PyTorch loop
for the Particle Flow Network.

1. Reading, one process: a top-tagging-layout HDF5 file of ``--jets`` jets (200 constituent columns,
   50-100 real) read by h5py alone (the same row ranges, the 800 four-vector columns and the label)
   against physml's reader (rows of the jets schema: image + constituents; then with N-subjettiness,
   what evaluation reads); Delphes-like ROOT files read by uproot alone (the same branches) against
   physml's reader.
2. The same top-tagging file streamed by Ray Data (the readers' datasource, one read task per piece,
   all cores, the PFN's preprocess) against the PFN's training consumption (forward + backward, batch
   256, one thread): the reader must not be the bottleneck.
3. `physml run jets -c pfn` on the file (1 worker) against ``benchmarks.common.plain_loop``.
4. Memory: one epoch of `physml run jets` (PFN) streamed (PHYSML_MATERIALIZE_MB=0) from a directory
   holding the file once (1x) and ten times (10x, hard links); the peak summed PSS of its process tree.
Run: `.venv/bin/python -m benchmarks.jet_files [--jets N] [--skip-memory]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import plain_loop, run_rate, stream_and_train
from benchmarks.jets_scale import peak_memory
from physml.config import from_dict
from physml.tasks.jets.reader import JetFileReader
from physml.tasks.jets.source import JetParams
from physml.tasks.jets.task import JetTagging
from tests.tasks.jet_files import write_delphes, write_toptagging

EPOCHS, BATCH = 3, 256
PFN = ["--set", 'model.kind="pfn"', "--set", "model.constituents=64", "--set", f"train.batch_size={BATCH}"]


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8.0f} jets/s"


def hdf5_rates(path: str, n: int) -> float:
    """Prints h5py alone against the reader; returns the reader's jets/s without N-subjettiness."""
    import h5py

    t0 = time.perf_counter()
    with h5py.File(path, "r") as f:
        g = f["table"]
        for start in range(0, n, 1000):
            for i in range(int(g.attrs["nblocks"])):
                g[f"block{i}_values"][start : start + 1000]
    raw = time.perf_counter() - t0
    r = JetFileReader(path, JetParams(src=path))
    cheap = ["id", "label", "pt", "eta", "phi", "mass", "image", "c_pt", "c_eta", "c_phi", "c_e"]
    t0 = time.perf_counter()
    rows = sum(r.read(p, cheap).num_rows for p in r.pieces())
    ours = time.perf_counter() - t0
    piece = {**r.pieces()[0], "stop": 500}
    t0 = time.perf_counter()
    r.read(piece, ["tau32"])
    taus = time.perf_counter() - t0
    print(
        f"top-tagging HDF5, one process: h5py alone {rate(n, raw)}; physml's reader {rate(rows, ours)} "
        f"(ratio {raw / ours:.3f}); with N-subjettiness (FastJet) {rate(500, taus)}"
    )
    return rows / ours


def delphes_rates(paths: list[str], events: int) -> None:
    import uproot

    branches = ["Jet.PT", "Jet.Eta", "Jet.Phi"] + [
        f"{c}.{f}"
        for c, pt in (("EFlowTrack", "PT"), ("EFlowPhoton", "ET"), ("EFlowNeutralHadron", "ET"))
        for f in (pt, "Eta", "Phi")
    ]
    t0 = time.perf_counter()
    for p in paths:
        with uproot.open(p) as f:
            for start in range(0, events, 1000):
                f["Delphes"].arrays(branches, entry_start=start, entry_stop=start + 1000)
    raw = time.perf_counter() - t0
    src = str(Path(paths[0]).parent)
    r = JetFileReader(src, JetParams(src=src, pt_min=300, pt_max=900))
    cheap = ["id", "label", "pt", "image", "c_pt", "c_eta", "c_phi", "c_e"]
    t0 = time.perf_counter()
    rows = sum(r.read(p, cheap).num_rows for p in r.pieces())
    ours = time.perf_counter() - t0
    n = events * len(paths)
    print(
        f"Delphes ROOT, one process: uproot alone {n / raw:8.0f} events/s; physml's reader {rate(rows, ours)} "
        f"({rows} jets of {n} events; ratio {raw / ours:.3f})"
    )


def stream_vs_training(path: str) -> None:
    task = JetTagging()
    cfg = from_dict(task.Config, {"data": {"uri": path}, "model": {"kind": "pfn", "constituents": 64}})
    n, wait, stream, train = stream_and_train(task, cfg, task.datasets(cfg, path)["train"], BATCH, 20)
    print(
        f"Ray Data stream of the training split ({n} jets, {os.cpu_count()} cores): {stream:8.0f} jets/s after "
        f"{wait:.1f} s to the first batch; the PFN trains {train:8.0f} jets/s on one thread "
        f"(reader / consumption {stream / train:.2f})"
    )


def run_vs_plain(path: str, env: dict) -> None:
    task = JetTagging()
    raw = {"data": {"uri": path}, "model": {"kind": "pfn", "constituents": 64}}
    cfg = from_dict(task.Config, {**raw, "train": {"epochs": EPOCHS, "batch_size": BATCH}})
    torch.set_num_threads(1)
    plain, n = plain_loop(task, cfg, path, EPOCHS - 1)
    cmd = [sys.executable, "-m", "physml", "run", "jets", "--no-progress", "--set", f'data.uri="{path}"', *PFN]
    ours = run_rate([*cmd, "--set", f"train.epochs={EPOCHS}"], env, n)[0]
    print(
        f"training the PFN ({n} jets, batch {BATCH}): plain PyTorch loop {plain:7.0f} jets/s; physml run "
        f"(1 worker) {ours:7.0f} jets/s (ratio {ours / plain:.2f}, target >= 0.9)"
    )


def memory(path: str, work: str, env: dict) -> None:
    env = {**env, "PHYSML_MATERIALIZE_MB": "0"}
    for times in (1, 10):
        d = Path(work, f"x{times}")
        d.mkdir()
        for k in range(times):
            os.link(path, d / f"copy{k}.h5")
        cmd = [sys.executable, "-m", "physml", "run", "jets", "--no-progress", "--set", f'data.uri="{d}"', *PFN]
        gib, secs = peak_memory([*cmd, "--set", "train.epochs=1"], env)
        print(
            f"memory, one epoch streamed from {times:2d}x the file: peak PSS of the run {gib:5.2f} GiB in {secs:4.0f} s"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jets", type=int, default=10000, help="jets in the top-tagging file (default 10000)")
    ap.add_argument("--skip-memory", action="store_true", help="leave out the 1x / 10x memory runs")
    ap.add_argument("--memory-only", action="store_true", help="only the 1x / 10x memory runs")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    path = f"{work}/toptagging.h5"
    write_toptagging(path, a.jets, size=200, most=100)
    print(f"wrote {a.jets} jets in the top-tagging layout ({os.path.getsize(path) / 2**20:.0f} MiB)")
    if a.memory_only:
        memory(path, work, env)
        return
    hdf5_rates(path, a.jets)
    Path(work, "delphes").mkdir()
    events = 2000
    paths = [f"{work}/delphes/ttbar.root", f"{work}/delphes/qcd.root"]
    for p, top in zip(paths, (True, False)):
        write_delphes(p, events, top=top, seed=int(top), most=100)
    delphes_rates(paths, events)
    stream_vs_training(path)
    run_vs_plain(path, env)
    if not a.skip_memory:
        memory(path, work, env)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
