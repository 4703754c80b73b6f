"""Every contract on every registered task, without Ray or MLflow (the NetKet way: one parametrized
file). A task's smoke config, shrunk by its own ``example()`` overrides, is simulated in this process
into ``memory://``; then its splits are read, the model takes one batch, one loss + backward step
runs, the evaluation returns namespaced floats and the report writes files. A new task that breaks
a contract fails here first."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from physml.config import from_dict, load_toml, merge
from physml.platform.data.local import check_kind, local_batches, write_in_process
from physml.platform.data.readers import reader_tables
from physml.platform.data.shards import DatasetWriter, iter_tables, open_uri, read_manifest, read_table
from physml.tasks import TASKS, config_path, load, shipped_configs, source_path
from physml.tasks.base import DatasetSpec, Task
from physml.tasks.sources import DataSource

NAMES = sorted(TASKS)
# models that read other columns or other shapes than the smoke config's: each one more case
VARIANTS = {"jets": [['model.kind="pfn"'], ['model.kind="edgeconv"']], "gpe": [['model.kind="cnn"']]}
CASES = [(n, []) for n in NAMES] + [(n, v) for n, vs in VARIANTS.items() for v in vs]


def _smallest(name: str, sets: list[str] = ()):
    """(task, typed config): the smoke config with the task's example() overrides (and ``sets``)."""
    task = load(TASKS[name])()
    cfg = from_dict(task.Config, merge(load_toml(config_path(name, "smoke")), [*task.example(), *sets]))
    return task, cfg


_DATA: dict[str, str] = {}


def _example_data(name: str) -> str:
    """The URI of the task's smallest dataset, simulated in-process once per test session."""
    if name not in _DATA:
        task, cfg = _smallest(name)
        sim = task.simulation(cfg)
        source = sim.source()
        uri = f"memory://contract/{name}"
        params = source.manifest_params()
        write_in_process(source, DatasetWriter(uri, source.kind, params, params.get("seed", 0), "contract tests"))
        _DATA[name] = uri
    return _DATA[name]


@pytest.mark.parametrize("name", NAMES)
def test_registered_task_is_a_task_with_shipped_configs(name):
    cls = load(TASKS[name])
    assert issubclass(cls, Task) and not cls.__abstractmethods__
    assert cls.name == name
    assert {"smoke", "default"} <= set(shipped_configs(name))
    for config in shipped_configs(name):
        cfg = from_dict(cls.Config, load_toml(config_path(name, config)))
        assert {"data", "model", "train"} <= set(vars(cfg))
    metric, mode = cls.sweep_metric
    assert metric.startswith("val/") and mode in ("min", "max")


@pytest.mark.parametrize("name", NAMES)
def test_simulated_example_has_the_kind_and_columns_the_task_reads(name):
    task, cfg = _smallest(name)
    uri = _example_data(name)
    check_kind(uri, task.data_kind(cfg), name)  # raises on a mismatch
    manifest = read_manifest(uri)
    assert manifest["complete"] and sum(s["rows"] for s in manifest["shards"]) > 0
    specs = task.datasets(cfg, uri)
    assert {"train", "val"} <= set(specs) and any(k.startswith("test") for k in specs)
    for split, spec in specs.items():
        assert isinstance(spec, DatasetSpec)
        # files in a field's own format (e.g. NetCDF shards) are read by the task's reader
        have = set(next(reader_tables(spec) if spec.reader else iter_tables(uri)).schema.names)
        assert set(spec.columns) <= have, f"{split} reads columns the data lacks: {set(spec.columns) - have}"


