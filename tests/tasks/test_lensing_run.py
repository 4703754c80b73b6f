"""lensing through the platform (shared local Ray): a smoke run of the AAE trained on images without
substructure, fine-tuned on Model B from its weights (train.init_from, the source's transfer mode),
and `physml evaluate` refusing data without substructure images."""

import mlflow
import pytest

from physml.cli import main
from physml.platform.data.shards import DatasetWriter
from physml.tasks.lensing.lenses import LensParams
from physml.tasks.lensing.source import LensingParams, LensingSource

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _run_id(out: str) -> str:
    return out.split("MLflow run ")[1].split()[0]


def test_smoke_run_transfer_and_evaluate(workdir, capsys):
    assert main(["run", "lensing", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    rid = _run_id(capsys.readouterr().out)
    run = mlflow.get_run(rid)
    want = {
        "test/auc",
        "test/auc_vortex",
        "test/auc_spherical",
        "test/auc_macro",
        "test/w1",
        "val/auc",
        "train/epoch_autoencoder/recon",
        "train/epoch_discriminator/bce",  # the AAE's two parameter groups, each logged under its name
    }
    assert want | {"train/epoch_autoencoder/encoder_adv"} <= set(run.data.metrics)
    assert 0.0 <= run.data.metrics["test/auc_macro"] <= 1.0 and run.data.metrics["test/w1"] >= 0.0
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
    assert {"plots/roc.png", "plots/scores.png", "plots/reconstructions.png", "plots/scores.csv"} <= plots

    # weights that do not fit are refused before training
    assert (
        main(
            [
                "run",
                "lensing",
                "-c",
                "smoke",
                "--set",
                'train.runner="local"',
                "--set",
                f"train.init_from=runs:/{rid}/model",
                "--set",
                "model.latent=8",
                "--no-progress",
            ]
        )
        == 2
    )
    assert "do not fit this model" in capsys.readouterr().err

    # transfer: Model A weights fine-tuned on Model B images
    assert (
        main(
            [
                "run",
                "lensing",
                "-c",
                "smoke",
                "--set",
                'train.runner="local"',
                "--set",
                f"train.init_from=runs:/{rid}/model",
                "--set",
                "data.config=B",
                "--set",
                "train.epochs=1",
                "--no-progress",
            ]
        )
        == 0
    )
    tuned = mlflow.get_run(_run_id(capsys.readouterr().out))
    assert tuned.data.params["train.init_from"] == f"runs:/{rid}/model"
    assert tuned.data.metrics["epoch"] == 1.0 and "test/auc" in tuned.data.metrics

    # evaluation data without any substructure image cannot give an AUC
    src = LensingSource(LensingParams(n=1, n_none=6, lens=LensParams(size=64)))
    w = DatasetWriter(str(workdir / "none-only"), "lensing", src.manifest_params(), 0, "test")
    item = src.items()[0]
    w.commit([w.put_shard(item["path"], src.make(item), substructure="none")], complete=True)
    assert main(["evaluate", "lensing", "--model", f"runs:/{rid}/model", "--data", str(workdir / "none-only")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after MLflow's download bar
    assert last.startswith("physml: error: evaluation data holds none: the AUC needs")
