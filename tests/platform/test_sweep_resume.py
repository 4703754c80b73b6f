"""What a resumed sweep does with the two races of a killed driver (no Ray needed): a trial restored
from its final checkpoint reports it again instead of training, and a trial the dead driver started
but never saved in Tune's state loses its child run (Tune runs it again under a new id)."""

import json
from types import SimpleNamespace

import mlflow
from ray.tune import Checkpoint

from physml.platform.sweep.log import STATUS, SweepLogger
from physml.platform.sweep.trial import DONE, FINAL, _report_again_if_done


def test_a_trial_restored_from_its_final_checkpoint_reports_it_again(tmp_path):
    reports = []

    def report(metrics, checkpoint=None):
        reports.append((metrics, sorted(p.name for p in (tmp_path / "final").iterdir())))

    (tmp_path / "epoch").mkdir()
    (tmp_path / "epoch" / "state.pt").write_bytes(b"")
    assert not _report_again_if_done(None, report)
    assert not _report_again_if_done(Checkpoint.from_directory(str(tmp_path / "epoch")), report)
    assert reports == []
    (tmp_path / "final" / "model").mkdir(parents=True)
    (tmp_path / "final" / FINAL).write_text(json.dumps({"test/acc": 0.9, DONE: 1.0}))
    assert _report_again_if_done(Checkpoint.from_directory(str(tmp_path / "final")), report)
    assert reports == [({"test/acc": 0.9, DONE: 1.0}, [FINAL, "model"])]


def test_a_trial_lost_with_the_driver_has_its_run_deleted_and_its_entry_dropped(tmp_path, store_uri):
    client = mlflow.MlflowClient(store_uri)
    exp = client.create_experiment("sweep")
    parent = client.create_run(exp).info.run_id
    runs = {
        tid: client.create_run(exp, tags={"mlflow.parentRunId": parent, "physml.trial_id": tid}).info.run_id
        for tid in ("kept", "lost")
    }
    status = {tid: {"run_id": rid, "status": "running", "params": {}, "metrics": {}} for tid, rid in runs.items()}
    (tmp_path / STATUS).write_text(json.dumps(status))
    log = SweepLogger(client.tracking_uri, exp, parent, str(tmp_path), dict, total=2, progress=False)
    log.setup()
    log.on_experiment_end([SimpleNamespace(trial_id="kept")])
    assert set(json.loads((tmp_path / STATUS).read_text())) == {"kept"}
    assert client.get_run(runs["lost"]).info.lifecycle_stage == "deleted"
    assert client.get_run(runs["kept"]).info.lifecycle_stage == "active"
    alive = client.search_runs([exp], f"tags.mlflow.parentRunId = '{parent}'")
    assert [r.info.run_id for r in alive] == [runs["kept"]]


def test_a_trial_finished_before_the_kill_keeps_its_run_when_tune_restores_it(tmp_path, store_uri):
    client = mlflow.MlflowClient(store_uri)
    exp = client.create_experiment("sweep")
    parent = client.create_run(exp).info.run_id
    rid = client.create_run(exp, tags={"mlflow.parentRunId": parent, "physml.trial_id": "done"}).info.run_id
    client.set_terminated(rid, "FINISHED", end_time=1000)
    status = {"done": {"run_id": rid, "status": "finished", "params": {}, "metrics": {DONE: 1.0}, "ended": 1.0}}
    (tmp_path / STATUS).write_text(json.dumps(status))
    log = SweepLogger(client.tracking_uri, exp, parent, str(tmp_path), dict, total=1, progress=False)
    log.setup()
    trial = SimpleNamespace(trial_id="done", config={}, checkpoint=None)
    log.on_trial_start(0, [trial], trial)
    log.on_trial_result(0, [trial], trial, {"test/acc": 0.5, DONE: 1.0, "epoch": 4})
    log.on_trial_complete(0, [trial], trial)
    run = client.get_run(rid)
    assert (run.info.status, run.info.end_time) == ("FINISHED", 1000)
    assert run.data.metrics == {}
    assert json.loads((tmp_path / STATUS).read_text()) == status


def test_a_trial_retried_from_an_older_checkpoint_logs_each_epoch_once(tmp_path, store_uri):
    """The node of a trial dies after it reported epoch 2 but before Tune kept that epoch's checkpoint:
    Tune retries it from epoch 1, and epoch 2 comes again; MLflow keeps one value per epoch."""
    client = mlflow.MlflowClient(store_uri)
    exp = client.create_experiment("sweep")
    parent = client.create_run(exp).info.run_id
    log = SweepLogger(client.tracking_uri, exp, parent, str(tmp_path), dict, total=1, progress=False)
    log.setup()
    trial = SimpleNamespace(trial_id="t", config={}, checkpoint=None)
    log.on_trial_start(0, [trial], trial)
    for epoch in (1, 2):
        log.on_trial_result(0, [trial], trial, {"val/acc": 0.5 + epoch / 10, "epoch": epoch})
    log.on_trial_start(0, [trial], trial)  # the retry
    for epoch in (2, 3):
        log.on_trial_result(0, [trial], trial, {"val/acc": 0.6 + epoch / 10, "epoch": epoch})
    log.on_trial_result(0, [trial], trial, {"val/acc": 0.9, "test/acc": 0.8, "epoch": 3, DONE: 1.0})
    history = client.get_metric_history(log.runs["t"], "val/acc")
    assert sorted((m.step, round(m.value, 6)) for m in history) == [(1, 0.6), (2, 0.7), (3, 0.9)]
    assert [m.step for m in client.get_metric_history(log.runs["t"], "test/acc")] == [3]


def test_resume_refuses_a_truncated_tune_state_instead_of_restarting_the_sweep(tmp_path):
    """Tune restarts a whole sweep when its saved state does not load (what a driver killed mid-copy used
    to leave: an empty searcher file). --resume checks the newest files first and says which is damaged."""
    import pickle

    import pytest

    from physml.config import ConfigError
    from physml.platform.sweep.driver import _check_state

    (tmp_path / "experiment_state-2026.json").write_text(json.dumps({"trial_data": []}))
    (tmp_path / "searcher-state-2026.pkl").write_bytes(pickle.dumps({"_space": {"lr": 1}}))
    (tmp_path / "search_gen_state-2026.json").write_bytes(pickle.dumps({"counter": 2}))
    _check_state(str(tmp_path))
    (tmp_path / "search_gen_state-2027.json").write_bytes(b"")
    with pytest.raises(ConfigError, match="search_gen_state-2027.json: Tune's saved state is damaged"):
        _check_state(str(tmp_path))
