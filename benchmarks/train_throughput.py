"""Training throughput of `physml run` (1 Ray Train worker) against a plain PyTorch loop.

Both train phases-supervised's CNN on the same simulated shards (L = 16, 4 epochs) and evaluate the
validation split each epoch. physml's rate is taken between the first and last epoch reports
(MLflow timestamps), so start-up is excluded there and reported separately as the time from the
command's start to its first optimizer step (target < 20 s; throughput ratio target >= 0.8).
Run: `.venv/bin/python -m benchmarks.train_throughput`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import mlflow
import torch

from benchmarks.common import plain_loop, run_rate
from physml.config import from_dict
from physml.tasks.phases.supervised import SupervisedPhases

DATA = {"L": [16], "temperatures": "1.2:3.4:12", "replicas": 4, "sweeps": 2500, "thermalize": 100, "every": 5}
EPOCHS = 4


def main() -> None:
    torch.set_num_threads(1)
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    uri = f"{work}/data"
    sim = [
        sys.executable,
        "-m",
        "physml",
        "simulate",
        "ising",
        "--L",
        "16",
        "--temperatures",
        DATA["temperatures"],
        "--replicas",
        str(DATA["replicas"]),
        "--sweeps",
        str(DATA["sweeps"]),
        "--thermalize",
        str(DATA["thermalize"]),
        "--every",
        str(DATA["every"]),
        "--out",
        uri,
        "--no-progress",
    ]
    subprocess.run(sim, env=env, cwd=work, check=True, capture_output=True)
    task = SupervisedPhases()
    sets = {
        "data.uri": f'"{uri}"',
        "model.channels": 8,
        "model.hidden": 16,
        "train.epochs": EPOCHS,
        "train.batch_size": 128,
        "train.lr": 0.003,
        "train.log_every": 1,
        "train.cpus_per_worker": 1.0,
    }
    cfg = from_dict(
        task.Config,
        {
            "data": {"uri": uri, "L": [16]},
            "model": {"channels": 8, "hidden": 16},
            "train": {"epochs": EPOCHS, "batch_size": 128, "lr": 0.003},
        },
    )
    plain, n = plain_loop(task, cfg, uri, EPOCHS - 1)
    cmd = [sys.executable, "-m", "physml", "run", task.name, "--no-progress"]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    t0 = time.time()
    ours, _, run_id = run_rate(cmd, env, n, cwd=work)
    client = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"])
    first = min(m.timestamp for m in client.get_metric_history(run_id, "train/loss")) / 1000
    print(f"train samples: {n}; epochs timed: {EPOCHS - 1}")
    print(f"plain PyTorch loop: {plain:9.0f} samples/s")
    print(f"physml run (1 worker): {ours:9.0f} samples/s   ratio {ours / plain:.2f} (target >= 0.8)")
    print(f"command start -> first training step: {first - t0:.1f} s (target < 20 s; includes Ray start)")


if __name__ == "__main__":
    main()
