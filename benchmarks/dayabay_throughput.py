"""dayabay: the toy detector's events/s on one core, and `physml run dayabay` (1 worker) against a plain
PyTorch loop on the same CNN and data (target ratio >= 0.9).
Run: `.venv/bin/python -m benchmarks.dayabay_throughput [--n N]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

from benchmarks.common import plain_loop, run_rate
from physml.config import from_dict
from physml.tasks.dayabay.events import CLASSES
from physml.tasks.dayabay.source import DayaBayParams, DayaBaySource
from physml.tasks.dayabay.task import DayaBay

EPOCHS, BATCH = 4, 128


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=4000, help="events per class (default 4000)")
    a = ap.parse_args(argv)
    src = DayaBaySource(DayaBayParams(n=200))
    t0 = time.perf_counter()
    src.make(src.items()[0])
    rate = 200 * len(CLASSES) / (time.perf_counter() - t0)
    print(f"simulator, one core: {rate:.0f} events/s (all five classes, 200 each)")
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    uri = f"{work}/data"
    cmd = [sys.executable, "-m", "physml", "simulate", "dayabay", "--n", str(a.n), "--out", uri, "--no-progress"]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    task = DayaBay()
    cfg = from_dict(task.Config, {"data": {"uri": uri}, "train": {"epochs": EPOCHS, "batch_size": BATCH}})
    torch.set_num_threads(1)
    plain, n = plain_loop(task, cfg, uri, EPOCHS - 1)
    run = [sys.executable, "-m", "physml", "run", "dayabay", "--no-progress", "--set", f'data.uri="{uri}"']
    run += ["--set", f"train.epochs={EPOCHS}", "--set", f"train.batch_size={BATCH}"]
    ours = run_rate(run, env, n)[0]
    print(
        f"training the CNN ({n} events, batch {BATCH}): plain PyTorch loop {plain:7.0f} events/s; physml run "
        f"(1 worker) {ours:7.0f} events/s (ratio {ours / plain:.2f}, target >= 0.9)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
