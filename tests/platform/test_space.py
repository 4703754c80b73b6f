"""Sweep spaces, settings and resource plans: checked before Ray starts (no Ray here)."""

import pytest

from physml.config import ConfigError, to_dict
from physml.platform.sweep.driver import plan, prepare
from physml.platform.sweep.report import pareto
from physml.platform.sweep.space import Space, SweepSettings, apply, parse_space
from physml.platform.sweep.trial import ROW, trial_config
from physml.tasks.phases.supervised import SupervisedConfig

BASE = to_dict(SupervisedConfig())


def space(tree, table=None):
    return parse_space(tree, table, SupervisedConfig, BASE)


def test_every_kind_parses_and_nested_tables_flatten():
    s = space(
        {
            "train": {
                "lr": {"loguniform": [1e-4, 1e-2]},
                "weight_decay": {"uniform": [0, 0.1]},
                "batch_size": {"int": [16, 64]},
            },
            "model.channels": {"choice": [8, 16]},
            "model.kind": {"grid": ["cnn", "dense"]},
        }
    )
    assert {d.key: d.kind for d in s.dims} == {
        "train.lr": "loguniform",
        "train.weight_decay": "uniform",
        "train.batch_size": "int",
        "model.channels": "choice",
        "model.kind": "grid",
    }
    assert s.exhaustive and s.grid_size == 2


def test_table_rows_multiply_the_grid():
    rows = [{"train.lr": 0.01, "model.channels": 4}, {"train": {"lr": 0.001}, "model.channels": 8}]
    s = space({"model.hidden": {"grid": [8, 16, 32]}}, rows)
    assert s.grid_size == 6 and s.table[1] == {"train.lr": 0.001, "model.channels": 8}
    setup = {"base": BASE, "table": list(s.table), "choices": {}}
    cfg = trial_config(setup, {ROW: 1, "model.hidden": 16})
    assert (cfg["train"]["lr"], cfg["model"]["channels"], cfg["model"]["hidden"]) == (0.001, 8, 16)
    assert trial_config(setup, {ROW: 0, "model.hidden": 8})["train"]["lr"] == 0.01


def test_choices_of_lists_travel_as_indices():
    setup = {"base": BASE, "table": [], "choices": {"data.L": [[8], [8, 12]]}}
    assert trial_config(setup, {"data.L": 1})["data"]["L"] == [8, 12]


@pytest.mark.parametrize(
    "tree,needle",
    [
        ({"train.lr": {"normal": [0, 1]}}, "unknown distribution 'normal'"),
        ({"train.lr": {"loguniform": [0, 1]}}, "bounds must be > 0"),
        ({"train.lr": {"uniform": [0.1, 0.01]}}, "low must be below high"),
        ({"train.lr": {"uniform": [0.1]}}, "expected [low, high]"),
        ({"train.batch_size": {"int": [8.5, 64]}}, "bounds must be integers"),
        ({"train.lr": {"choice": []}}, "non-empty list"),
        ({"train.lrate": {"choice": [0.1]}}, "unknown config key 'train.lrate'"),
        ({"model.kind": {"choice": ["cnn", "mlp"]}}, "model.kind = 'mlp'"),
        ({"train.epochs": {"choice": [1.5]}}, "expected an integer"),
        ({"train.workers": {"choice": [1, 2]}}, "resources and data are fixed"),
        ({"train.lr": 0.1}, "expected one of"),
    ],
)
def test_bad_spaces_are_rejected_naming_the_entry(tree, needle):
    with pytest.raises(ConfigError) as err:
        space(tree)
    assert needle in str(err.value)


def test_a_key_in_both_space_and_table_is_rejected():
    with pytest.raises(ConfigError, match="both the space and the table"):
        space({"train.lr": {"choice": [0.1]}}, [{"train.lr": 0.2}])


def test_apply_sets_dotted_keys_on_a_copy():
    out = apply(BASE, {"train.lr": 0.5})
    assert out["train"]["lr"] == 0.5 and BASE["train"]["lr"] != 0.5


