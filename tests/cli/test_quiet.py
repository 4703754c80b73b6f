"""The main job's output is physml's own: Ray's, Ray Train's and Ray Data's log lines stay in Ray's log
directory unless --verbose (a real private Ray per command, as a user gets it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

RAY_LINE = re.compile(
    r"\((RayTrainWorker|TrainController|SplitCoordinator|DatasetManager|pid=)|INFO worker\.py|core_worker|"
    r"TrainingReport|Progress bars disabled|Checkpoint successfully created|DeprecationWarning"
)


def _physml(args: list[str], cwd, store_uri) -> str:
    env = {**os.environ, "MLFLOW_TRACKING_URI": store_uri, "PHYSML_HOME": str(cwd / "home")}
    env.pop("RAY_ADDRESS", None)
    res = subprocess.run([sys.executable, "-m", "physml", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout + res.stderr


def test_simulate_and_a_ray_train_run_print_no_ray_line(tmp_path, store_uri):
    sim = ["simulate", "ising", "--L", "8", "--temperatures", "2.0,2.5", "--sweeps", "400", "--thermalize", "100"]
    out = _physml(
        [*sim, "--every", "20", "--brief", "--no-progress", "--out", str(tmp_path / "ising")], tmp_path, store_uri
    )
    assert "L = 8: 2 temperatures" in out and "physml: Ray: a private local instance" in out
    run = ["run", "example-oscillator", "-c", "smoke", "--no-progress", "--set", 'train.runner="ray-train"']
    out += _physml(run, tmp_path, store_uri)
    assert "epoch 1:" in out and "Ray's own logs: " in out, out
    noisy = [line for line in out.splitlines() if RAY_LINE.search(line)]
    assert not noisy, noisy[:5]
