"""A real three-node Ray cluster on this machine (head without CPUs + two 1-CPU worker nodes, each
with its own raylet and object store), running `physml simulate` and optionally killing a worker node
mid-run. Run by tests/platform/test_multinode.py in a subprocess, because one process can only be
connected to one Ray cluster and the test session shares its own.

Usage: python tests/platform/multinode.py OUT_DIR simulate       -> `simulate` (2 actors, one per worker
       node) into OUT_DIR/kill with a worker node killed mid-run; prints one JSON line of results;
       python tests/platform/multinode.py HOME run                -> `physml run` with 2 Train workers on
       two worker nodes (a third is spare), killing one of their nodes after the first checkpoint;
       python tests/platform/multinode.py HOME sweep              -> a sweep, the node of a trial killed;
       python tests/platform/multinode.py HOME driverkill         -> a sweep whose driver process is
       killed (SIGKILL) mid-sweep, then `physml sweep --resume` from a new driver process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

from physml.platform.data.shards import read_manifest
from physml.platform.simulate import simulate
from physml.tasks import SOURCES, TASKS, load
from physml.tasks.ising.params import IsingParams

PARAMS = IsingParams(
    L=(32,),
    temperatures=(2.0, 2.2, 2.4, 2.6),
    replicas=2,
    sweeps=60000,
    thermalize=100,
    every=50,
    algorithm="metropolis",
    seed=11,
)


def _killer(cluster: Cluster, node, out: str, report: dict) -> None:
    """Kill ``node`` (no graceful shutdown) once two shards are committed."""
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            shards = len(read_manifest(out)["shards"])
        except Exception:
            shards = 0
        if shards >= 2:
            report["shards_at_kill"] = shards
            cluster.remove_node(node, allow_graceful=False)
            report["killed_at_s"] = round(time.time() - report["t0"], 2)
            return
        time.sleep(0.05)


def _train_nodes() -> set[str]:
    from ray.util.state import list_actors

    return {
        a.node_id
        for a in list_actors(filters=[("state", "=", "ALIVE")], limit=1000)
        if "TrainWorker" in (a.class_name or "")
    }


def _kill_a_train_node(cluster: Cluster, home: Path, report: dict) -> None:
    """After the first epoch's checkpoint, kill (no graceful shutdown) a node hosting a Train worker."""
    deadline = time.time() + 300
    while time.time() < deadline and not list(home.glob("runs/*/*/epoch-0001")):
        time.sleep(0.1)
    hosts = _train_nodes()
    report["train_nodes"] = len(hosts)
    victim = next(n for n in cluster.worker_nodes if n.node_id in hosts)
    cluster.remove_node(victim, allow_graceful=False)
    report["killed_after"] = sorted(p.name for p in home.glob("runs/*/*/epoch-*"))[-1]


def _start(head_cpus: int, workers: int) -> tuple[Cluster, list]:
    """A head with ``head_cpus`` CPUs and ``workers`` one-CPU worker nodes, this process connected."""
    cluster = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": head_cpus})
    nodes = [cluster.add_node(num_cpus=1) for _ in range(workers)]
    cluster.wait_for_nodes()
    return cluster, nodes


def _kill_in_background(killer, cluster: Cluster, home: str) -> dict:
    """Run ``killer(cluster, home, report)`` in a thread; returns the report it fills."""
    os.environ["PHYSML_HOME"] = home
    report: dict = {}
    threading.Thread(target=killer, args=(cluster, Path(home), report), daemon=True).start()
    return report


def run_mode(home: str) -> None:
    """`physml run` on head (1 CPU, driver + Ray Data) + 3 one-CPU worker nodes, 2 workers of 1 CPU."""
    cluster, _ = _start(head_cpus=1, workers=3)
    report = _kill_in_background(_kill_a_train_node, cluster, home)
    from physml.platform.configs import resolve
    from physml.platform.run import run_task

    sets = ["train.workers=2", "train.cpus_per_worker=1.0", "train.epochs=6", "train.max_failures=1"]
    cfg = resolve("phases-supervised", "smoke", sets)
    task = load(TASKS["phases-supervised"])()
    res = run_task("phases-supervised", cfg, task, progress=False)
    report.update(run_id=res.run_id, test_acc=res.metrics.get("test/acc"))
    print("RESULT " + json.dumps(report), flush=True)
    ray.shutdown()
    cluster.shutdown()


