"""The developer guide's example task: its source solves the oscillator equation, and the one loop
learns the damping rate from noisy trajectories."""

from __future__ import annotations

import numpy as np
import pytest

from physml.config import from_dict, load_toml
from physml.tasks import config_path
from physml.tasks.example.source import OscillatorParams, OscillatorSource, trajectory
from physml.tasks.example.task import Oscillator


@pytest.mark.parametrize("gamma, omega0", [(0.05, 1.0), (0.3, 2.0), (0.5, 3.0)])
def test_trajectory_solves_the_damped_oscillator(gamma, omega0):
    """x'' + 2 gamma x' + omega0^2 x = 0, x(0) = 1, x'(0) = 0, checked by central differences (error
    O(h^2): h = 1e-3 leaves residuals below 1e-4 of omega0^2)."""
    h = 1e-3
    t = np.linspace(0.5, 8.0, 50)
    x = trajectory(t, gamma, omega0)
    d1 = (trajectory(t + h, gamma, omega0) - trajectory(t - h, gamma, omega0)) / (2 * h)
    d2 = (trajectory(t + h, gamma, omega0) - 2 * x + trajectory(t - h, gamma, omega0)) / h**2
    assert np.abs(d2 + 2 * gamma * d1 + omega0**2 * x).max() < 1e-4 * omega0**2
    assert trajectory(np.array([0.0]), gamma, omega0)[0] == pytest.approx(1.0)
    assert (trajectory(np.array([h]), gamma, omega0)[0] - trajectory(np.array([-h]), gamma, omega0)[0]) / (2 * h) == (
        pytest.approx(0.0, abs=1e-5)
    )


def test_noise_has_the_configured_spread_and_items_are_deterministic():
    src = OscillatorSource(OscillatorParams(n=1500, steps=64, noise=0.1, seed=3))
    item = src.items()[0]
    a, b = src.make(item), src.make(item)
    assert a.equals(b)
    x = np.stack(a.column("x").to_numpy(zero_copy_only=False))
    t = np.linspace(0.0, 10.0, 64)
    clean = np.stack([trajectory(t, g, w) for g, w in zip(a.column("gamma").to_numpy(), a.column("omega0").to_numpy())])
    resid = (x - clean).ravel()
    # 64,000 draws: the sample sd of N(0, 0.1) is within 4 standard errors (0.1 / sqrt(2 n)) of 0.1
    assert abs(resid.std() - 0.1) < 4 * 0.1 / np.sqrt(2 * resid.size)


def test_bad_ranges_are_refused_by_name():
    with pytest.raises(ValueError, match="omega0"):
        OscillatorParams(gamma=(0.5, 2.0), omega0=(1.0, 3.0))


def test_the_loop_learns_the_damping_rate():
    """The smoke data, 20 epochs of the one loop in this process: r^2 of gamma on held-out
    oscillators far above 0 (a constant predictor scores 0)."""
    from physml.platform.data.local import write_in_process
    from physml.platform.data.shards import DatasetWriter
    from physml.platform.evaluation import evaluate_splits
    from physml.platform.training.inline import inline_splits, train_inline
    from physml.platform.training.runplan import RunPlan

    task = Oscillator()
    cfg = from_dict(task.Config, {**load_toml(config_path(task.name, "smoke")), "train": {"epochs": 20, "lr": 0.003}})
    sim = task.simulation(cfg)
    src = sim.source()
    uri = "memory://tests/example-oscillator"
    write_in_process(src, DatasetWriter(uri, src.kind, src.manifest_params(), 0, "test"))
    specs = task.datasets(cfg, uri)
    model, _ = train_inline(task, RunPlan(task.name, cfg), inline_splits(cfg, specs))
    metrics = evaluate_splits(task, model, cfg, specs)
    assert metrics["test/r2_gamma"] > 0.6 and metrics["test/r2_omega0"] > 0.8
