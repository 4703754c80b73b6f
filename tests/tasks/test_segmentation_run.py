"""stargalaxy-segmentation through the platform (shared local Ray): the smoke run simulates its
fields, trains the autoencoder and logs IoU (hypercolumns and threshold baseline) and overlays."""

import mlflow
import pytest

from physml.cli import main

pytestmark = pytest.mark.usefixtures("ray_cluster")


def test_smoke_run(workdir, capsys):
    assert (
        main(
            [
                "run",
                "stargalaxy-segmentation",
                "-c",
                "smoke",
                "--set",
                'train.runner="local"',
                "--set",
                "model.residual=true",
                "--no-progress",
            ]
        )
        == 0
    )
    rid = capsys.readouterr().out.split("MLflow run ")[1].split()[0]
    m = mlflow.get_run(rid).data.metrics
    assert {"test/iou", "test/iou_baseline", "test/recon", "val/iou", "train/epoch_loss"} <= set(m)
    assert 0.0 < m["test/iou"] <= 1.0 and 0.2 < m["test/iou_baseline"] <= 1.0
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
    assert "plots/overlays.png" in plots