def _kill_a_trial_node(cluster: Cluster, home: Path, report: dict) -> None:
    """Once a trial has finished and another has reported 1-3 of its 6 epochs, kill the latter's node
    (a trial further on may end before the kill lands, and then nothing would move)."""
    deadline = time.time() + 300
    while time.time() < deadline:
        files = list(home.glob("sweeps/*/*/physml-trials.json"))
        st = json.loads(files[0].read_text()) if files else {}
        running = [
            e
            for e in st.values()
            if e["status"] == "running"
            and e.get("node")  # epochs left to run
            and 1 <= e["metrics"].get("epoch", 0) <= 3
        ]
        if running and any(e["status"] == "finished" for e in st.values()):
            victim = next(n for n in cluster.worker_nodes if n.node_id == running[0]["node"])
            cluster.remove_node(victim, allow_graceful=False)
            report["killed_trial_epoch"] = running[0]["metrics"].get("epoch")
            return
        time.sleep(0.1)


def sweep_mode(home: str) -> None:
    """`physml sweep` (4 trials, 2 at a time, 1 CPU each) on 3 one-CPU worker nodes; a trial's node killed."""
    cluster, _ = _start(head_cpus=0, workers=3)
    report = _kill_in_background(_kill_a_trial_node, cluster, home)
    from physml.platform.sweep.driver import prepare, run_sweep

    sets = ["train.cpus_per_worker=1.0", "train.epochs=6", "train.max_failures=2"]
    req = prepare("phases-supervised", "smoke", sets, {"samples": 4, "max_concurrent": 2, "scheduler": "none"})
    res = run_sweep(req, progress=False, name="nodes")
    report.update(parent=res.parent_id, dir=res.dir, complete=res.complete)
    print("RESULT " + json.dumps(report), flush=True)
    ray.shutdown()
    cluster.shutdown()


def _kill_driver_mid_trial(driver: subprocess.Popen, status_file: Path) -> dict:
    """SIGKILL the sweep driver's process group once a trial has finished and another has reported an
    epoch; returns what was running and done at that moment."""
    deadline = time.time() + 300
    while time.time() < deadline and driver.poll() is None:
        st = json.loads(status_file.read_text()) if status_file.exists() else {}
        done = [t for t, e in st.items() if e["status"] == "finished"]
        mid = {t: e["metrics"].get("epoch", 0) for t, e in st.items() if e["status"] == "running"}
        if done and any(v >= 1 for v in mid.values()):
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
            return {"finished_at_kill": done, "running_at_kill": mid}
        time.sleep(0.2)
    raise RuntimeError(f"the sweep driver ended or stalled before the kill: {driver.stderr.read()[-2000:]}")


