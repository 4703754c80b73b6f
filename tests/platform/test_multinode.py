"""Several real Ray nodes on this machine: `simulate` spreads its chain actors over two worker nodes
and survives one of them being killed mid-run, with exactly the rows of a single-node run; `run`
refuses node-local storage on that cluster."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from physml.platform.data.ensemble import run_ensemble
from physml.platform.data.shards import DatasetWriter, read_manifest, read_table
from physml.tasks import SOURCES
from physml.tasks.ising.sampler import IsingSampler

sys.path.insert(0, str(Path(__file__).parent))
from multinode import PARAMS

from tests.platform.test_remote import s3  # noqa: F401  (the moto S3 server fixture)

SCRIPT = Path(__file__).with_name("multinode.py")


def _scenario(tmp_path: Path, mode: str, target: str = "") -> dict:
    """Run a multi-node scenario of multinode.py in its own process; returns its report."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("RAY_ADDRESS", None)
    target = target or tmp_path / ("home" if mode in ("run", "sweep", "driverkill") else mode)
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(target), mode],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return {**json.loads(lines[-1][len("RESULT ") :]), "stderr": proc.stderr}


def _rows(uri: str):
    return read_table(uri, where={"L": 32}).sort_by([("chain", "ascending"), ("sweep", "ascending")])


@pytest.mark.usefixtures("ray_cluster")
def test_simulate_spreads_over_two_nodes_and_survives_one_killed(tmp_path):
    s = IsingSampler(PARAMS)
    ref = str(tmp_path / "single")
    run_ensemble(
        SOURCES["ising"],
        (PARAMS,),
        DatasetWriter(ref, s.kind, s.manifest_params(), PARAMS.seed, "t"),
        actors=2,
        progress=False,
    )
    expected = _rows(ref)
    assert expected.num_rows == 8 * 1200
    report = _scenario(tmp_path, "simulate")  # a 3-node cluster, a worker node killed mid-run
    killed, sim = report["kill"], tmp_path / "simulate"
    # on the 3-node cluster, node-local storage is refused before anything runs
    assert report["refused"].startswith(
        f"PHYSML_HOME = {sim / 'kill'}-home is node-local, but the Ray cluster has 3 nodes"
    ), report["refused"]
    assert not (sim / "kill-home").exists()
    assert killed["nodes"] == 2 and killed["actors"] == 2  # spread over both worker nodes
    total = len(read_manifest(ref)["shards"])
    assert 2 <= killed["shards_at_kill"] < total, killed
    assert killed["actor_failures"] >= 1 and killed["complete"], killed
    got = _rows(str(sim / "kill"))
    assert got.num_rows == expected.num_rows and got.equals(expected)  # nothing lost, nothing twice
    assert len(read_manifest(str(sim / "kill"))["shards"]) == total


@pytest.mark.slow
def test_run_with_two_workers_on_two_nodes_survives_a_node_kill(tmp_path):
    """`physml run` with 2 Train workers on two 1-CPU nodes (a third is spare): one of their nodes is
    killed after the first checkpoint; Ray Train restarts the group from the last checkpoint
    (train.max_failures = 1) and the run ends with every epoch logged once, in one MLflow run."""
    import mlflow

    report = _scenario(tmp_path, "run")
    assert report["train_nodes"] == 2 and report["killed_after"] < "epoch-0006"
    assert "[FailurePolicy] RETRY" in report["stderr"]
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs(
        [client.get_experiment_by_name("phases-supervised").experiment_id], "tags.`physml.kind` = 'train'"
    )
    assert [r.info.run_id for r in runs] == [report["run_id"]] and runs[0].info.status == "FINISHED"
    assert sorted(m.step for m in client.get_metric_history(report["run_id"], "val/acc")) == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow  # ~60 s; `make test` keeps the node kill during `simulate` and the driver kill of a sweep
