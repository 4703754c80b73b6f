"""Remote storage for real: an S3-compatible server (moto, on 127.0.0.1) holds shards that are written,
killed, resumed and read back; an MLflow tracking server (`mlflow server`, PostgreSQL backend, SQLite
where PostgreSQL is not installed) stores a training run's artefacts in the same bucket."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.platform.postgres import backend_store

pytestmark = pytest.mark.usefixtures("ray_cluster")
BUCKET = "physml"
SIM = [
    "--L",
    "16",
    "--temperatures",
    "2.0,2.4",
    "--replicas",
    "2",
    "--sweeps",
    "500000",
    "--thermalize",
    "100",
    "--every",
    "250",
    "--algorithm",
    "metropolis",
    "--seed",
    "3",
]


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on a free loopback port; AWS_* variables point boto/s3fs at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "MLFLOW_S3_ENDPOINT_URL": f"http://{host}:{port}",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import boto3

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    yield env
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()


def _sorted(table):
    return table.sort_by([("chain", "ascending"), ("sweep", "ascending")])


def test_shards_on_s3_survive_a_killed_writer_and_read_back(s3, tmp_path, ray_cluster):
    """The writer (the driver: actors only compute) joins the session's Ray and is SIGKILLed after its
    first shard; a second run resumes the dataset in the bucket to exactly a local run's rows."""
    import fsspec

    from physml.cli import main
    from physml.platform.data.shards import read_manifest, read_table

    uri = f"s3://{BUCKET}/ising-killed"
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "physml",
            "simulate",
            "ising",
            *SIM,
            "--out",
            uri,
            "--no-progress",
            "--actors",
            "2",
            "--address",
            ray_cluster["address"],
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    fs, deadline = fsspec.filesystem("s3"), time.time() + 240
    while True:
        fs.invalidate_cache()  # s3fs caches listings: look at the bucket as it is now
        if fs.exists(f"{BUCKET}/ising-killed/manifest.json") and read_manifest(uri)["shards"]:
            break
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read().decode()[-2000:]
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not read_manifest(uri)["complete"]
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    try:
        assert main(["simulate", "ising", *SIM, "--out", uri, "--no-progress"]) == 0  # resumes
        assert main(["simulate", "ising", *SIM, "--out", str(tmp_path / "local"), "--no-progress"]) == 0
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI")
    remote, local = _sorted(read_table(uri)), _sorted(read_table(str(tmp_path / "local")))
    assert read_manifest(uri)["complete"] and remote.num_rows == 4 * 2000
    assert remote.equals(local)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mlflow_server_keeps_a_runs_artefacts_in_the_bucket(s3, tmp_path, monkeypatch):
    """`mlflow server` with a PostgreSQL backend store (SQLite where PostgreSQL is not installed) and
    the bucket as artefact store: a run lands in both."""
    with backend_store(tmp_path) as store:
        run_id = _run_on_server(store, tmp_path, monkeypatch)
        if store.startswith("postgresql://"):
            import psycopg

            with psycopg.connect(store) as conn, conn.cursor() as cur:
                cur.execute("SELECT status FROM runs WHERE run_uuid = %s", (run_id,))
                assert cur.fetchall() == [("FINISHED",)]


def _run_on_server(store: str, tmp_path, monkeypatch) -> str:
    import fsspec

    from physml.cli import main

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            store,
            "--artifacts-destination",
            f"s3://{BUCKET}/mlflow",
            "--serve-artifacts",
            "--workers",
            "1",
        ],
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, server.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("PHYSML_HOME", str(tmp_path / "home"))
        monkeypatch.chdir(tmp_path)
        assert (
            main(
                [
                    "run",
                    "phases-supervised",
                    "-c",
                    "smoke",
                    "--set",
                    "train.epochs=1",
                    "--set",
                    'train.runner="local"',
                    "--no-progress",
                ]
            )
            == 0
        )
        body = json.dumps({"experiment_ids": [], "max_results": 10}).encode()
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/get-by-name?experiment_name=phases-supervised",
            timeout=10,
        ) as r:
            exp_id = json.load(r)["experiment"]["experiment_id"]
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search",
            data=body.replace(b"[]", f'["{exp_id}"]'.encode()),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            runs = json.load(r)["runs"]
        assert [run["info"]["status"] for run in runs] == ["FINISHED"]
        run_id = runs[0]["info"]["run_id"]
        keys = fsspec.filesystem("s3").find(f"{BUCKET}/mlflow")
        assert any(k.endswith(f"{run_id}/artifacts/model/state_dict.pt") for k in keys), keys[:20]
        assert any(k.endswith(f"{run_id}/artifacts/plots/p_ordered.png") for k in keys)
        assert not (tmp_path / "mlruns").exists()  # nothing fell back to the local store
        return run_id
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


