"""Climate archives read in place: physml's reader against xarray alone, the Ray Data stream against
training's consumption, `physml run climate-segmentation` against a plain PyTorch loop, peak memory of
an epoch streamed from 1x, 10x and 100x the files, and the per-core rate behind the README's projection
of an epoch over DeepCAM's 8.8 TB.

1. Reading, one process: ``--steps`` simulated time steps (192 x 288, CF NetCDF files of 8 steps) read by
   xarray alone (open, slice the piece, load the 6 channels) against physml's reader (the same pieces,
   rows for training); MB/s of float32 channel data per core.
2. The training split streamed by Ray Data (the reader's datasource, all cores) against the U-Net's
   training consumption (forward + backward on 96 x 96 crops, batch 8, one thread).
3. `physml run climate-segmentation -c default` (fewer epochs) against ``benchmarks.common.plain_loop``.
4. Memory: one epoch of a small U-Net streamed (PHYSML_MATERIALIZE_MB=0) from a directory holding the
   files once, 10 and 100 times (hard links); the peak summed PSS of the run's process tree.
Run: `.venv/bin/python -m benchmarks.climate_files [--steps N] [--skip-memory]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import plain_loop, run_rate, stream_and_train
from benchmarks.jets_scale import peak_memory
from physml.platform.data.local import write_in_process
from physml.platform.data.shards import DatasetWriter
from physml.tasks.climate.files import open_fields
from physml.tasks.climate.reader import ClimateReader
from physml.tasks.climate.source import ClimateParams, ClimateSource
from physml.tasks.climate.task import ClimateSegmentation

CHANNELS = ("TMQ", "U850", "V850", "PSL", "T200", "T500")  #: read by the reader comparison
EPOCHS = 3


def simulate(out: str, steps: int, grid: str = "192x288") -> None:
    source = ClimateSource(ClimateParams(grid=grid, steps=steps, seed=1))
    write_in_process(source, DatasetWriter(out, "climate", source.manifest_params(), 1, "benchmark"))


def read_rates(data: str) -> float:
    """Prints xarray alone against the reader; returns the reader's MB/s of channel data."""
    reader = ClimateReader(data, CHANNELS)
    pieces = reader.pieces()
    t0 = time.perf_counter()
    for p in pieces:
        with open_fields(p["file"]) as ds:
            part = ds.isel(time=slice(p["start"], p["stop"]))
            [np.asarray(part[c].values) for c in CHANNELS]
    raw = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = sum(reader.read(p).num_rows for p in pieces)
    ours = time.perf_counter() - t0
    mb = rows * len(CHANNELS) * np.prod([len(a) for a in reader.grid]) * 4 / 1e6
    print(
        f"reading {rows} time steps, one process: xarray alone {rows / raw:6.1f} steps/s; physml's reader "
        f"{rows / ours:6.1f} steps/s ({mb / ours:.0f} MB/s of float32 channels; ratio {raw / ours:.3f})"
    )
    return mb / ours


def default_config(data: str, epochs: int = EPOCHS):
    """`-c default` on ``data``, with the normalisation of its training pieces (what `physml run` uses)."""
    from physml.platform.configs import resolve

    task = ClimateSegmentation()
    cfg = resolve("climate-segmentation", "default", [f'data.uri="{data}"', f"train.epochs={epochs}"])
    mean, std = task.reader(cfg, data).stats()
    return task, resolve("climate-segmentation", "default", [f'data.uri="{data}"', f"train.epochs={epochs}",
                                                            f"data.mean={mean}", f"data.std={std}"])  # fmt: skip


def stream_vs_training(data: str) -> None:
    task, cfg = default_config(data)
    n, wait, stream, train = stream_and_train(task, cfg, task.datasets(cfg, data)["train"], 8, 5)
    print(
        f"Ray Data stream of the training split ({n} steps, {os.cpu_count()} cores): {stream:6.1f} steps/s after "
        f"{wait:.1f} s to the first batch; the U-Net trains {train:6.1f} steps/s on one thread "
        f"(reader / consumption {stream / train:.1f})"
    )


