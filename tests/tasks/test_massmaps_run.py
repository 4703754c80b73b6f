"""massmaps and galaxy-vae through the platform (shared local Ray): `-c smoke` simulates, trains,
evaluates, logs the metrics and figures."""

import mlflow
import pytest

from physml.cli import main
from physml.tasks.massmaps.fields import noise_sigma

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _run(task: str, capsys) -> tuple[dict, set]:
    assert main(["run", task, "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    rid = capsys.readouterr().out.split("MLflow run ")[1].split()[0]
    plots = {a.path for a in mlflow.MlflowClient().list_artifacts(rid, "plots")}
    return mlflow.get_run(rid).data.metrics, plots


def test_cosmology_smoke_run_logs_the_cnn_beside_the_baselines(workdir, capsys):
    m, plots = _run("massmaps-cosmology", capsys)
    names = ("accuracy", "acc_power", "acc_peaks", "acc_moments", "acc_combined")
    assert all(0 <= m[f"test/{k}"] <= 1 for k in names)
    assert m["test/margin"] == pytest.approx(m["test/accuracy"] - max(m[f"test/{k}"] for k in names[1:4]))
    assert {"plots/accuracy.png", "plots/maps.png"} <= plots


def test_denoise_smoke_run_logs_every_method(workdir, capsys):
    m, plots = _run("massmaps-denoise", capsys)
    noise = noise_sigma(0.26, 30.0, 1.0 * 60 / 32) ** 2  # the smoke config's noise variance per pixel
    assert m["test/wiener_mse"] < noise and m["test/gauss_mse"] < noise  # both filters beat the raw map
    assert all(0 <= m[f"test/{p}peaks_found"] <= 1 for p in ("", "gauss_", "wiener_"))
    assert "plots/denoised.png" in plots


def test_galaxy_vae_smoke_run_logs_the_preference(workdir, capsys):
    m, plots = _run("galaxy-vae", capsys)
    assert 0 <= m["test/vae_preferred"] <= 1 and m["test/gauss_loglik"] < 0
    assert {"plots/galaxies.png", "plots/preference.png"} <= plots
