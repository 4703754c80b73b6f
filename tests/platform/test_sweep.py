"""`physml sweep` end to end on the shared local Ray with a tmp MLflow store: nested runs, the UI's
REST API, grids and tables run exactly, ASHA stopping, failed trials, and resume after a killed driver."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mlflow
import pytest

from physml.cli import main

pytestmark = pytest.mark.usefixtures("ray_cluster")
SMOKE = ["sweep", "phases-supervised", "-c", "smoke", "--no-progress"]


@pytest.fixture(scope="module")
def home(tmp_path_factory, empty_store):
    """One PHYSML_HOME (the smoke data is simulated once) and one MLflow store for the module."""
    import shutil

    root = tmp_path_factory.mktemp("sweeps")
    shutil.copyfile(empty_store, root / "mlflow.db")
    old = {k: os.environ.get(k) for k in ("PHYSML_HOME", "MLFLOW_TRACKING_URI")}
    os.environ["PHYSML_HOME"] = str(root / "home")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    yield root
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _sweep_file(path: Path, text: str) -> str:
    path.write_text('base = "smoke"\n' + text)
    return str(path)


def _children(parent: str) -> list:
    exp = mlflow.get_experiment_by_name("phases-supervised")
    return mlflow.MlflowClient().search_runs(
        [exp.experiment_id], f"tags.mlflow.parentRunId = '{parent}'", max_results=100
    )


def _parent(out: str) -> str:
    return out.split("MLflow parent run ")[1].split()[0]


def _steps(run_id: str, key: str) -> list[int]:
    return sorted(m.step for m in mlflow.MlflowClient().get_metric_history(run_id, key))


def test_optuna_sweep_nested_runs_and_the_ui_rest_api(home, capsys, tmp_path):
    argv = SMOKE + [
        "--samples",
        "4",
        "--max-concurrent",
        "2",
        "--scheduler",
        "none",
        "--set",
        "train.cpus_per_worker=1.0",
        "--set",
        "train.epochs=1",
    ]
    assert main(argv) == 0
    parent = _parent(capsys.readouterr().out)
    client = mlflow.MlflowClient()
    prun = client.get_run(parent)
    assert prun.info.status == "FINISHED" and prun.data.tags["physml.kind"] == "sweep"
    assert prun.data.params["sweep.concurrent"] == "2" and prun.data.params["sweep.runner"] == "inline"
    kids = _children(parent)
    assert len(kids) == 4 and all(k.info.status == "FINISHED" for k in kids)
    assert len({k.data.tags["physml.trial_id"] for k in kids}) == 4
    # the sampled values are the trials' configs, within the task's default space
    lrs = [float(k.data.params["train.lr"]) for k in kids]
    assert len(set(lrs)) == 4 and all(1e-4 <= lr <= 1e-2 for lr in lrs)
    assert {k.data.params["model.channels"] for k in kids} <= {"8", "16", "32"}
    for k in kids:
        assert _steps(k.info.run_id, "val/acc") == [1]
        assert {"test/acc", "test/loss"} <= set(k.data.metrics)
        arts = {a.path for a in client.list_artifacts(k.info.run_id, "model")}
        assert "model/state_dict.pt" in arts
    arts = {a.path for d in (None, "plots") for a in client.list_artifacts(parent, d)}
    assert {
        "results.csv",
        "best_config.toml",
        "plots/optimization_history.png",
        "plots/parallel_coordinates.png",
        "plots/param_importances.png",
    } <= arts
    csv_text = Path(
        mlflow.artifacts.download_artifacts(f"runs:/{parent}/results.csv", dst_path=str(tmp_path))
    ).read_text()
    assert len(csv_text.strip().splitlines()) == 5
    best = {k.info.run_id: k.data.metrics["val/acc"] for k in kids}  # two trials may tie on a small val split
    assert best[prun.data.tags["physml.best_run_id"]] == max(best.values())
    _check_ui(home, parent)


def _check_ui(home: Path, parent: str) -> None:
    """`physml ui` on a free loopback port, on the local store of its working directory: the page, and
    the parent and nested runs read back through the REST API the UI itself calls."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # without MLFLOW_TRACKING_URI, in the directory of the module's store: the default local store
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "physml", "ui", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/2.0/mlflow"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/runs/get?run_id={parent}", timeout=2) as r:
                    got = json.load(r)["run"]
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:  # the output once it has stopped
                    os.killpg(proc.pid, signal.SIGKILL)
                    pytest.fail(f"physml ui did not answer: {proc.communicate()[0].decode()[-2000:]}")
                time.sleep(0.5)
        assert got["info"]["status"] == "FINISHED"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200  # the UI's page itself
        body = json.dumps(
            {"experiment_ids": [got["info"]["experiment_id"]], "filter": f"tags.mlflow.parentRunId = '{parent}'"}
        ).encode()
        req = urllib.request.Request(f"{base}/runs/search", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            runs = json.load(r)["runs"]
        assert len(runs) == 4
        assert all(any(m["key"] == "val/acc" for m in run["data"]["metrics"]) for run in runs)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_table_and_grid_run_exactly_and_asha_stops_the_bad_trials(home, capsys, tmp_path):
    f = _sweep_file(
        tmp_path / "s.toml",
        '[train]\nepochs = 4\noptimizer = "sgd"\n[sweep]\nmetric = "val/loss"\n'
        'max_concurrent = 1\n[sweep.space]\n"model.hidden" = {grid = [8, 16]}\n'
        '[[sweep.table]]\n"train.lr" = 0.05\n"model.channels" = 4\n'
        '[[sweep.table]]\n"train.lr" = 1e-9\n"model.channels" = 6\n',
    )
    assert main(["sweep", "phases-supervised", "-c", f, "--no-progress"]) == 0
    kids = _children(_parent(capsys.readouterr().out))
    got = sorted(
        (k.data.params["train.lr"], k.data.params["model.channels"], k.data.params["model.hidden"]) for k in kids
    )
    assert got == sorted([("0.05", "4", "8"), ("0.05", "4", "16"), ("1e-09", "6", "8"), ("1e-09", "6", "16")])
    bad = [k for k in kids if k.data.params["train.lr"] == "1e-09"]
    early = [k for k in bad if k.data.tags.get("physml.stopped_early") == "true"]
    assert early, "ASHA stopped no trial with lr = 1e-9"
    assert all(len(_steps(k.info.run_id, "val/loss")) < 4 for k in early)
    good = [k for k in kids if k.data.params["train.lr"] == "0.05"]
    # the trial that runs first (good, in table order) is never stopped: it has every epoch and the test
    assert any(_steps(k.info.run_id, "val/loss") == [1, 2, 3, 4] and "test/acc" in k.data.metrics for k in good)


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(home, capsys, tmp_path):
    f = _sweep_file(
        tmp_path / "s.toml",
        '[train]\nepochs = 1\noptimizer = "sgd"\n[sweep]\nscheduler = "none"\n'
        '[[sweep.table]]\n"train.lr" = 0.01\n[[sweep.table]]\n"train.lr" = 1e30\n',
    )
    assert main(["sweep", "phases-supervised", "-c", f, "--no-progress"]) == 0
    out = capsys.readouterr().out
    kids = {k.data.params["train.lr"]: k for k in _children(_parent(out))}
    assert kids["0.01"].info.status == "FINISHED"
    assert kids["1e+30"].info.status == "FAILED"
    assert "non-finite loss" in kids["1e+30"].data.tags["physml.error"]
    assert mlflow.get_run(_parent(out)).info.status == "FINISHED"
    assert "failed" in out and "non-finite loss" in out


def test_resume_after_the_driver_is_killed(home, capsys, ray_cluster):
    name = "killed"
    sweep_dir = home / "home" / "sweeps" / "phases-supervised" / name
    argv = (
        [sys.executable, "-m", "physml"]
        + SMOKE[:4]
        + [
            "--samples",
            "3",
            "--max-concurrent",
            "1",
            "--scheduler",
            "none",
            "--set",
            "train.epochs=4",
            "--name",
            name,
            "--no-progress",
            "--address",
            ray_cluster["address"],
        ]
    )
    proc = subprocess.Popen(
        argv, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    status_file = sweep_dir / "physml-trials.json"
    deadline = time.time() + 240
    while True:  # kill once one trial is finished and the next one has reported an epoch
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert time.time() < deadline, "the sweep did not progress"
        st = json.loads(status_file.read_text()) if status_file.exists() else {}
        done = [t for t, e in st.items() if e["status"] == "finished"]
        mid = [t for t, e in st.items() if e["status"] == "running" and e["metrics"].get("epoch", 0) >= 1]
        if done and mid:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    parent = json.loads((sweep_dir / "physml-sweep.json").read_text())["parent_id"]
    first = {k.data.tags["physml.trial_id"]: k for k in _children(parent)}
    finished_before = {t: first[t].info.end_time for t in done}
    assert main(["sweep", "--status", str(sweep_dir)]) == 0
    assert "interrupted" in capsys.readouterr().out
    assert main(["sweep", "phases-supervised", "--resume", str(sweep_dir), "--no-progress"]) == 0
    kids = _children(parent)
    assert len(kids) == 3 and len({k.data.tags["physml.trial_id"] for k in kids}) == 3
    assert all(k.info.status == "FINISHED" for k in kids)
    for k in kids:  # every epoch logged once: finished trials were not re-run, the killed one continued
        assert _steps(k.info.run_id, "val/loss") == [1, 2, 3, 4]
        tid = k.data.tags["physml.trial_id"]
        if tid in finished_before:
            assert k.info.end_time == finished_before[tid]
    assert mlflow.get_run(parent).info.status == "FINISHED"
    assert main(["sweep", "--status", str(sweep_dir)]) == 0
    assert "3 finished" in capsys.readouterr().out


def test_two_metrics_make_a_multi_objective_search(home, capsys, tmp_path):
    argv = SMOKE + [
        "--samples",
        "2",
        "--set",
        "train.epochs=1",
        "--metric",
        "val/acc",
        "val/loss",
        "--mode",
        "max",
        "min",
    ]
    assert main(argv) == 0
    parent = _parent(capsys.readouterr().out)
    run = mlflow.get_run(parent)
    assert run.data.params["sweep.metric"] == "['val/acc', 'val/loss']"
    assert len(_children(parent)) == 2
    rows = Path(mlflow.artifacts.download_artifacts(f"runs:/{parent}/results.csv", dst_path=str(tmp_path)))
    header, *lines = rows.read_text().strip().splitlines()
    assert "pareto" in header.split(",") and len(lines) == 2
    assert any(line.split(",")[header.split(",").index("pareto")] == "True" for line in lines)
