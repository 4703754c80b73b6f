"""prostate: training throughput of `physml run` against a plain PyTorch loop on the same U-Net, and
the data loader against training (the issue's targets: ratio >= 0.8, loader >= 3x training).

Data: 12 simulated cases at 64 x 64 (`physml simulate prostate`, whose cases/s per core is reported).
The plain loop trains the default U-Net (Table 3's 5-level row with the BN normalizer) on tensors in
memory and validates each epoch; physml's rate is taken between its first and last epoch reports
(MLflow timestamps). The loader rate is Ray Data streaming the preprocessed training split in
batches of the same size, with no model. Everything single-threaded, as one Ray Train worker is.
Run: `.venv/bin/python -m benchmarks.prostate_throughput`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import ray
import torch

from benchmarks.common import plain_loop, run_rate
from physml.config import from_dict
from physml.platform.data.streams import ray_dataset
from physml.tasks.prostate.task import ProstateSegmentation

EPOCHS, CASES, BATCH = 4, 12, 16


def loader_rate(task, cfg, uri: str) -> float:
    """Slices per second Ray Data delivers from the training split as torch batches (no model)."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    ds = ray_dataset(task.datasets(cfg, uri)["train"], shuffle_seed=0)
    n, t0 = 0, None
    for _ in range(2):  # the first pass includes the read; time the second
        t0, n = time.perf_counter(), 0
        for b in ds.iter_torch_batches(batch_size=BATCH):
            n += len(b["x"])
    rate = n / (time.perf_counter() - t0)
    ray.shutdown()
    return rate


def main() -> None:
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    uri = f"{work}/data"
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "physml", "simulate", "prostate", "--cases", str(CASES), "--out", uri, "--no-progress"],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
    )
    sim_s = time.perf_counter() - t0
    task = ProstateSegmentation()
    sets = {
        "data.uri": f'"{uri}"',
        "data.cases": CASES,
        "data.val_cases": 2,
        "data.test_cases": 2,
        "train.epochs": EPOCHS,
        "train.scheduler": '"none"',
        "train.select": '"last"',
        "train.log_every": 1,
    }
    cfg = from_dict(
        task.Config,
        {
            "data": {"uri": uri, "cases": CASES, "val_cases": 2, "test_cases": 2},
            "model": {"layers": 5, "down": [20] * 5, "up": [20, 10, 10, 10, 5, 1]},
            "train": {"epochs": EPOCHS, "batch_size": BATCH},
        },
    )
    plain, n = plain_loop(task, cfg, uri, EPOCHS - 1)
    load = loader_rate(task, cfg, uri)
    cmd = [sys.executable, "-m", "physml", "run", task.name, "--no-progress"]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    ours = run_rate(cmd, env, n, cwd=work)[0]
    print(
        f"simulate prostate: {CASES} cases in {sim_s:.1f} s incl. start-up on {os.cpu_count()} cores "
        f"({CASES / sim_s / os.cpu_count():.2f} cases/s per core)"
    )
    print(f"train slices: {n} (64 x 64); epochs timed: {EPOCHS - 1}; batch {BATCH}")
    print(f"plain PyTorch loop:    {plain:8.1f} slices/s")
    print(f"physml run (1 worker): {ours:8.1f} slices/s   ratio {ours / plain:.2f} (target >= 0.8)")
    print(f"Ray Data loader:       {load:8.1f} slices/s   {load / ours:.0f}x training (target >= 3x)")


if __name__ == "__main__":
    main()
