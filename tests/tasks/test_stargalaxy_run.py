"""stargalaxy through the platform (shared local Ray): a smoke run of the hierarchical AE + VAE on
simulated cutouts, scored on set B with the orientation chosen on set A."""

import mlflow
import pytest

from physml.cli import main

pytestmark = pytest.mark.usefixtures("ray_cluster")


def test_smoke_run(workdir, capsys):
    assert main(["run", "stargalaxy", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    rid = capsys.readouterr().out.split("MLflow run ")[1].split()[0]
    run = mlflow.get_run(rid)
    assert {"test/auc", "test/acc", "val/auc", "train/epoch_kl", "train/epoch_recon_code"} <= set(run.data.metrics)
    assert 0.0 <= run.data.metrics["test/auc"] <= 1.0
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
    assert {"plots/latent.png", "plots/accuracy_vs_magnitude.png"} <= plots
