"""jets and jets-anomaly through the platform (shared local Ray): smoke runs of the CNN tagger and of
the autoencoder trained on QCD only (one Pythia dataset, simulated once and cached), `physml evaluate`,
and evaluation data with QCD jets only refused."""

import mlflow
import pytest

from physml.cli import main
from physml.platform.data.shards import DatasetWriter
from physml.tasks.jets.source import JetParams, JetsSource

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _run_id(out: str) -> str:
    return out.split("MLflow run ")[1].split()[0]


def _data_uri(out: str) -> str:
    return out.split("data: ")[-1].split()[0]


def test_smoke_runs_of_both_tasks_and_evaluate(workdir, capsys):
    assert main(["run", "jets", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    out = capsys.readouterr().out
    rid, uri = _run_id(out), _data_uri(out)
    metrics = mlflow.get_run(rid).data.metrics
    want = {
        "test/auc",
        "test/rejection30",
        "test/baseline_auc",
        "test/baseline_rejection30",
        "test/mass_jsd",
        "val/auc",
        "train/epoch_loss",
    }
    assert want <= set(metrics)
    assert 0.0 <= metrics["test/auc"] <= 1.0 and metrics["test/rejection30"] >= 1.0
    assert metrics["test/baseline_auc"] > 0.7  # the mass window + tau32 separates tops from QCD jets
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
    assert {"plots/roc.png", "plots/jet-images.png", "plots/scores.csv"} <= plots

    # the autoencoder on QCD jets only, same (cached) dataset
    assert main(["run", "jets-anomaly", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert _data_uri(out) == uri
    ae = mlflow.get_run(_run_id(out)).data.metrics
    assert {"test/auc", "test/rejection30", "train/epoch_loss"} <= set(ae)

    # `physml evaluate` on the dataset it was trained on (all rows)
    assert main(["evaluate", "jets", "--model", f"runs:/{rid}/model", "--data", uri]) == 0
    assert "test/auc" in capsys.readouterr().out

    # QCD-only data cannot give an AUC
    src = JetsSource(JetParams(n=4, processes=("qcd",)))
    w = DatasetWriter(str(workdir / "qcd-only"), "jets", src.manifest_params(), 0, "test")
    item = src.items()[0]
    w.commit([w.put_shard(item["path"], src.make(item), process="qcd", chunk=0)], complete=True)
    assert main(["evaluate", "jets", "--model", f"runs:/{rid}/model", "--data", str(workdir / "qcd-only")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("physml: error:") and "one class only" in last


def test_jet_files_train_and_evaluate_in_place_and_converted(workdir, capsys, monkeypatch):
    """The top-tagging HDF5 layout and Delphes-like ROOT files, without conversion (Ray Train streams
    the pieces through the datasource) and after `physml convert jets`: both train and evaluate, and
    evaluating the same files read either way gives the same metrics (the same rows)."""
    from tests.tasks.jet_files import write_delphes, write_toptagging

    write_toptagging(workdir / "train.h5", 2000, size=20)
    (workdir / "delphes").mkdir()
    write_delphes(workdir / "delphes" / "ttbar.root", 150, top=True, seed=1)
    write_delphes(workdir / "delphes" / "qcd.root", 150, top=False, seed=2)
    pfn = ["-c", "smoke", "--set", 'model.kind="pfn"', "--set", "model.constituents=20", "--no-progress"]
    pfn += ["--set", "train.epochs=4"]

    def learnt(m: dict) -> bool:  # better than chance by more than 5 bootstrap standard errors
        return m["test/auc"] - 0.5 > 5 * m["test/auc_se"]

    monkeypatch.setenv("PHYSML_MATERIALIZE_MB", "0")  # stream: one Ray Data read task per piece
    assert main(["run", "jets", *pfn, "--set", f'data.uri="{workdir / "train.h5"}"']) == 0
    out = capsys.readouterr().out
    rid = _run_id(out)
    direct = mlflow.get_run(rid).data.metrics
    assert learnt(direct)

    assert main(["convert", "jets", str(workdir / "train.h5"), "--out", str(workdir / "tt"), "--no-progress"]) == 0
    assert main(["convert", "jets", str(workdir / "delphes"), "--out", str(workdir / "dl"), "--no-progress"]) == 0
    capsys.readouterr()
    local = ["--set", 'train.runner="local"']
    assert main(["run", "jets", *pfn, *local, "--set", f'data.uri="{workdir / "tt"}"']) == 0
    assert learnt(mlflow.get_run(_run_id(capsys.readouterr().out)).data.metrics)

    scores = []
    for data in (workdir / "delphes", workdir / "dl"):
        assert main(["evaluate", "jets", "--model", f"runs:/{rid}/model", "--data", str(data)]) == 0
        rid_eval = capsys.readouterr().out.split("MLflow evaluation run ")[1].split()[0]
        scores.append(mlflow.get_run(rid_eval).data.metrics)
    assert scores[0]["test/auc"] == scores[1]["test/auc"] and learnt(scores[0])
