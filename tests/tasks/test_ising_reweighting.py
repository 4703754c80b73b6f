"""Multiple-histogram reweighting against exact enumeration (no Ray): the solver's partition-function
ratios on exact Boltzmann samples, the reweighted observables between simulated temperatures, a known
Binder crossing (L = 2 / 4, exact), the extrapolation in L, and `physml analyse ising`."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import logsumexp

from physml.cli import main
from physml.physics.enumeration import all_states, boltzmann, energies, exact_moments
from physml.platform.data.local import write_in_process
from physml.platform.data.shards import DatasetWriter, read_table
from physml.tasks.ising.params import IsingParams
from physml.tasks.ising.reweighting import Reweighting, Runs, analyse_series, bracket, extrapolate
from physml.tasks.ising.sampler import IsingSampler
from physml.tasks.ising.summary import COLUMNS, _series


def simulated(uri: str, L: tuple[int, ...], temps: tuple[float, ...], sweeps: int, seed: int = 0) -> str:
    p = IsingParams(
        L=L, temperatures=temps, replicas=4, sweeps=sweeps, thermalize=500, every=2, algorithm="wolff", seed=seed
    )
    source = IsingSampler(p)
    write_in_process(source, DatasetWriter(uri, "ising", source.manifest_params(), p.seed, "test"))
    return uri


def test_free_energies_of_exact_boltzmann_samples():
    """Independent samples drawn from the exact L = 4 distributions at four temperatures: the solved
    ln Z_k - ln Z_0 agree with enumeration within 4 standard errors (the spread over 20 repeats)."""
    rng = np.random.default_rng(0)
    temps = np.array([2.0, 2.3, 2.6, 3.0])
    E_all = energies(all_states(4)).astype(float)
    exact = np.array([logsumexp(-E_all / T) for T in temps])
    exact -= exact[0]
    got = []
    for _ in range(20):
        e, run = [], []
        for k, T in enumerate(temps):
            p, E, _ = boltzmann(4, T)
            e.append(E[rng.choice(E.size, 3000, p=p)] / 16)
            run.append(np.full(3000, k))
        e, run = np.concatenate(e), np.concatenate(run)
        runs = Runs(4, temps, e, np.zeros_like(e), run, np.zeros_like(run), np.zeros_like(run), np.ones(4))
        got.append(Reweighting(runs).lnZ)
    got = np.array(got)
    se = got.std(0, ddof=1)
    assert np.all(np.abs(got.mean(0) - exact)[1:] < 4 * se[1:] / np.sqrt(20) + 1e-12), (got.mean(0), exact)


@pytest.fixture(scope="module")
def l4(tmp_path_factory):
    uri = f"file://{tmp_path_factory.mktemp('rw')}/l4"
    return _series(read_table(simulated(uri, (4,), (2.0, 2.2, 2.4, 2.6), 20000), columns=COLUMNS))


@pytest.mark.parametrize("T", [2.1, 2.3, 2.5])
def test_reweighted_observables_between_temperatures_match_enumeration(l4, T):
    res = analyse_series(l4, points=7)["curves"][4]  # T = 2.0, 2.1, ..., 2.6
    i = int(np.argmin(np.abs(res["T"] - T)))
    exact = exact_moments(4, T)
    names = {"e": "energy", "abs_m": "abs_magnetization", "C": "specific_heat", "chi": "susceptibility", "U4": "binder"}
    for key, name in names.items():
        dev = (res[key][i] - exact[name]) / res[f"{key}_err"][i]
        assert abs(dev) < 4, (key, T, res[key][i], exact[name], res[f"{key}_err"][i])


def test_a_known_crossing_l2_l4(tmp_path):
    """The U4 curves of L = 2 and L = 4 cross where enumeration says (within 3.5 standard errors)."""
    exact = brentq(lambda T: exact_moments(2, T)["binder"] - exact_moments(4, T)["binder"], 2.0, 2.25)
    temps = (1.9, 2.0, 2.1, 2.2, 2.3)
    series = _series(read_table(simulated(str(tmp_path / "l24"), (2, 4), temps, 40000, seed=3), columns=COLUMNS))
    (c,) = analyse_series(series, points=5)["crossings"]
    assert 0 < c["tc_err"] < 0.05 and abs(c["tc"] - exact) < 3.5 * c["tc_err"], (c["tc"], c["tc_err"], exact)


def test_bracket_picks_the_critical_crossing_not_the_tail():
    t = np.r_[np.linspace(2.0, 2.5, 11), 2.8, 3.2]
    ua = 0.61 * 0.5 * (1 - np.tanh((t - 2.27) / 0.1))
    ub = 0.61 * 0.5 * (1 - np.tanh(2 * (t - 2.27) / 0.1))
    ua[-2:] = ub[-2:] = 0.0  # both vanish at high T: a "crossing" in the tail too
    lo, hi = bracket(t, ua, ub)
    assert lo <= 2.27 <= hi


def test_extrapolation_recovers_tc_from_crossings_with_a_correction():
    rng = np.random.default_rng(1)
    sizes = [8, 16, 32, 64]
    cross = []
    jack = rng.normal(0, 1e-4, (20, len(sizes)))
    for i, L in enumerate(sizes):
        tc = 2.269185 - 0.8 * L**-2.5
        cross.append(dict(L1=L, L2=2 * L, tc=tc, tc_err=1e-4, tc_jack=tc + jack[:, i] / np.sqrt(19)))
    res = extrapolate(cross)
    assert abs(res["tc"] - 2.269185) < 1e-4 and "fit Tc + a L^-x" in res["method"]
    one = extrapolate(cross[:1])
    assert one["tc"] == cross[0]["tc"] and "L=8/16" in one["method"]


def test_physml_analyse_ising_prints_tc_and_refuses_another_kind(workdir, capsys):
    uri = simulated(str(workdir / "d"), (4, 8), (2.1, 2.2, 2.3, 2.4), 4000)
    assert main(["analyse", "ising", "--data", uri, "--brief"]) == 0
    out = capsys.readouterr().out
    assert "Binder crossing L=4/8 (reweighted)" in out
    assert [line for line in out.splitlines() if line.startswith("Tc = ")]
    assert main(["analyse", "jets", "--data", uri]) == 2
    assert "holds kind 'ising'" in capsys.readouterr().err