def test_sweep_spreads_trials_over_nodes_and_retries_a_killed_one(tmp_path):
    """4 trials, 2 at a time, on three 1-CPU worker nodes; the node of a running trial is killed
    after another trial finished: Tune retries it from its last checkpoint elsewhere
    (train.max_failures = 2) and the sweep completes with every trial's epochs logged once."""
    import mlflow

    report = _scenario(tmp_path, "sweep")
    assert report["complete"] and report["killed_trial_epoch"] >= 1
    status = json.loads((Path(report["dir"]) / "physml-trials.json").read_text())
    assert len(status) == 4 and all(e["status"] == "finished" for e in status.values())
    assert len({n for e in status.values() for n in e["nodes"]}) >= 2  # trials ran on several nodes
    moved = [e for e in status.values() if len(e["nodes"]) == 2]
    assert len(moved) == 1  # the killed trial finished on another node
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert client.get_run(report["parent"]).info.status == "FINISHED"
    assert sorted(m.step for m in client.get_metric_history(moved[0]["run_id"], "val/acc")) == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow  # ~70 s; make test keeps the node kill during `simulate` and the same driver kill on one node
def test_sweep_driver_killed_on_a_cluster_and_resumed_by_a_new_driver(tmp_path):
    """Head + two 1-CPU worker nodes; the sweep's driver process (joined by --address) is SIGKILLed
    after one trial finished and another reported an epoch; `physml sweep --resume` from a new process
    keeps the finished trials, continues the interrupted ones from their checkpoints on the workers,
    and completes the same parent run: 4 child runs, each epoch logged once, none left RUNNING."""
    import mlflow

    report = _scenario(tmp_path, "driverkill")
    assert report["resume_code"] == 0, report["resume_err"]
    assert len(report["finished_at_kill"]) < 4 and max(report["running_at_kill"].values()) >= 1
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    status = json.loads((Path(report["dir"]) / "physml-trials.json").read_text())
    assert len(status) == 4 and all(e["status"] == "finished" for e in status.values())
    kids = client.search_runs(
        [client.get_run(report["parent"]).info.experiment_id], f"tags.mlflow.parentRunId = '{report['parent']}'"
    )
    assert len(kids) == 4 and all(k.info.status == "FINISHED" for k in kids)
    for k in kids:
        assert sorted(m.step for m in client.get_metric_history(k.info.run_id, "val/acc")) == [1, 2, 3, 4, 5, 6]
    assert client.get_run(report["parent"]).info.status == "FINISHED"
    assert len({n for e in status.values() for n in e["nodes"]}) == 2  # trials ran on both worker nodes


@pytest.mark.usefixtures("s3")
def test_climate_run_on_three_nodes_shares_nothing_but_s3(tmp_path):
    """`simulate climate` and `run climate-segmentation` (2 Train workers on two worker nodes, the data
    streamed from NetCDF files on S3, each worker its own pieces, PHYSML_HOME on S3) on a 3-node
    cluster; one MLflow run."""
    import mlflow

    report = _scenario(tmp_path, "climate-s3", target="physml")
    assert report["files"] == 6 and report["sim_nodes"] >= 2  # 48 steps in files of 8, made on both workers
    assert report["checkpoints"] == ["epoch-0001", "epoch-0002"]
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("climate-segmentation")
    runs = client.search_runs([exp.experiment_id], "tags.`physml.kind` = 'train'")
    assert [r.info.run_id for r in runs] == [report["run_id"]] and runs[0].info.status == "FINISHED"
    assert 0 <= report["mean_iou"] <= 1
    # each worker streamed its own pieces: both got rows, and their sum is the training split's 32 rows
    # (4 pieces of 8 steps; a piece read by both workers would make it more)
    m = runs[0].data.metrics
    assert m["train/rows_worker0"] > 0 and m["train/rows_worker1"] > 0
    assert m["train/rows_worker0"] + m["train/rows_worker1"] == m["train/rows"] == 32
