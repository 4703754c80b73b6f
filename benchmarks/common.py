"""Helpers shared by the benchmarks: timing and the NumPy reference kernel."""

from __future__ import annotations

import time

import numpy as np
import torch


def best_of(fn, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls of ``fn()`` (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def plain_loop(task, cfg, uri: str, epochs: int) -> tuple[float, int]:
    """(samples per second, training samples) of a hand-written loop: ``epochs`` passes of the task's
    loss over its training split held in memory, Adam at ``cfg.train.lr``, the validation split
    evaluated after each pass; the reference for the platform's training throughput."""
    from physml.platform.data.local import local_batches

    specs = task.datasets(cfg, uri)
    tr = list(local_batches(specs["train"], 100000))
    data = {k: torch.cat([b[k] for b in tr]) for k in tr[0]}  # every key the task's loss may read
    n = len(data["x"])
    val = list(local_batches(specs["val"], cfg.train.batch_size))
    torch.manual_seed(0)
    model = task.model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    bs = cfg.train.batch_size
    t0 = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            loss = task.loss(model, {k: v[idx] for k, v in data.items()}, cfg)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            task.evaluate(model, iter(val), cfg)
    return epochs * n / (time.perf_counter() - t0), n


def numpy_checkerboard(s: np.ndarray, beta: float, sweeps: int, rng: np.random.Generator) -> None:
    """Plain NumPy vectorized checkerboard Metropolis on int8[L, L] (the reference kernel)."""
    L = s.shape[0]
    colour = (np.add.outer(np.arange(L), np.arange(L)) & 1).astype(bool)
    table = np.exp(-beta * np.arange(-8, 9, dtype=np.float64))  # index dE + 8
    for _ in range(sweeps):
        for mask in (~colour, colour):
            nn = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            de = 2 * s * nn
            accept = mask & (rng.random((L, L)) < table[de + 8])
            s[accept] *= -1


def run_rate(cmd: list[str], env: dict, samples: int, cwd: str | None = None) -> tuple[float, str, str]:
    """(training samples per second of a `physml run` command line ``cmd``, measured between its first
    and last logged epoch from the MLflow store of ``env``; its stdout; its run id). ``samples``: the
    training samples of one epoch."""
    import subprocess

    import mlflow

    out = subprocess.run(cmd, env=env, cwd=cwd, check=True, capture_output=True, text=True).stdout
    run_id = out.split("MLflow run ")[1].split()[0]
    client = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"])
    ep = sorted(m.timestamp for m in client.get_metric_history(run_id, "epoch"))
    return (len(ep) - 1) * samples / ((ep[-1] - ep[0]) / 1000), out, run_id


def stream_and_train(task, cfg, spec, batch_size: int, steps: int) -> tuple[int, float, float, float]:
    """A training split streamed by Ray Data (the reader's or the shards' datasource, all cores,
    PHYSML_MATERIALIZE_MB=0) against the task's training consumption (forward + backward on its first
    batch, ``steps`` times, one thread): (samples streamed, seconds to the first batch, samples/s of the
    stream after it, samples/s of training)."""
    import os

    import ray

    from physml.platform.data.streams import ray_dataset

    os.environ["PHYSML_MATERIALIZE_MB"] = "0"
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    t0 = time.perf_counter()
    n, first, t1, batch = 0, 0, 0.0, None
    for b in ray_dataset(spec, shuffle_seed=0).iter_torch_batches(batch_size=batch_size):
        size = len(next(iter(b.values())))
        if not n:
            first, t1, batch = size, time.perf_counter(), b
        n += size
    t2 = time.perf_counter()
    ray.shutdown()
    del os.environ["PHYSML_MATERIALIZE_MB"]
    torch.set_num_threads(1)
    model = task.model(cfg)
    opt = torch.optim.Adam(model.parameters())
    t3 = time.perf_counter()
    for _ in range(steps):
        loss = task.loss(model, batch, cfg)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    train = steps * first / (time.perf_counter() - t3)
    return n, t1 - t0, (n - first) / max(t2 - t1, 1e-9), train
