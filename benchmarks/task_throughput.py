"""A task's simulator items/s on one core, and `physml run TASK` (1 worker) against a plain PyTorch loop
on the same model and data (target ratio >= 0.9). For the tasks of issue 33: dayabay, galaxy-vae,
massmaps-cosmology, massmaps-denoise.
Run: `.venv/bin/python -m benchmarks.task_throughput TASK [--n N]` (N: the simulation's data.n).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

from benchmarks.common import plain_loop, run_rate
from physml.config import from_dict, load_toml, merge
from physml.tasks import TASKS, config_path, load, source_path

EPOCHS, BATCH = 4, 128


def flags(params) -> list[str]:
    """The `physml simulate` options that give ``params`` (the fields that differ from the defaults)."""
    out, default = [], type(params)()
    for f in dataclasses.fields(params):
        value, opt = getattr(params, f.name), f.metadata.get("option")
        if opt is None or value == getattr(default, f.name):
            continue
        out += [opt.flag or "--" + f.name.replace("_", "-"), *map(str, value if isinstance(value, tuple) else [value])]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("task", choices=["dayabay", "galaxy-vae", "massmaps-cosmology", "massmaps-denoise"])
    ap.add_argument("--n", type=int, default=4000, help="the simulation's data.n (default 4000)")
    a = ap.parse_args(argv)
    task = load(TASKS[a.task])()
    sim = task.simulation(from_dict(task.Config, merge(load_toml(config_path(a.task, "default")), [f"data.n={a.n}"])))
    source = load(source_path(sim.sampler)).of(sim.params)
    item = source.items()[0]
    t0 = time.perf_counter()
    rows = source.make(item).num_rows
    print(f"simulator ({sim.sampler}), one core: {rows / (time.perf_counter() - t0):.0f} items/s")
    work = tempfile.mkdtemp(prefix="physml-bench-")
    env = {**os.environ, "PHYSML_HOME": work, "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db"}
    uri = f"{work}/data"
    cmd = [sys.executable, "-m", "physml", "simulate", sim.sampler, *flags(sim.params), "--out", uri, "--no-progress"]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    sets = [f'data.uri="{uri}"', f"train.epochs={EPOCHS}", f"train.batch_size={BATCH}", "train.val_every=1"]
    cfg = from_dict(task.Config, merge(load_toml(config_path(a.task, "default")), sets))  # what `physml run` trains
    torch.set_num_threads(1)
    plain, n = plain_loop(task, cfg, uri, EPOCHS - 1)
    run = [sys.executable, "-m", "physml", "run", a.task, "-c", "default", "--no-progress"]
    run += [w for kv in sets for w in ("--set", kv)]
    ours = run_rate(run, env, n)[0]
    print(
        f"training {a.task} ({n} items, batch {BATCH}): plain PyTorch loop {plain:7.0f} items/s; physml run "
        f"(1 worker) {ours:7.0f} items/s (ratio {ours / plain:.2f}, target >= 0.9)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