def driverkill_mode(home: str) -> None:
    """`physml sweep` (4 trials, 2 at a time) from a driver process on head + 2 one-CPU worker nodes;
    the driver is killed mid-sweep and a second driver process continues it with ``--resume``."""
    cluster, _ = _start(head_cpus=0, workers=2)
    os.environ["PHYSML_HOME"] = home
    cli = [sys.executable, "-m", "physml", "sweep", "phases-supervised"]
    first = cli + [
        "-c",
        "smoke",
        "--samples",
        "4",
        "--max-concurrent",
        "2",
        "--scheduler",
        "none",
        "--name",
        "killed",
        "--set",
        "train.epochs=6",
        "--set",
        "train.cpus_per_worker=1.0",
        "--no-progress",
        "--address",
        cluster.address,
    ]
    driver = subprocess.Popen(
        first, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    sweep_dir = Path(home) / "sweeps" / "phases-supervised" / "killed"
    report = _kill_driver_mid_trial(driver, sweep_dir / "physml-trials.json")
    resumed = subprocess.run(
        cli + ["--resume", str(sweep_dir), "--no-progress", "--address", cluster.address],
        capture_output=True,
        text=True,
        timeout=400,
    )
    report.update(
        resume_code=resumed.returncode,
        resume_err=resumed.stderr[-2000:],
        dir=str(sweep_dir),
        parent=json.loads((sweep_dir / "physml-sweep.json").read_text())["parent_id"],
    )
    print("RESULT " + json.dumps(report), flush=True)
    ray.shutdown()
    cluster.shutdown()


def _node_local_refused(out: str) -> str:
    """`physml run` on this cluster with a node-local PHYSML_HOME and without PHYSML_SHARED_FS: the
    error it stops with before doing anything ("" if it went on)."""
    from physml.config import ConfigError
    from physml.platform.configs import resolve
    from physml.platform.run import run_task

    os.environ.pop("PHYSML_SHARED_FS")
    os.environ["PHYSML_HOME"] = f"{out}-home"
    cfg = resolve("phases-supervised", "smoke", [])
    task = load(TASKS["phases-supervised"])()
    try:
        run_task("phases-supervised", cfg, task, progress=False)
        return ""
    except ConfigError as err:
        return str(err)
    finally:
        os.environ["PHYSML_SHARED_FS"] = "1"
        os.environ.pop("PHYSML_HOME")


def climate_s3_mode(bucket: str) -> None:
    """Three nodes (a head of 1 CPU for the driver and Ray Data, two 1-CPU workers) and nothing shared
    but an S3 bucket: `simulate climate` writes NetCDF files there, `run climate-segmentation` streams
    them (2 Train workers, one per worker node, each fed its own pieces) with PHYSML_HOME in the bucket
    too (checkpoints), and ends with one MLflow run."""
    import fsspec

    from physml.platform.configs import resolve
    from physml.platform.run import run_task
    from physml.tasks.climate.source import ClimateParams

    cluster, _ = _start(head_cpus=1, workers=2)
    os.environ.pop("PHYSML_SHARED_FS")  # an object store, not a shared filesystem
    os.environ.update(PHYSML_HOME=f"s3://{bucket}/home", PHYSML_MATERIALIZE_MB="0")  # stream, do not gather
    data = f"s3://{bucket}/climate"
    sim = simulate(SOURCES["climate"], (ClimateParams(grid="32x64", steps=48, seed=5),), data, progress=False)
    sets = [f'data.uri="{data}"', "train.workers=2", "train.cpus_per_worker=1.0", "train.epochs=2"]
    cfg = resolve("climate-segmentation", "smoke", sets)
    res = run_task("climate-segmentation", cfg, load(TASKS["climate-segmentation"])(), progress=False)
    fs = fsspec.filesystem("s3")
    report = {
        "sim_nodes": sim.stats.nodes,
        "files": len(fs.glob(f"{bucket}/climate/*.nc")),
        "checkpoints": sorted(
            p.rsplit("/", 1)[-1] for p in fs.glob(f"{bucket}/home/runs/climate-segmentation/*/epoch-*")
        ),
        "run_id": res.run_id,
        "mean_iou": res.metrics.get("test/mean_iou"),
        "train_nodes": len(cluster.worker_nodes),
    }
    print("RESULT " + json.dumps(report), flush=True)
    ray.shutdown()
    cluster.shutdown()


def main() -> None:
    out, mode = sys.argv[1], sys.argv[2]
    os.environ["PHYSML_SHARED_FS"] = "1"  # the nodes are on this machine: one filesystem
    if mode == "climate-s3":
        return climate_s3_mode(out)
    if mode == "run":
        return run_mode(out)
    if mode == "sweep":
        return sweep_mode(out)
    if mode == "driverkill":
        return driverkill_mode(out)
    cluster, workers = _start(head_cpus=0, workers=2)  # 2 actors of 1 CPU: one on each worker node
    reports = {"refused": _node_local_refused(f"{out}/kill")}
    where, report = f"{out}/kill", {"t0": time.time()}
    killer = threading.Thread(target=_killer, args=(cluster, workers[0], where, report), daemon=True)
    killer.start()
    res = simulate(SOURCES["ising"], (PARAMS,), where, actors=2, progress=False, command="multinode test")
    killer.join(timeout=5)
    s = res.stats
    report.update(
        nodes=s.nodes,
        actors=s.actors,
        actor_failures=s.actor_failures,
        seconds=round(s.seconds, 1),
        complete=read_manifest(where)["complete"],
    )
    report.pop("t0")
    reports["kill"] = report
    print("RESULT " + json.dumps(reports), flush=True)
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main()
