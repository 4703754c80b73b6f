"""A real three-node Ray cluster on this machine (head without CPUs + two 1-CPU worker nodes, each
with its own raylet and object store), running `physml simulate` and optionally killing a worker node
mid-run. Run by tests/platform/test_multinode.py in a subprocess, because one process can only be
connected to one Ray cluster and the test session shares its own.

Usage: python tests/platform/multinode.py OUT_URI kill|nokill  -> prints one JSON line of results.
"""
from __future__ import annotations

import json
import sys
import threading
import time

import ray
from ray.cluster_utils import Cluster

from physml.platform.data import read_manifest
from physml.platform.simulate import simulate
from physml.tasks import SAMPLERS
from physml.tasks.ising.params import IsingParams

PARAMS = IsingParams(L=(32,), temperatures=(2.0, 2.2, 2.4, 2.6), replicas=2, sweeps=60000, thermalize=100,
                     every=50, algorithm="metropolis", seed=11)


def _killer(cluster: Cluster, node, out: str, report: dict) -> None:
    """Kill ``node`` (no graceful shutdown) once two shards are committed."""
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            shards = len(read_manifest(out)["shards"])
        except Exception:  # noqa: BLE001 - the manifest does not exist yet
            shards = 0
        if shards >= 2:
            report["shards_at_kill"] = shards
            cluster.remove_node(node, allow_graceful=False)
            report["killed_at_s"] = round(time.time() - report["t0"], 2)
            return
        time.sleep(0.05)


def main() -> None:
    out, mode = sys.argv[1], sys.argv[2]
    cluster = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": 0})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    report: dict = {"t0": time.time()}
    killer = None
    if mode == "kill":
        killer = threading.Thread(target=_killer, args=(cluster, workers[0], out, report), daemon=True)
        killer.start()
    res = simulate(SAMPLERS["ising"], (PARAMS,), out, actors=2, progress=False, command="multinode test")
    if killer is not None:
        killer.join(timeout=5)
    s = res.stats
    report.update(nodes=s.nodes, actors=s.actors, actor_failures=s.actor_failures, seconds=round(s.seconds, 1),
                  complete=read_manifest(out)["complete"])
    report.pop("t0")
    print("RESULT " + json.dumps(report), flush=True)
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main()
