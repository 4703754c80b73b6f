"""The training platform end to end on the shared local Ray: run, resume, evaluate, failures."""

import json

import mlflow
import pytest

from physml.cli import main
from physml.platform.data.shards import DatasetWriter

pytestmark = pytest.mark.usefixtures("ray_cluster")
SMOKE = ["run", "phases-supervised", "-c", "smoke", "--no-progress"]


def _run_id(out: str) -> str:
    return out.split("MLflow run ")[1].split()[0]


def test_smoke_run_resume_and_evaluate(workdir, capsys):
    """3 epochs in this process (train.runner = "local"), resumed to 5 on a Ray Train worker group from
    the same checkpoints, then the model evaluated on new shards."""
    assert main(SMOKE + ["--set", 'train.runner="local"']) == 0
    rid = _run_id(capsys.readouterr().out)
    run = mlflow.get_run(rid)
    assert run.info.status == "FINISHED"
    assert run.data.params["train.epochs"] == "3" and run.data.tags["physml.kind"] == "train"
    client = mlflow.MlflowClient()
    assert [m.step for m in client.get_metric_history(rid, "val/acc")] == [1, 2, 3]
    assert {"test/acc", "test/loss"} <= set(run.data.metrics)
    arts = {a.path for d in ("", "model", "plots") for a in client.list_artifacts(rid, d or None)}
    assert {"config.toml", "model/state_dict.pt", "model/config.toml", "plots/p_ordered.png"} <= arts
    # a -c whose [model] differs from the run's is refused before Ray starts, naming the key
    assert main(["run", "phases-supervised", "-c", "default", "--resume", rid, "--no-progress"]) == 2
    assert (
        f"--resume {rid}: model.channels = 16 (the run: 8); model.hidden = 32 (the run: 16)" in capsys.readouterr().err
    )
    # without -c the run's own (smoke) config, resumed on Ray Train with two more epochs: the epoch
    # count continues from the checkpoint
    assert main(["run", "phases-supervised", "--no-progress", "--resume", rid, "--set", "train.epochs=5"]) == 0
    assert _run_id(capsys.readouterr().out) == rid
    assert [m.step for m in client.get_metric_history(rid, "val/acc")] == [1, 2, 3, 4, 5]
    run = mlflow.get_run(rid)
    assert run.info.status == "FINISHED" and run.data.tags["physml.checkpoint_epoch"] == "5"
    kept = sorted(p.name for p in (workdir / "home" / "runs" / "phases-supervised" / rid).glob("epoch-*"))
    assert kept == ["epoch-0004", "epoch-0005"]  # Ray Train's checkpoints, kept as the local runner keeps them
    # evaluate the saved model on new shards (another seed, another size)
    argv = [
        "simulate",
        "ising",
        "--L",
        "10",
        "--temperatures",
        "1.4:3.4:11",
        "--replicas",
        "4",
        "--sweeps",
        "200",
        "--thermalize",
        "50",
        "--every",
        "5",
        "--seed",
        "9",
        "--out",
        str(workdir / "new"),
        "--no-progress",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["evaluate", "phases-supervised", "--model", f"runs:/{rid}/model", "--data", str(workdir / "new")]) == 0
    out = capsys.readouterr().out
    ev = mlflow.get_run(out.split("evaluation run ")[1].split()[0])
    assert (workdir / "home" / "evaluations" / ev.info.run_id / "p_ordered.png").exists()
    assert ev.data.tags["physml.kind"] == "evaluate" and 0.5 < ev.data.metrics["test/acc"] <= 1.0


@pytest.mark.slow  # the local runner's test below checks the same in `make test`, without a worker group
def test_nan_loss_fails_the_run_with_a_clear_error(workdir, capsys):
    code = main(SMOKE + ["--set", 'train.optimizer="sgd"', "--set", "train.lr=1e30", "--set", "train.epochs=1"])
    last = capsys.readouterr().err.strip().splitlines()[-1]  # Ray's own log lines may precede it
    assert code == 1
    assert last.startswith("physml: error: training stopped: non-finite loss (loss = nan") or last.startswith(
        "physml: error: training stopped: non-finite loss (loss = inf"
    )
    runs = mlflow.search_runs(experiment_names=["phases-supervised"], output_format="list")
    assert [r.info.status for r in runs] == ["FAILED"]


