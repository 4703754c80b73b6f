"""Parallel efficiency of the Ray ensemble: 2 actors x 1 chain against 1 actor x 1 chain.

Each chain does the same work, so ideal scaling gives equal wall times; efficiency = t(1x1) / t(2x1).
Run: `.venv/bin/python -m benchmarks.ensemble_scaling [--sweeps N]`.
"""

from __future__ import annotations

import argparse
import time
import uuid

from physml.platform import cluster
from physml.platform.data.ensemble import run_ensemble
from physml.platform.data.shards import DatasetWriter
from physml.tasks import SOURCES
from physml.tasks.ising.params import IsingParams
from physml.tasks.ising.sampler import IsingSampler


def timed(replicas: int, actors: int, sweeps: int) -> float:
    p = IsingParams(
        L=(128,),
        temperatures=(2.269,),
        replicas=replicas,
        sweeps=sweeps,
        thermalize=0,
        every=sweeps // 4,
        algorithm="checkerboard",
        seed=1,
    )
    s = IsingSampler(p)
    w = DatasetWriter(f"memory://bench/{uuid.uuid4().hex}", s.kind, s.manifest_params(), 1, "bench")
    t0 = time.perf_counter()
    run_ensemble(SOURCES["ising"], (p,), w, actors=actors, progress=False)
    return time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sweeps", type=int, default=20000)
    a = ap.parse_args(argv)
    cluster.connect()
    timed(1, 1, 40)  # warm-up: actor start, kernel cache load
    t1 = min(timed(1, 1, a.sweeps) for _ in range(2))
    t2 = min(timed(2, 2, a.sweeps) for _ in range(2))
    print(
        f"1 actor x 1 chain: {t1:.2f} s; 2 actors x 1 chain: {t2:.2f} s; parallel efficiency "
        f"{t1 / t2:.1%} (target >= 85%)"
    )


if __name__ == "__main__":
    main()