HOME_SCRIPT = """
import sys
import mlflow
from physml.cli import main
from physml.platform.data import storage
run = ["run", "phases-supervised", "-c", "smoke", "--no-progress"]
codes = [main(run + ["--set", "train.epochs=2"]),  # Ray Train, then the local runner from its checkpoints
         main(run + ["--set", "train.epochs=3", "--set", 'train.runner="local"', "--resume", "last"])]
rid = mlflow.search_runs(experiment_names=["phases-supervised"], output_format="list")[0].info.run_id
data = storage.parent(storage.glob(storage.join(storage.home(), "cache", "*", "manifest.json"))[0])
codes.append(main(["evaluate", "phases-supervised", "--model", f"runs:/{rid}/model", "--data", data]))
codes.append(main(["sweep", "phases-supervised", "-c", "smoke", "--no-progress", "--name", "s3sweep", "--samples", "2",
                   "--scheduler", "none", "--set", "train.epochs=1"]))
codes.append(main(["sweep", "phases-supervised", "--status"]))
print("codes", codes)
sys.exit(max(codes))
"""


@pytest.mark.slow  # ~110 s; make test keeps shards on s3:// (killed and resumed) and MLflow artefacts there
def test_physml_home_in_the_bucket_holds_cache_checkpoints_sweeps_and_figures(s3, tmp_path):
    """PHYSML_HOME = s3://...: the simulated cache, Ray Train checkpoints (a run resumed by the local
    runner continues from them and writes its own there), an evaluation's figures and a sweep's Tune
    state and status all live in the bucket; nothing
    is written to the working directory but the MLflow store. Its own process, so that Ray's workers
    start with the S3 endpoint in their environment."""
    import fsspec
    import mlflow

    home = f"s3://{BUCKET}/home"
    env = {**os.environ, "PHYSML_HOME": home, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.run(
        [sys.executable, "-c", HOME_SCRIPT], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    keys = fs.find(f"{BUCKET}/home")
    client = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"])
    exp = client.get_experiment_by_name("phases-supervised")
    runs = client.search_runs([exp.experiment_id], "tags.`physml.kind` = 'train'")
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"  # resumed, not a second run
    rid = runs[0].info.run_id
    assert [m.step for m in client.get_metric_history(rid, "val/acc")] == [1, 2, 3]
    assert any(k.startswith(f"{BUCKET}/home/cache/") and k.endswith("/manifest.json") for k in keys)
    assert any(
        f"/home/runs/phases-supervised/{rid}/" in k and "epoch-0003" in k and k.endswith("state.pt") for k in keys
    ), [k for k in keys if "/runs/" in k][:20]
    ev = client.search_runs([exp.experiment_id], "tags.`physml.kind` = 'evaluate'")[0].info.run_id
    assert f"{BUCKET}/home/evaluations/{ev}/p_ordered.png" in keys
    sweep = f"{BUCKET}/home/sweeps/phases-supervised/s3sweep"
    assert {f"{sweep}/physml-sweep.json", f"{sweep}/physml-trials.json"} <= set(keys)
    assert any(k.startswith(f"{sweep}/tune/") for k in keys)
    trials = json.loads(fs.cat(f"{sweep}/physml-trials.json"))
    assert sorted(t["status"] for t in trials.values()) == ["finished", "finished"]
    assert "2 finished" in proc.stdout  # `physml sweep --status` found the latest sweep in the bucket
    assert not (tmp_path / "physml-data").exists()