@pytest.mark.parametrize(
    "kw,needle",
    [
        (dict(metric=["val/acc"], mode=["up"]), "min or max"),
        (dict(metric=["acc"], mode=["max"]), "val/<name>"),
        (dict(metric=["val/a", "val/b", "val/c"], mode=["max"] * 3), "two for a multi-objective"),
        (dict(metric=["val/acc"], mode=["max"], scheduler="pbt"), "choose asha or none"),
        (dict(metric=["val/acc"], mode=["max"], samples=0), "--samples 0"),
    ],
)
def test_bad_settings(kw, needle):
    with pytest.raises(ConfigError) as err:
        SweepSettings(**kw).check()
    assert needle in str(err.value)


def _req(tmp_path, text, cli=None, sets=()):
    f = tmp_path / "sweep.toml"
    f.write_text(text)
    return prepare("phases-supervised", str(f), list(sets), cli or {})


def test_sweep_file_with_a_base_config_and_cli_overrides(tmp_path):
    req = _req(
        tmp_path,
        'base = "smoke"\n[train]\nepochs = 2\n[sweep]\nsamples = 3\nmetric = "val/loss"\n'
        '[sweep.space]\n"train.lr" = {loguniform = [1e-4, 1e-2]}\n',
        cli={"samples": 5},
    )
    assert req.base["train"]["epochs"] == 2 and req.base["data"]["L"] == [8, 12]  # smoke + override
    assert req.total == 5 and req.settings.metric == ["val/loss"] and req.settings.mode == ["min"]


def test_sweep_defaults_to_the_task_space_and_metric():
    req = prepare("phases-supervised", "smoke", [], {})
    assert [d.key for d in req.space.dims] == ["train.lr", "model.channels"]
    assert (req.settings.metric, req.settings.mode, req.total) == (["val/acc"], ["max"], 8)


def test_a_key_that_changes_the_simulated_data_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="changes the simulated data"):
        _req(tmp_path, 'base = "smoke"\n[sweep.space]\n"data.sweeps" = {choice = [100, 200]}\n')


def test_unknown_sweep_setting(tmp_path):
    with pytest.raises(ConfigError, match="unknown \\[sweep\\] key 'trials'"):
        _req(tmp_path, 'base = "smoke"\n[sweep]\ntrials = 3\n')


def _cfg(**train):
    d = apply(BASE, {f"train.{k}": v for k, v in train.items()})
    from physml.config import from_dict

    return from_dict(SupervisedConfig, d)


def _plan_req(max_concurrent=None, samples=8):
    return type(
        "R",
        (),
        {
            "settings": SweepSettings(samples=samples, metric=["val/acc"], mode=["max"], max_concurrent=max_concurrent),
            "total": samples,
        },
    )()


def test_plan_two_concurrent_one_worker_trials_on_two_cpus():
    p = plan(_plan_req(2), _cfg(cpus_per_worker=1.0), {"cpus": 2, "gpus": 0})
    assert (p.runner, p.cpus, p.concurrent) == ("inline", 1.0, 2)
    assert plan(_plan_req(), _cfg(cpus_per_worker=0.5), {"cpus": 2, "gpus": 0}).concurrent == 4
    assert plan(_plan_req(samples=3), _cfg(cpus_per_worker=0.5), {"cpus": 2, "gpus": 0}).concurrent == 3


def test_plan_rejects_what_does_not_fit_and_says_what_to_change():
    with pytest.raises(ConfigError, match="--max-concurrent 3: each trial needs 1 CPU.*use --max-concurrent 2"):
        plan(_plan_req(3), _cfg(cpus_per_worker=1.0), {"cpus": 2, "gpus": 0})
    # multi-worker trials run a TorchTrainer and keep one CPU free for Ray Data
    p = plan(_plan_req(), _cfg(workers=2, cpus_per_worker=0.5), {"cpus": 4, "gpus": 0})
    assert (p.runner, p.concurrent) == ("ray-train", 2)
    with pytest.raises(ConfigError, match="kept for Ray Data: lower train.workers"):
        plan(_plan_req(), _cfg(workers=2, cpus_per_worker=1.0), {"cpus": 2, "gpus": 0})
    with pytest.raises(ConfigError, match="GPU"):
        plan(_plan_req(), _cfg(gpu=True), {"cpus": 2, "gpus": 0})


