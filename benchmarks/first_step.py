"""Command start to the first training step, with a private Ray per command and after `physml up`.

`physml run example-oscillator -c smoke` on a dataset made beforehand (no simulation in the timing),
for both runners (Ray Train workers and train.runner = "local"), each with its own private Ray and
joining the head of `physml up`; the first step is the first train/loss point MLflow holds. Target
(issue 30): <= 10 s after `physml up`. Run: `python -m benchmarks.first_step`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mlflow

from physml.platform.data.local import write_in_process
from physml.platform.data.shards import DatasetWriter
from physml.tasks.example.source import OscillatorParams, OscillatorSource


def first_step(env: dict, work: Path, uri: str, runner: str) -> float:
    """Seconds from launching the command to its first logged training step."""
    cmd = [
        sys.executable,
        "-m",
        "physml",
        "run",
        "example-oscillator",
        "-c",
        "smoke",
        "--no-progress",
        "--set",
        f'data.uri="{uri}"',
        "--set",
        "train.log_every=1",
        "--set",
        f'train.runner="{runner}"',
    ]
    t0 = time.time()
    out = subprocess.run(cmd, env=env, cwd=work, check=True, capture_output=True, text=True).stdout
    run_id = out.split("MLflow run ")[1].split()[0]
    history = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"]).get_metric_history(run_id, "train/loss")
    return min(m.timestamp for m in history) / 1000 - t0


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="physml-bench-"))
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "PHYSML_HOME": str(work / "home"),
        "PHYSML_STATE": str(work / "state"),
    }
    env.pop("RAY_ADDRESS", None)
    src = OscillatorSource(OscillatorParams(n=2000, steps=32))
    uri = str(work / "data")
    write_in_process(src, DatasetWriter(uri, src.kind, src.manifest_params(), 0, "benchmark"))
    private = {r: first_step(env, work, uri, r) for r in ("ray-train", "local")}
    subprocess.run([sys.executable, "-m", "physml", "up"], env=env, check=True, capture_output=True)
    try:
        first_step(env, work, uri, "local")  # the head's first worker processes start once
        joined = {r: first_step(env, work, uri, r) for r in ("ray-train", "local")}
    finally:
        subprocess.run([sys.executable, "-m", "physml", "down"], env=env, capture_output=True)
    for r in ("ray-train", "local"):
        print(
            f"{r:>9}: private Ray {private[r]:5.1f} s, after physml up {joined[r]:5.1f} s "
            f"(ratio {joined[r] / private[r]:.2f})"
        )
    print(f"first training step after physml up: {min(joined.values()):.1f} s (target <= 10 s)")


if __name__ == "__main__":
    main()
