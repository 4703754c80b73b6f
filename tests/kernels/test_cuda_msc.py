"""The CUDA multi-spin kernel on numba's CUDA simulator (tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1):
Philox4x32-10 against Random123's known-answer vectors, energies against Kaufman's exact finite-L
values below, at and above Tc, agreement with the CPU msc kernel, determinism and resumption by
sweep count, and the sampler's --device cuda path (same schema as the CPU's)."""

from __future__ import annotations

import numpy as np
import pytest

from physml.kernels.cuda_msc import DeviceLattice, philox
from physml.kernels.ising import run
from physml.kernels.multispin import pack, probability_words, unpack
from physml.kernels.rng import seed_states
from physml.kernels.statistics import mean_error
from physml.physics import TC, kaufman_energy

TEMPS = (1.8, TC, 3.0)
LANES = 63  # 21 chains per temperature
L = 4


@pytest.mark.parametrize(
    "counter, key, want",
    [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ],
)
def test_philox_known_answers(counter, key, want):
    assert tuple(int(x) for x in philox(*counter, *key)) == want


def _energies(device: str, sweeps: int, seed: int) -> np.ndarray:
    """float[63, records] energies per site of 63 chains at L = 4 (21 per temperature), hot start."""
    temps = np.repeat(TEMPS, LANES // 3)
    rng = seed_states(seed, np.arange(LANES))
    spins = np.where(np.random.default_rng(seed).random((LANES, L, L)) < 0.5, 1, -1).astype(np.int8)
    aux = np.zeros(LANES, np.int64)
    e, _, _ = run("msc", spins, temps, 0.0, rng, aux, sweeps, 1, burn=50, device=device)
    return e


@pytest.fixture(scope="module")
def gpu_energies() -> np.ndarray:
    return _energies("cuda", 300, 1)


@pytest.mark.parametrize("k", range(3))
def test_energies_match_kaufman_below_at_and_above_tc(gpu_energies, k):
    e = gpu_energies[21 * k : 21 * (k + 1)]
    mean, err, _ = mean_error(e)
    exact = float(kaufman_energy(L, TEMPS[k])[0])
    assert abs(mean - exact) < 4 * err, (TEMPS[k], mean, err, exact)


@pytest.mark.parametrize("k", range(3))
def test_agrees_with_the_cpu_kernel(gpu_energies, k):
    cpu = _energies("cpu", 3000, 2)[21 * k : 21 * (k + 1)]
    (a, ea, _), (b, eb, _) = mean_error(gpu_energies[21 * k : 21 * (k + 1)]), mean_error(cpu)
    assert abs(a - b) < 4 * np.hypot(ea, eb), (TEMPS[k], a, ea, b, eb)


def test_deterministic_and_resumable_by_sweep_count():
    p4, p8 = probability_words(np.full(64, 1 / TC))
    w = pack(np.where(np.random.default_rng(0).random((64, L, L)) < 0.5, 1, -1).astype(np.int8))
    lanes = (1 << 64) - 1
    once = DeviceLattice(w, p4, p8, lanes, (7, 9), 0)
    once.sweeps(6)
    again = DeviceLattice(w, p4, p8, lanes, (7, 9), 0)
    again.sweeps(6)
    half = DeviceLattice(w, p4, p8, lanes, (7, 9), 0)
    half.sweeps(3)
    resumed = DeviceLattice(half.host(), p4, p8, lanes, (7, 9), half.sweep)
    resumed.sweeps(3)
    assert np.array_equal(once.host(), again.host()) and np.array_equal(once.host(), resumed.host())
    other = DeviceLattice(w, p4, p8, lanes, (8, 9), 0)
    other.sweeps(6)
    assert not np.array_equal(once.host(), other.host())  # another key, another trajectory
    assert unpack(once.host(), 64).shape == (64, L, L)


def test_sampler_device_cuda_writes_the_cpu_schema(tmp_path):
    from physml.errors import InputError
    from physml.platform.data.local import write_in_process
    from physml.platform.data.shards import DatasetWriter, read_table
    from physml.tasks.ising.params import IsingParams
    from physml.tasks.ising.sampler import IsingSampler

    base = dict(L=(4,), temperatures=(2.0, 3.0), replicas=2, sweeps=4, thermalize=2, every=2, algorithm="msc")
    tables = []
    for device in ("cpu", "cuda"):
        s = IsingSampler(IsingParams(**base, device=device))
        uri = str(tmp_path / device)
        write_in_process(s, DatasetWriter(uri, "ising", s.manifest_params(), 0, "test"))
        tables.append(read_table(uri))
    assert tables[0].schema == tables[1].schema and tables[0].num_rows == tables[1].num_rows == 8
    assert "device" not in IsingSampler(IsingParams(**base)).manifest_params()  # older datasets stay valid
    with pytest.raises(InputError, match="--device cuda runs --algorithm msc only"):
        IsingSampler(IsingParams(**{**base, "algorithm": "wolff"}, device="cuda"))
