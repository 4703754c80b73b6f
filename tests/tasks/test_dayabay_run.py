"""dayabay through the platform (shared local Ray): `-c smoke` simulates, trains, evaluates, logs."""

import mlflow
import pytest

from physml.cli import main

pytestmark = pytest.mark.usefixtures("ray_cluster")


def test_smoke_run_logs_the_metrics_and_figures(workdir, capsys):
    assert main(["run", "dayabay", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    rid = capsys.readouterr().out.split("MLflow run ")[1].split()[0]
    m = mlflow.get_run(rid).data.metrics
    assert {"test/accuracy", "test/acc_flasher", "test/cut_flasher_eff", "test/flasher_fpr"} <= set(m)
    n = 200 * 5 / 5  # test events: a fifth of 1,000 (holdout 5)
    assert m["test/accuracy"] - 0.2 > 5 * (0.2 * 0.8 / n) ** 0.5  # above chance by 5 binomial standard errors
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
    assert {"plots/confusion.png", "plots/events.png"} <= plots


def test_unsupervised_smoke_run_logs_the_embedding(workdir, capsys):
    assert main(["run", "dayabay-unsupervised", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    rid = capsys.readouterr().out.split("MLflow run ")[1].split()[0]
    m = mlflow.get_run(rid).data.metrics
    assert {"test/knn_purity_code", "test/knn_purity_tsne", "test/silhouette_tsne", "test/loss"} <= set(m)
    chance, n = 0.2, 200  # five balanced classes, about 200 test events
    assert m["test/knn_purity_code"] - chance > 5 * (chance * (1 - chance) / n) ** 0.5
    assert "plots/tsne.png" in {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
