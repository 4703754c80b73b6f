"""climate end to end through the command line (shared local Ray): simulate, detect, train on the
detected labels, then `physml evaluate` on a NetCDF file another tool (xarray) wrote in ClimateNet's
layout, with LABELS (scored) and without (predictions written)."""

from pathlib import Path

import mlflow
import numpy as np
import pytest
import xarray as xr

from physml.cli import main
from physml.tasks.climate.files import list_sources

pytestmark = pytest.mark.usefixtures("ray_cluster")
SIM = ["--grid", "32x64", "--steps", "24", "--no-progress"]


def _run_id(text: str, marker: str = "MLflow run ") -> str:
    return text.split(marker)[1].split()[0]


def test_simulate_detect_train_and_evaluate_a_climatenet_file(workdir, capsys):
    assert main(["simulate", "climate", *SIM, "--out", "sim"]) == 0
    assert "placed" in capsys.readouterr().out  # the heuristic against the placed truth
    assert main(["detect", "climate", "--data", "sim", "--out", "labels", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "TC " in out and "AR " in out and len(list_sources("labels")) == 3  # a line per step; a file per piece
    # `--out X.nc`: the same labels gathered into one NetCDF file (the pieces kept beside it, resumable)
    assert main(["detect", "climate", "--data", "sim", "--out", "labels.nc", "--no-progress"]) == 0
    capsys.readouterr()
    one = xr.open_dataset("labels.nc", engine="h5netcdf")
    parts = xr.concat([xr.open_dataset(p, engine="h5netcdf") for p in list_sources("labels")], "time")
    assert np.array_equal(one["LABELS"].values, parts["LABELS"].values) and one.sizes["time"] == 24
    sets = ["--set", 'data.uri="sim"', "--set", 'data.labels="labels.nc"', "--set", 'train.runner="local"']
    assert main(["run", "climate-segmentation", "-c", "smoke", *sets, "--no-progress"]) == 0
    rid = _run_id(capsys.readouterr().out)
    run = mlflow.get_run(rid)
    assert 0 <= run.data.metrics["test/mean_iou"] <= 1 and len(eval(run.data.params["data.mean"])) == 6

    # ClimateNet's layout, written by xarray: fields and LABELS per file, standard calendar, no TRUTH
    keep = ["TMQ", "U850", "V850", "PSL", "T200", "T500", "LABELS"]
    parts = [xr.open_dataset(p, engine="h5netcdf")[keep].load() for p in sorted(Path("sim").glob("*.nc"))]
    fields = xr.concat(parts, "time")
    fields = fields.assign_coords(time=np.arange(fields.sizes["time"]) * 0.125)
    fields["time"].attrs.update(units="days since 1996-06-09 00:00:00", calendar="standard")
    fields.to_netcdf("climatenet.nc", engine="h5netcdf")
    evaluate = ["evaluate", "climate-segmentation", "--model", f"runs:/{rid}/model", "--set", 'data.labels=""']
    assert main([*evaluate, "--data", "climatenet.nc"]) == 0
    ev = mlflow.get_run(_run_id(capsys.readouterr().out, "MLflow evaluation run "))
    assert ev.data.params["data.mean"] == run.data.params["data.mean"]  # the training's normalisation, reused
    assert {"test/iou_tc", "test/iou_ar", "test/mean_iou"} <= set(ev.data.metrics)

    fields.drop_vars("LABELS").to_netcdf("unlabelled.nc", engine="h5netcdf")
    assert main([*evaluate, "--data", "unlabelled.nc"]) == 0
    figures = capsys.readouterr().out.split("figures: ")[1].split()[0]
    pred = xr.open_dataset(Path(figures) / "predicted_labels.nc", engine="h5netcdf")
    assert pred["LABELS"].shape == (24, 32, 64) and set(np.unique(pred["LABELS"].values)) <= {0, 1, 2}


def test_patches_smoke_run(workdir, capsys):
    assert main(["run", "climate-patches", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    m = mlflow.get_run(_run_id(capsys.readouterr().out)).data.metrics
    assert 0 <= m["test/accuracy"] <= 1 and m["test/accuracy_se"] >= 0
