"""The GPE ground-state solver against exact results, and the dataset it writes.

Tolerances are the discretisation's: the converged state of the split-step scheme carries an O(dtau^2)
error (2e-6 of max |psi| at the default final step 0.005) and the energy an O(dtau^4) one.
"""

from __future__ import annotations

import numpy as np
import pytest

from physml.tasks.gpe.potentials import PotentialFamily, draw
from physml.tasks.gpe.solver import Grid, energies, ground_states, normalise
from physml.tasks.gpe.source import GPEParams, GPESource

GRIDS = {1: Grid(1, 128, 20.0), 2: Grid(2, 48, 14.0)}


def _harmonic(grid: Grid, omega: float, x0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r2 = sum((c - x0) ** 2 for c in grid.coords) * np.ones(grid.shape)
    return 0.5 * omega**2 * r2, r2


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("omega", [0.7, 1.5])
def test_g0_harmonic_trap_gives_the_gaussian_and_d_over_2_omega(dim, omega):
    grid = GRIDS[dim]
    V, r2 = _harmonic(grid, omega, x0=0.4)
    psi, info = ground_states(V[None], np.array([0.0]), grid)
    exact = (omega / np.pi) ** (dim / 4) * np.exp(-omega * r2 / 2)
    assert info["converged"][0]
    assert info["E"][0] == pytest.approx(dim * omega / 2, rel=1e-9)
    assert np.abs(psi[0] - exact).max() < 1e-5


def test_thomas_fermi_limit_at_large_g():
    """1D, omega = 1: mu -> mu_TF = R^2 / 2 with R = (3 g / 2)^(1/3) and |psi|^2 -> (mu - V) / g in the
    bulk; the kinetic corrections shrink as g grows."""
    grid = Grid(1, 512, 40.0)
    x = grid.coords[0]
    g = np.array([300.0, 1000.0])
    psi, info = ground_states(np.stack([0.5 * x**2] * 2), g, grid)
    rel = []
    for i, gi in enumerate(g):
        radius = (1.5 * gi) ** (1 / 3)
        mu_tf = radius**2 / 2
        rel.append(info["mu"][i] / mu_tf - 1)
        bulk = np.abs(x) < 0.7 * radius
        assert np.abs(psi[i][bulk] ** 2 / ((mu_tf - x[bulk] ** 2 / 2) / gi) - 1).max() < 2e-3
    assert 0 < rel[1] < rel[0] < 1e-3


@pytest.mark.parametrize("dim", [1, 2])
def test_virial_theorem_in_a_harmonic_trap(dim):
    """2 E_kin - 2 E_pot + d E_int = 0 (Pitaevskii & Stringari, Bose-Einstein Condensation, ch. 11)."""
    grid = GRIDS[dim]
    V, _ = _harmonic(grid, 1.0)
    g = np.array([0.0, 10.0, 100.0])
    _, info = ground_states(np.stack([V] * 3), g, grid)
    virial = 2 * info["kin"] - 2 * info["pot"] + dim * info["int"]
    assert np.all(np.abs(virial) / info["E"] < 2e-5)


def test_splitting_error_is_second_order_in_the_time_step():
    """The converged state's error against the exact Gaussian falls 4x per halved dtau (the energy 16x:
    the functional is stationary at the ground state)."""
    grid = GRIDS[1]
    V, r2 = _harmonic(grid, 1.0)
    exact = np.pi**-0.25 * np.exp(-r2 / 2)
    errs, e_errs = [], []
    for dtau in (0.04, 0.02, 0.01):
        psi, info = ground_states(V[None], np.array([0.0]), grid, dtaus=(dtau,), tol=1e-13)
        errs.append(np.abs(psi[0] - exact).max())
        e_errs.append(info["E"][0] - 0.5)
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    e_orders = np.log2(np.array(e_errs[:-1]) / np.array(e_errs[1:]))
    assert np.all(np.abs(orders - 2) < 0.1), orders
    assert np.all(np.abs(e_orders - 4) < 0.2), e_orders


def test_energy_functional_is_minimal_at_the_ground_state():
    """Any normalised perturbation raises E[psi] (the variational principle), to second order."""
    grid = GRIDS[1]
    rng = np.random.default_rng(1)
    drawn = draw(rng, PotentialFamily(), grid, 8)
    psi, info = ground_states(drawn["V"], drawn["g"], grid)
    for eps in (1e-2, 1e-3):
        bumped = normalise(psi + eps * rng.normal(size=psi.shape) * psi.max(), grid)
        rise = energies(bumped, drawn["V"], drawn["g"], grid)["E"] - info["E"]
        assert np.all(rise > 0)
    assert np.all(info["residual"] < 5e-3)


def test_source_rows_are_normalised_deterministic_and_shifted():
    src = GPESource(GPEParams(n=40, points=64, box=16.0, seed=3))
    item = src.items()[0]
    a, b = src.make(item), src.make(item)
    assert a.equals(b)
    psi = np.stack(a.column("psi").to_numpy(zero_copy_only=False))
    V = np.stack(a.column("V").to_numpy(zero_copy_only=False))
    assert np.allclose((psi.astype(np.float64) ** 2).sum(1) * 16.0 / 64, 1.0, atol=1e-5)
    assert np.allclose(V.min(1), 0.0) and np.all(a.column("E").to_numpy() > 0)
    g = a.column("g").to_numpy()
    assert g.min() >= 0 and g.max() <= 100
    assert a.column("converged").to_numpy(zero_copy_only=False).all() and a.column("residual").to_numpy().max() < 5e-3
    other = GPESource(GPEParams(n=40, points=64, box=16.0, seed=4)).make(item)
    assert not np.allclose(other.column("g").to_numpy(), g)


@pytest.mark.parametrize(
    "kw,needle",
    [
        ({"dim": 3}, "dim = 3: 1 or 2"),
        ({"points": 7}, "points = 7"),
        ({"dtaus": (0.5,)}, "dtaus = [0.5]"),
        ({"family": {"omega": (0.0, 1.0)}}, "omega = 0.0 1.0"),
        ({"family": {"g": (5.0, 1.0)}}, "g = 5.0 1.0"),
    ],
)
def test_bad_parameters_are_named(kw, needle):
    with pytest.raises(ValueError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        GPESource.from_dict(kw)


def test_the_loop_learns_ground_states():
    """The smoke data in this process, 30 epochs of the one loop: held-out states far closer than the
    best constant guess (the training states' mean), fidelity near 1, and the energy functional of the
    predictions near the true energies."""
    from physml.config import from_dict, load_toml
    from physml.platform.data.local import write_in_process
    from physml.platform.data.shards import DatasetWriter, read_table
    from physml.platform.evaluation import evaluate_splits
    from physml.platform.training.inline import inline_splits, train_inline
    from physml.platform.training.runplan import RunPlan
    from physml.tasks import config_path
    from physml.tasks.gpe.task import GroundStates, to_arrays

    task = GroundStates()
    smoke = load_toml(config_path(task.name, "smoke"))
    cfg = from_dict(task.Config, {**smoke, "train": {**smoke["train"], "epochs": 30}})
    src = task.simulation(cfg).source()
    uri = "memory://tests/gpe-smoke"
    write_in_process(src, DatasetWriter(uri, src.kind, src.manifest_params(), 0, "test"))
    specs = task.datasets(cfg, uri)
    model, _ = train_inline(task, RunPlan(task.name, cfg), inline_splits(cfg, specs))
    metrics = evaluate_splits(task, model, cfg, specs)
    rows = {k: v.to_numpy(zero_copy_only=False) for k, v in zip(read_table(uri).column_names, read_table(uri).columns)}
    train, test = to_arrays(rows, 2, cfg.data), to_arrays(rows, 1, cfg.data)
    constant = ((test["y"] - train["y"].mean(0)) ** 2).mean()
    assert metrics["test/mse"] < 0.02 * constant
    assert metrics["test/fidelity"] > 0.995 and metrics["test/e_rel_err"] < 0.01
