"""prostate through the platform (shared local Ray): `simulate prostate` into memory:// with the
PROMISE12 files kept, resume; a smoke run; `evaluate` on the PROMISE12-layout directory."""

import mlflow
import pytest

from physml.cli import main
from physml.platform.data.shards import read_manifest, read_table
from physml.tasks.prostate.volumes import find_cases

pytestmark = pytest.mark.usefixtures("ray_cluster")


def test_simulate_run_and_evaluate_a_promise12_directory(workdir, capsys):
    raw, uri = workdir / "promise12", "memory://prostate/sim"
    cmd = [
        "simulate",
        "prostate",
        "--cases",
        "5",
        "--sites",
        "BD",
        "--size",
        "32",
        "--spacing",
        "4",
        "--raw",
        str(raw),
        "--out",
        uri,
        "--no-progress",
    ]
    assert main(cmd) == 0
    assert "5 items (5 made now" in capsys.readouterr().out
    m = read_manifest(uri)
    assert (
        m["complete"]
        and m["kind"] == "prostate"
        and sorted(s["case"] for s in m["shards"]) == [f"Case{i:02d}" for i in range(5)]
    )
    table = read_table(uri, columns=["case", "site", "slice", "slices"])
    per_case = {c: table.column("case").to_pylist().count(c) for c in set(table.column("case").to_pylist())}
    sites = dict(zip(table.column("case").to_pylist(), table.column("site").to_pylist()))
    assert sites == {"Case00": "B", "Case01": "D", "Case02": "B", "Case03": "D", "Case04": "B"}
    assert all(
        n == table.column("slices").to_pylist()[table.column("case").to_pylist().index(c)] for c, n in per_case.items()
    )
    assert [c[0] for c in find_cases(raw)] == [f"Case{i:02d}" for i in range(5)]
    assert main(cmd) == 0  # resumes: nothing left to make
    assert "5 items (0 made now" in capsys.readouterr().out

    assert main(["run", "prostate", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    rid = capsys.readouterr().out.split("MLflow run ")[1].split()[0]
    run = mlflow.get_run(rid)
    assert {"test/dsc", "test/dsc_min", "test/cases", "val/dsc", "train/epoch_soft_dice"} <= set(run.data.metrics)
    assert run.data.metrics["test/cases"] == 2.0
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
    assert {"plots/overlays.png", "plots/dsc_per_case.png", "plots/dsc_per_case.csv"} <= plots

    # a PROMISE12-layout directory is converted on the model's grid (4 mm, 32 px) and every case scored
    assert main(["evaluate", "prostate", "--model", f"runs:/{rid}/model", "--data", str(raw)]) == 0
    out = capsys.readouterr().out
    assert "test/cases                   5" in out and "test/dsc" in out
