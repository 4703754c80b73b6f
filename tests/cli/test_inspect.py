"""Inspect before running: `physml config` and `--dry-run` print what a command would do and start
nothing (no Ray, no MLflow store, no data); values that would pass the types but cannot be meant
(infinite, beyond 64 bits, negative decay, a billion epochs) are refused by name before anything."""

import sys
import tomllib

import pytest

from physml.cli import main
from physml.config import from_dict, reference
from physml.tasks import TASKS, load


def _nothing_started(tmp_path):
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "physml-data").exists()
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()


def test_config_prints_the_resolved_config_as_toml_with_help(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["config", "lensing", "-c", "strong", "--set", "train.lr=0.01"]) == 0
    text = capsys.readouterr().out
    parsed = tomllib.loads(text)  # the comments are TOML comments: the output reads back
    cfg = from_dict(load(TASKS["lensing"]).Config, parsed)
    assert cfg.train.lr == 0.01 and cfg.data.crop == 96  # the override and the shipped strong config
    assert "lr = 0.01  # float, default 0.001: learning rate" in text
    _nothing_started(tmp_path)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_key_of_every_task_has_help(name):
    """The reference the docs and `physml config` show: every key documents itself."""
    missing = [d.key for d in reference(load(TASKS[name]).Config) if not d.help]
    assert not missing, f"{name}: keys without a comment: {missing}"


def test_run_dry_run_says_what_it_would_do_and_starts_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["run", "example-oscillator", "-c", "smoke", "--dry-run"]) == 0
    out = capsys.readouterr().out
    tomllib.loads(out)  # config and plan lines are all TOML (comments)
    assert "# training: 1 worker(s) x 0.5 CPU, Ray Train, 3 epoch(s)" in out
    assert "(to be simulated first)" in out and "physml-data/cache/oscillator-" in out
    assert "# ray: a private local instance" in out and f"sqlite:///{tmp_path}/mlflow.db" in out
    _nothing_started(tmp_path)


def test_sweep_dry_run_lists_the_space_and_starts_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "example-oscillator", "-c", "smoke", "--samples", "5", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "# search train.lr: loguniform [0.0001, 0.01]" in out
    assert "# trials: 5, Optuna TPE, scheduler asha, objective val/r2_gamma (max)" in out
    _nothing_started(tmp_path)


BAD = [
    ("train.lr=inf", "train.lr = inf: expected a finite number"),
    ("train.lr=nan", "train.lr = nan: expected a finite number"),
    ("train.weight_decay=-5", "train.weight_decay = -5.0: must be >= 0"),
    ("train.epochs=1000000000000", "train.epochs = 1000000000000: at most 100000"),
    ("train.epochs=99999999999999999999", "outside the 64-bit integer range"),
    ("train.seed=-1", "train.seed = -1: must be in 0..2^63-1"),
    ("train.momentum=1.5", "train.momentum = 1.5: must be in [0, 1)"),
]


@pytest.mark.parametrize("override,needle", BAD)
def test_values_no_one_means_are_refused_before_anything(override, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "example-oscillator", "-c", "smoke", "--set", override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("physml: error:") and "\n" not in err and needle in err, err
    _nothing_started(tmp_path)