def run_vs_plain(data: str, env: dict) -> None:
    task, cfg = default_config(data)
    torch.set_num_threads(1)
    plain, n = plain_loop(task, cfg, data, EPOCHS - 1)
    cmd = [sys.executable, "-m", "physml", "run", "climate-segmentation", "-c", "default", "--no-progress",
           "--set", f'data.uri="{data}"', "--set", f"train.epochs={EPOCHS}"]  # fmt: skip
    ours = run_rate(cmd, env, n)[0]
    print(
        f"training the U-Net of -c default ({n} steps, crops of {cfg.data.crop}, batch {cfg.train.batch_size}): "
        f"plain PyTorch loop {plain:6.2f} steps/s; physml run (1 worker) {ours:6.2f} steps/s "
        f"(ratio {ours / plain:.2f}, target >= 0.9)"
    )


def memory(data: str, work: str, env: dict, cap: float = 1024) -> None:
    """Peak PSS of one epoch at 1x, 10x, 100x the files, in an object store of ``cap`` MiB: Ray keeps the
    store's pages mapped once touched, so without a cap a longer stream fills more of a 7 GB default
    store (measured: 3.5 / 3.9 / 6.2 GiB uncapped) without holding more data."""
    env = {**env, "PHYSML_MATERIALIZE_MB": "0", "PHYSML_OBJECT_STORE_MB": str(cap)}
    files = sorted(Path(data).glob("*.nc"))
    small = [
        "--set",
        "model.layers=3",
        "--set",
        "model.channels=4",
        "--set",
        "data.crop=0",
        "--set",
        "train.batch_size=16",
    ]
    for times in (1, 10, 100):
        d = Path(work, f"x{times}")
        d.mkdir()
        for k in range(times):
            for f in files:
                os.link(f, d / f"{f.stem}-copy{k:03d}.nc")
        cmd = [sys.executable, "-m", "physml", "run", "climate-segmentation", "-c", "default", "--no-progress",
               "--set", f'data.uri="{d}"', "--set", "train.epochs=1", *small]  # fmt: skip
        gib, secs = peak_memory(cmd, env)
        print(f"memory, one epoch streamed from {times:3d}x the files ({times * len(files)} files, object store "
              f"{cap:g} MiB): peak PSS of the run {gib:5.2f} GiB in {secs:5.0f} s")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=128, help="simulated time steps at 192 x 288 (default 128)")
    ap.add_argument("--skip-memory", action="store_true", help="leave out the 1x / 10x / 100x memory runs")
    ap.add_argument("--memory-only", action="store_true", help="only the memory runs")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    data = f"{work}/climate"
    if a.memory_only:
        simulate(data, 64, "96x144")
        memory(data, work, env)
        return
    simulate(data, a.steps)
    size = sum(f.stat().st_size for f in Path(data).glob("*.nc")) / 1e6
    print(f"simulated {a.steps} time steps at 192 x 288 ({size:.0f} MB of NetCDF)")
    mb = read_rates(data)
    deepcam, core_hours = 8.8e12 / (768 * 1152 * 16 * 4), 8.8e12 / (mb * 1e6) / 3600
    print(f"DeepCAM: 8.8 TB = {deepcam:.0f} samples of 768 x 1152 x 16 float32; at {mb:.0f} MB/s per core an epoch "
          f"is {core_hours:.1f} core-hours of reading:")  # fmt: skip
    for nodes in (1, 4, 16, 64):
        cores = 32 * nodes
        print(f"  {nodes:3d} node(s) of 32 cores: {core_hours * 60 / cores:6.1f} min, if storage delivers "
              f"{mb * cores / 1e3:5.1f} GB/s")  # fmt: skip
    stream_vs_training(data)
    run_vs_plain(data, env)
    if not a.skip_memory:
        shutil.rmtree(data)
        simulate(data, 64, "96x144")
        memory(data, work, env)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