def _fake_dataset(path, model):
    w = DatasetWriter(str(path), "ising", {"model": model}, 0, "test")
    w.commit([], complete=True)


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--set", "train.workers=8"], "needs 4 CPUs; the cluster has 2"),
        (["--set", 'data.uri="/nonexistent/ds"'], "no manifest.json"),
        (["--set", 'data.uri="XY"'], "model='xy'; task phases-supervised needs kind='ising', model='ising'"),
    ],
)
def test_bad_run_input_after_ray(workdir, capsys, extra, needle):
    _fake_dataset(workdir / "XY", "xy")
    extra = [e.replace('"XY"', json.dumps(str(workdir / "XY"))) for e in extra]
    assert main(SMOKE + extra) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("physml: error:") and needle in last


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["run", "no-such-task"], "unknown task 'no-such-task'; choose one of phases-supervised"),
        (SMOKE + ["--set", "model.depth=3"], "unknown config key 'model.depth'"),
        (SMOKE + ["--set", 'train.epochs="ten"'], "train.epochs = 'ten': expected an integer"),
        (["run", "phases-supervised", "-c", "huge"], "-c 'huge': not a .toml file nor a config of phases-supervised"),
        (
            SMOKE + ["--set", 'train.runner="local"', "--set", "train.workers=2"],
            'train.runner = "local" trains in this process: set train.workers = 1 (now 2)',
        ),
    ],
)
def test_bad_run_input_before_ray(workdir, capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


@pytest.mark.parametrize(
    "task,metric,plot",
    [
        ("phases-confusion", "test/acc", "plots/confusion_w.png"),
        ("phases-unsupervised", "test/r_latent_m", "plots/latent.png"),
    ],
)
def test_other_phases_tasks_smoke_through_the_platform(workdir, capsys, task, metric, plot):
    assert main(["run", task, "-c", "smoke", "--set", 'train.runner="local"', "--no-progress"]) == 0
    rid = _run_id(capsys.readouterr().out)
    run = mlflow.get_run(rid)
    assert run.info.status == "FINISHED" and metric in run.data.metrics
    arts = {a.path for d in ("model", "plots") for a in mlflow.MlflowClient().list_artifacts(rid, d)}
    assert {plot, "model/state_dict.pt"} <= arts


LOCAL = SMOKE + ["--set", 'train.runner="local"']


def _losses(rid: str) -> list[float]:
    history = mlflow.MlflowClient().get_metric_history(rid, "train/epoch_loss")
    return [m.value for m in sorted(history, key=lambda m: m.step)]


def test_local_runner_is_reproducible_resumes_keeps_the_best_and_stops_on_nan(workdir, capsys):
    """train.runner = "local": the same loop in this process; same seed, same losses; --resume continues
    the epoch count from its checkpoints; select = "best" keeps the best epoch; a NaN fails the run."""
    assert main(LOCAL) == 0
    rid = _run_id(capsys.readouterr().out)
    assert main(LOCAL) == 0
    assert _losses(_run_id(capsys.readouterr().out)) == _losses(rid) and len(_losses(rid)) == 3
    assert main(LOCAL + ["--resume", rid, "--set", "train.epochs=5"]) == 0
    assert _run_id(capsys.readouterr().out) == rid and len(_losses(rid)) == 5
    run = mlflow.get_run(rid)
    assert run.info.status == "FINISHED" and run.data.tags["physml.checkpoint_epoch"] == "5"
    kept = sorted(p.name for p in (workdir / "home" / "runs" / "phases-supervised" / rid).glob("epoch-*"))
    assert kept == ["epoch-0004", "epoch-0005"]
    # the best epoch by val/loss is the one evaluated and saved, whichever epoch it was
    best = [
        "--set",
        'train.early_stop_metric="val/loss"',
        "--set",
        'train.select="best"',
        "--set",
        "train.patience=9",
        "--set",
        "train.epochs=6",
        "--set",
        "train.lr=0.05",
    ]
    assert main(LOCAL + best) == 0
    bid = _run_id(capsys.readouterr().out)
    val = {m.step: m.value for m in mlflow.MlflowClient().get_metric_history(bid, "val/loss")}
    assert mlflow.get_run(bid).data.tags["physml.checkpoint_epoch"] == str(min(val, key=val.get))
    code = main(LOCAL + ["--set", 'train.optimizer="sgd"', "--set", "train.lr=1e30", "--set", "train.epochs=1"])
    assert code == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .startswith("physml: error: training stopped: non-finite loss (loss = ")
    )
    assert mlflow.search_runs(experiment_names=["phases-supervised"], output_format="list")[0].info.status == "FAILED"