def test_pareto_front_of_two_objectives():
    rows = [{"a": 1.0, "b": 1.0}, {"a": 2.0, "b": 0.5}, {"a": 0.5, "b": 0.1}, {"a": 2.0, "b": 2.0}]
    front = pareto(rows, ["a", "b"], ["max", "min"])
    assert front == [rows[1], rows[2]]


def test_space_of_nothing_is_empty():
    assert Space().grid_size == 1 and not Space().exhaustive


def test_cluster_runs_refuse_node_local_storage(monkeypatch):
    from physml.platform.cluster import require_shared

    monkeypatch.delenv("PHYSML_SHARED_FS", raising=False)
    require_shared({"nodes": 1}, PHYSML_HOME="/tmp/x")  # one node: anything goes
    require_shared({"nodes": 3}, PHYSML_HOME="s3://bucket/home", data="gs://b/d")
    with pytest.raises(ValueError, match="PHYSML_HOME = /tmp/x is node-local, but the Ray cluster has 3 nodes"):
        require_shared({"nodes": 3}, PHYSML_HOME="/tmp/x")
    with pytest.raises(ValueError, match="file:///d is node-local"):
        require_shared({"nodes": 2}, data="file:///d")
    monkeypatch.setenv("PHYSML_SHARED_FS", "1")
    require_shared({"nodes": 3}, PHYSML_HOME="/shared/x")


def test_pivot_puts_one_value_per_column_and_averages_repeats():
    from physml.platform.sweep.report import pivot

    meta = {"space": [{"key": "model.norm"}], "table": [{"model.layers": 4}, {"model.layers": 5}]}
    rows = [
        {"model.norm": "bn", "model.layers": 4, "test/dsc": 0.8},
        {"model.norm": "minmax", "model.layers": 4, "test/dsc": 0.7},
        {"model.norm": "bn", "model.layers": 4, "test/dsc": 0.9},  # a repeat: averaged
        {"model.norm": "bn", "model.layers": 5, "test/dsc": 0.6},
        {"model.norm": "minmax", "model.layers": 5, "status": "failed"},
    ]  # no metric: empty cell
    table = pivot(rows, meta, "model.norm", "test/dsc")
    assert table == [
        {"model.layers": 4, "test/dsc [model.norm=bn]": 0.85, "test/dsc [model.norm=minmax]": 0.7},
        {"model.layers": 5, "test/dsc [model.norm=bn]": 0.6, "test/dsc [model.norm=minmax]": ""},
    ]


def test_pivot_must_be_a_searched_key(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('base = "smoke"\n[sweep]\npivot = "model.hidden"\n[sweep.space]\n"model.channels" = {grid = [4, 8]}\n')
    with pytest.raises(ConfigError, match="sweep.pivot = 'model.hidden': not a searched key"):
        prepare("phases-supervised", str(f), [], {})


def test_aggregate_gives_mean_highest_lowest_std_over_repeats():
    from physml.platform.sweep.report import aggregate

    meta = {"space": [{"key": "train.seed"}, {"key": "model.kind"}], "table": []}
    rows = [
        {"train.seed": s, "model.kind": k, "test/auc": v}
        for s, (k, v) in enumerate([("vae", 0.7), ("vae", 0.9), ("vae", 0.8), ("ae", 0.95)])
    ]
    table = aggregate(rows, meta, "train.seed", "test/auc")
    assert table == [
        {
            "model.kind": "vae",
            "metric": "test/auc",
            "mean": 0.8,
            "highest": 0.9,
            "lowest": 0.7,
            "std": 0.1,
            "repeats": 3,
        },
        {
            "model.kind": "ae",
            "metric": "test/auc",
            "mean": 0.95,
            "highest": 0.95,
            "lowest": 0.95,
            "std": "",
            "repeats": 1,
        },
    ]
