"""ising-generation through the platform (shared local Ray): a smoke run, then `physml generate` with
scale-up into a memory:// dataset that the simulator's own summary code reads back."""

import mlflow
import numpy as np
import pytest

from physml.cli import main
from physml.physics import kaufman_energy
from physml.platform.data.shards import read_manifest, read_table
from physml.tasks.ising.summary import summarize

pytestmark = pytest.mark.usefixtures("ray_cluster")


def test_smoke_run_then_generate_scaled_up_shards(workdir, capsys):
    best = ["--set", 'train.early_stop_metric="val/w1_e"', "--set", "train.patience=5", "--set", 'train.select="best"']
    assert (
        main(["run", "ising-generation", "-c", "smoke", "--set", 'train.runner="local"', "--no-progress", *best]) == 0
    )
    out = capsys.readouterr().out
    rid = out.split("MLflow run ")[1].split()[0]
    run = mlflow.get_run(rid)
    client = mlflow.MlflowClient()
    history = sorted(client.get_metric_history(rid, "val/w1_e"), key=lambda m: m.step)
    assert [m.step for m in history] == [1, 2]
    # train.select = "best": the evaluated and saved model is the epoch with the lowest val/w1_e
    assert run.data.tags["physml.checkpoint_epoch"] == str(min(history, key=lambda m: m.value).step)
    assert {"test/w1_e", "test/e_rel_err_far", "test/scaleup_L16/w1_e", "test/imbalance_low"} <= set(run.data.metrics)
    plots = {a.path for a in client.list_artifacts(rid, "plots")}
    assert {"plots/generation_errors.png", "plots/generation_samples_L16.png", "plots/generation_table.csv"} <= plots

    uri = "memory://generated/ising"
    cmd = [
        "generate",
        "ising",
        "--model",
        f"runs:/{rid}/model",
        "--L",
        "8",
        "16",
        "--temperatures",
        "1.6,3.2",
        "--n",
        "30",
        "--out",
        uri,
        "--no-progress",
    ]
    assert main(cmd) == 0
    assert "4 shard(s) written, 0 already complete" in capsys.readouterr().out
    m = read_manifest(uri)
    assert m["complete"] and m["params"]["algorithm"] == "generated:actor-critic" and len(m["shards"]) == 4
    table = read_table(uri, where={"L": 16})
    assert set(table.column("algorithm").to_pylist()) == {"generated:actor-critic"}
    spins = np.stack(table.column("spins").to_numpy(zero_copy_only=False))
    assert spins.shape == (64, 256) and set(np.unique(spins)) <= {-1, 1}  # 30 rounded up to 4 chains x 8
    # the stored energy is the configuration's, and the simulator's summary reads the shards unchanged
    s = spins.reshape(-1, 16, 16).astype(float)
    e = -(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2)).mean(axis=(1, 2))
    assert np.allclose(e, table.column("energy").to_numpy())
    rows = summarize(read_table(uri, columns=["L", "temperature", "chain", "sweep", "energy", "magnetization"]))
    assert [(r["L"], r["T"], r["chains"], r["records"]) for r in rows] == [
        (8, 1.6, 4, 8),
        (8, 3.2, 4, 8),
        (16, 1.6, 4, 8),
        (16, 3.2, 4, 8),
    ]
    assert rows[0]["e_exact"] == pytest.approx(kaufman_energy(8, 1.6)[0])
    # the same command again resumes: nothing left to write
    assert main(cmd) == 0
    assert "0 shard(s) written, 4 already complete" in capsys.readouterr().out
