"""lensing: simulator images/s per core, and training throughput of `physml run` against a plain
PyTorch loop on the same model (the issue's target: ratio >= 0.8).

The simulator is timed in this process on one core (150 x 150 Model A images of each class, lenstronomy
ray tracing + PSF + noise), then through `physml simulate lensing` on all cores (Ray tasks, start-up
included). The plain loop trains the default AAE (central 96 x 96 pixels) on the training split held
in memory, single-threaded as one Ray Train worker is, and validates each epoch; physml's rate is
taken between its first and last epoch reports (MLflow timestamps).
Run: `.venv/bin/python -m benchmarks.lensing_throughput`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from benchmarks.common import plain_loop, run_rate
from physml.config import from_dict
from physml.tasks.lensing.lenses import CLASSES, LensParams, draw_image
from physml.tasks.lensing.task import Lensing

EPOCHS, N_NONE, N_SUB, BATCH = 3, 1200, 150, 64


def simulator_rate(n: int = 40) -> dict[str, float]:
    """Images per second on one core, per class."""
    p, rng, out = LensParams(), np.random.default_rng(0), {}
    draw_image(rng, p, "none")  # imports and caches
    for kind in CLASSES:
        t0 = time.perf_counter()
        for _ in range(n):
            draw_image(rng, p, kind)
        out[kind] = n / (time.perf_counter() - t0)
    return out


def main() -> None:
    torch.set_num_threads(1)
    per_core = simulator_rate()
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    uri = f"{work}/data"
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "physml",
            "simulate",
            "lensing",
            "--n",
            str(N_SUB),
            "--n-none",
            str(N_NONE),
            "--out",
            uri,
            "--no-progress",
        ],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
    )
    sim_s, images = time.perf_counter() - t0, N_NONE + 2 * N_SUB
    task = Lensing()
    model = {"kind": "aae", "channels": 16, "depth": 4, "latent": 64}
    cfg = from_dict(
        task.Config,
        {
            "data": {"uri": uri, "crop": 96, "resize": 0},
            "model": model,
            "train": {"epochs": EPOCHS, "batch_size": BATCH},
        },
    )
    plain, n = plain_loop(task, cfg, uri, EPOCHS - 1)
    cmd = [
        sys.executable,
        "-m",
        "physml",
        "run",
        task.name,
        "--no-progress",
        "--set",
        f'data.uri="{uri}"',
        "--set",
        "data.crop=96",
        "--set",
        "data.resize=0",
        "--set",
        f"train.epochs={EPOCHS}",
        "--set",
        f"train.batch_size={BATCH}",
        "--set",
        "train.log_every=1",
    ]
    for k, v in model.items():
        cmd += ["--set", f'model.{k}="{v}"' if isinstance(v, str) else f"model.{k}={v}"]
    ours = run_rate(cmd, env, n, cwd=work)[0]
    rates = ", ".join(f"{k} {v:.0f}" for k, v in per_core.items())
    print(f"simulator, one core, 150 x 150: {rates} images/s")
    print(
        f"physml simulate lensing: {images} images in {sim_s:.1f} s incl. start-up on {os.cpu_count()} cores "
        f"({images / sim_s / os.cpu_count():.0f} images/s per core)"
    )
    print(f"train images: {n} (96 x 96 crop, no substructure); epochs timed: {EPOCHS - 1}; batch {BATCH}; AAE")
    print(f"plain PyTorch loop:    {plain:8.1f} images/s")
    print(f"physml run (1 worker): {ours:8.1f} images/s   ratio {ours / plain:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