@pytest.mark.parametrize("name,sets", CASES, ids=[" ".join([n, *v]) for n, v in CASES])
def test_one_loss_step_and_evaluation(name, sets, tmp_path):
    task, cfg = _smallest(name, sets)
    specs = task.datasets(cfg, _example_data(name))
    torch.manual_seed(0)
    model = task.model(cfg)
    batch = next(local_batches(specs["train"], cfg.train.batch_size))
    model.train()
    out = task.loss(model, batch, cfg)
    assert out["loss"].ndim == 0 and torch.isfinite(out["loss"])
    out["loss"].backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and bool(torch.any(g != 0)) for g in grads), "the loss reaches no parameter"
    model.eval()
    with torch.no_grad():
        val = task.evaluate(model, local_batches(specs["val"], cfg.train.batch_size), cfg)
    floats = {k: v for k, v in val.items() if isinstance(v, (float, int, np.floating))}
    assert floats, "evaluate returned no metric"
    assert task.sweep_metric[0].removeprefix("val/") in task.metrics, "sweep_metric is not a declared metric"
    missing = set(task.metrics) - set(floats)
    assert task.metrics and not missing, f"declared metrics that evaluate does not return: {missing}"
    assert all("/" not in k or k.split("/")[0] not in ("val", "test") for k in floats), (
        "evaluate's keys are namespaced by the platform (val/, test/), not by the task"
    )
    tests = [s for k, s in specs.items() if k.startswith("test")]
    with torch.no_grad():
        res = task.evaluate(model, (b for s in tests for b in local_batches(s, cfg.train.batch_size)), cfg)
    assert all(math.isfinite(float(v)) or math.isnan(float(v)) for v in res.values() if isinstance(v, float))
    # the platform hands report() the test results with float keys namespaced "test/<key>"
    paths = task.report({(f"test/{k}" if isinstance(v, float) else k): v for k, v in res.items()}, tmp_path)
    assert all(Path(p).exists() and Path(p).stat().st_size > 0 for p in paths)


@pytest.mark.parametrize("name", NAMES)
def test_model_state_round_trips(name):
    """The saved model (a state dict) loads into a fresh model of the same config: evaluate needs it."""
    task, cfg = _smallest(name)
    torch.manual_seed(1)
    a = task.model(cfg)
    b = task.model(cfg)
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


@pytest.mark.parametrize("name", NAMES)
def test_simulation_names_a_data_source(name):
    task, cfg = _smallest(name)
    sim = task.simulation(cfg)
    cls = load(source_path(sim.sampler))
    assert issubclass(cls, DataSource)
    assert cls.kind == task.data_kind(cfg)[0]


@pytest.mark.parametrize("name", NAMES)
def test_source_analysis_and_report(name, tmp_path):
    """What `physml simulate` shows at its end: the analysis of the summary columns (metrics
    namespaced sim/, finite) and the report's files."""
    task, cfg = _smallest(name)
    sim = task.simulation(cfg)
    source = sim.source()
    uri = _example_data(name)
    table = source.summary_table(uri)  # shards in a field's own format: the source reads its summary
    if table is None:
        table = read_table(uri, columns=source.summary_columns)
    assert set(source.summary_columns) <= set(table.schema.names)
    analysis = source.analyse(table)
    assert {"rows", "metrics", "series", "text"} <= set(analysis) and analysis["text"].strip()
    assert all(k.startswith("sim/") and math.isfinite(v) for k, v in analysis["metrics"].items())
    paths = source.report(analysis, tmp_path)
    assert all(Path(p).exists() and Path(p).stat().st_size > 0 for p in paths)


@pytest.mark.parametrize("name", NAMES)
def test_size_estimate_matches_the_data_written(name):
    """A source's estimate (shown before `physml simulate` starts and checked against free space) is
    within a factor 2 of the rows it then writes (their Arrow size in memory)."""
    task, cfg = _smallest(name)
    sim = task.simulation(cfg)
    est = sim.source().estimate()
    assert est is not None, f"{name}'s source makes no estimate of what it simulates"
    uri = _example_data(name)
    if any(not s["path"].endswith(".parquet") for s in read_manifest(uri)["shards"]):  # files in their own format
        fs, root = open_uri(uri)
        written = sum(fs.size(f"{root}/{s['path']}") for s in read_manifest(uri)["shards"])
    else:
        written = sum(t.nbytes for t in iter_tables(uri))
    assert 0.5 * written <= est.bytes <= 2 * written, (est.bytes, written)
