"""jets at scale: Pythia generation rate per core, the loader against raw pyarrow, training throughput
of `physml run` against a plain PyTorch loop (target ratio >= 0.8), and peak memory of a training run
as the dataset grows 10x (target: flat).

1. Generation, on one core in this process: events/s of bare Pythia (``pythia.next()``) and of the
   whole pipeline (Pythia + calorimeter + anti-kT + N-subjettiness + images) per process.
2. Reading: a dataset of ``--jets`` jets per process is simulated (or given with ``--data``). Rows/s of
   the platform's streaming loader (Ray Data ``read_parquet`` + the task's preprocess, iterated as
   torch batches) against pyarrow reading the same files and the same preprocess in this process.
3. Training: `physml run jets` (1 worker) against ``benchmarks.common.plain_loop`` on the same split.
4. Memory: `physml run jets` for one epoch on the dataset and on a 10x copy (the same shard files
   listed 10 times; the bytes are read 10 times), both streaming (PHYSML_MATERIALIZE_MB=0) in a Ray
   object store of ``--cap`` MiB (PHYSML_OBJECT_STORE_MB; the 10x images do not fit in it); the peak
   of the summed PSS of the run's process tree (driver, raylet, workers, object store pages).
Run: `.venv/bin/python -m benchmarks.jets_scale [--data URI] [--jets N] [--memory-only] [--cap MiB]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import torch

from benchmarks.common import plain_loop, run_rate
from physml.config import from_dict
from physml.tasks.jets.events import PROCESSES, make_pythia
from physml.tasks.jets.source import JetParams, JetsSource
from physml.tasks.jets.task import COLUMNS, JetTagging

EPOCHS, BATCH = 3, 128


def generation_rates(jets: int = 150) -> None:
    p = JetParams()
    for proc in PROCESSES:
        py = make_pythia(proc, p.ecm, p.pt_hat, 1)
        t0 = time.perf_counter()
        for _ in range(200):
            py.next()
        bare = 200 / (time.perf_counter() - t0)
        src = JetsSource(JetParams(n=jets, processes=(proc,)))
        t0 = time.perf_counter()
        table = src.make(src.items()[0])
        dt = time.perf_counter() - t0
        events = int(table.column("event").to_numpy().max()) + 1
        print(
            f"generation, one core, {proc}: Pythia alone {bare:6.1f} events/s; full pipeline {events / dt:6.1f} "
            f"events/s = {jets / dt:5.1f} jets/s (ratio {events / dt / bare:.2f})"
        )


def simulate(uri: str, jets: int, env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "physml", "simulate", "jets", "--n", str(jets), "--out", uri, "--no-progress"],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


def read_rates(uri: str) -> None:
    import ray

    from physml.platform.data.streams import ray_dataset, shard_paths

    cfg = from_dict(JetTagging.Config, {"data": {"uri": uri}})
    spec = JetTagging().datasets(cfg, uri)["train"]
    paths = shard_paths(spec)
    t0 = time.perf_counter()
    rows = 0
    for p in paths:
        t = pq.read_table(p, columns=COLUMNS)
        for rb in t.to_batches(max_chunksize=4096):
            rows += len(
                spec.preprocess(
                    {n: rb.column(i).to_numpy(zero_copy_only=False) for i, n in enumerate(rb.schema.names)}
                )["y"]
            )
    raw = rows / (time.perf_counter() - t0)
    os.environ["PHYSML_MATERIALIZE_MB"] = "0"
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    ds = ray_dataset(spec, shuffle_seed=0)
    t0 = time.perf_counter()
    n, first, t1 = 0, 0, 0.0
    for b in ds.iter_torch_batches(batch_size=BATCH):
        if not n:
            first, t1 = len(b["y"]), time.perf_counter()
        n += len(b["y"])
    t2 = time.perf_counter()
    ray.shutdown()
    del os.environ["PHYSML_MATERIALIZE_MB"]
    total, steady = n / (t2 - t0), (n - first) / (t2 - t1)
    print(
        f"reading the training split ({rows} jets): pyarrow + preprocess {raw:8.0f} jets/s; Ray Data stream "
        f"{total:8.0f} jets/s with its start-up ({t1 - t0:.1f} s to the first batch), {steady:8.0f} jets/s after "
        f"(ratio {steady / raw:.2f})"
    )


def train_rates(uri: str, env: dict) -> None:
    task = JetTagging()
    cfg = from_dict(task.Config, {"data": {"uri": uri}, "train": {"epochs": EPOCHS, "batch_size": BATCH}})
    torch.set_num_threads(1)
    plain, n = plain_loop(task, cfg, uri, EPOCHS - 1)
    cmd = [sys.executable, "-m", "physml", "run", "jets", "--no-progress", "--set", f'data.uri="{uri}"']
    cmd += ["--set", f"train.epochs={EPOCHS}", "--set", f"train.batch_size={BATCH}"]
    ours = run_rate(cmd, env, n)[0]
    print(
        f"training the CNN ({n} jets, batch {BATCH}): plain PyTorch loop {plain:7.0f} jets/s; physml run (1 worker) "
        f"{ours:7.0f} jets/s (ratio {ours / plain:.2f}, target >= 0.8)"
    )


def replicate(uri: str, out: str, times: int) -> None:
    """A dataset listing each shard of ``uri`` ``times`` times (hard links, distinct names)."""
    src, dst = Path(uri), Path(out)
    man = json.loads((src / "manifest.json").read_text())
    shards = []
    for k in range(times):
        for e in man["shards"]:
            rel = f"copy{k}/{e['path']}"
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            os.link(src / e["path"], dst / rel)
            shards.append({**e, "path": rel, "chunk": e.get("chunk", 0) + 100000 * k})
    (dst / "manifest.json").write_text(json.dumps({**man, "shards": shards}))


def peak_memory(cmd: list[str], env: dict) -> tuple[float, float]:
    """(peak summed PSS in GiB of ``cmd``'s process tree, seconds)."""
    err = tempfile.TemporaryFile()
    proc = psutil.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    peak, t0 = 0.0, time.perf_counter()
    while proc.poll() is None:
        total = 0
        for p in [proc] + proc.children(recursive=True):
            try:
                total += p.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak = max(peak, total)
        time.sleep(0.5)
    if proc.returncode:
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n" + "\n".join(tail))
    return peak / 2**30, time.perf_counter() - t0


def memory_scaling(uri: str, work: str, env: dict, cap: float) -> None:
    big = f"{work}/x10"
    replicate(uri, big, 10)
    env = {**env, "PHYSML_MATERIALIZE_MB": "0", "PHYSML_OBJECT_STORE_MB": str(cap)}
    model = [
        "--set",
        "model.channels=4",
        "--set",
        "model.dense=16",
        "--set",
        "train.epochs=1",
        "--set",
        "train.batch_size=256",
    ]
    for name, data in (("1x", uri), ("10x", big)):
        rows = sum(e["rows"] for e in json.loads(Path(data, "manifest.json").read_text())["shards"])
        gib, secs = peak_memory(
            [sys.executable, "-m", "physml", "run", "jets", "--no-progress", "--set", f'data.uri="{data}"'] + model, env
        )
        print(
            f"memory, one epoch streamed, object store {cap:g} MiB, {name:>3} = {rows:7d} jets "
            f"({rows * 6.4e3 / 2**30:5.2f} GiB of images): peak PSS of the run {gib:5.2f} GiB in {secs:5.0f} s"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="", help="an existing jets dataset (local path); default: simulate one")
    ap.add_argument("--jets", type=int, default=2000, help="jets per process to simulate (default 2000)")
    ap.add_argument("--memory-only", action="store_true", help="only the memory measurement (needs --data)")
    ap.add_argument("--cap", type=float, default=1024, help="PHYSML_OBJECT_STORE_MB of the memory runs (default 1024)")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    uri = a.data or f"{work}/data"
    if a.memory_only:
        memory_scaling(uri, work, env, a.cap)
        return
    generation_rates()
    if not a.data:
        secs = simulate(uri, a.jets, env)
        print(
            f"physml simulate jets: {2 * a.jets} jets in {secs:.1f} s incl. start-up on {os.cpu_count()} cores "
            f"({2 * a.jets / secs / os.cpu_count():.1f} jets/s per core)"
        )
    read_rates(uri)
    train_rates(uri, env)
    memory_scaling(uri, work, env, a.cap)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
