"""One entry point for every Ising update: advance and record a batch of chains of one L.

State of a batch: spins int8[n, L, L] (+-1), temperatures float64[n] (the Boltzmann temperature each
chain samples, J = k_B = 1), field h, RNG states uint64[n, 4], and ``aux`` int64[n] (Wolff: cluster
flips per sweep, fixed after thermalization; 0 = not yet calibrated; msc on CUDA: the sweeps done, the
Philox counter). Scalar algorithms use row c of the RNG
for chain c, so a chain's trajectory depends on its own stream only. ``msc`` packs up to 64 chains
into the lanes of one word and draws from row 0 only: its batch is the unit of determinism.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .checkerboard import checkerboard_sweeps, synchronous_sweeps
from .heatbath import heatbath_sweeps
from .hopfield import hopfield_sweeps, noise_for
from .lattice import energy_per_site, magnetization_per_site
from .metropolis import metropolis_sweeps
from .multispin import msc_sweeps, pack, probability_words, unpack
from .wolff import wolff_calibrate, wolff_sweeps

#: name -> (code, needs even L, allows h != 0, samples Boltzmann at T)
ALGORITHMS: dict[str, tuple[int, bool, bool, bool]] = {
    "metropolis": (0, False, True, True),
    "heatbath": (1, False, True, True),
    "hopfield": (2, False, True, True),
    "checkerboard": (3, True, True, True),
    "synchronous": (4, False, True, False),
    "wolff": (5, False, False, True),
    "msc": (6, True, False, True),
}
MAX_LANES = 64


WOLFF_CALIBRATION = 10  # sweeps of calibration when a Wolff chain records with no thermalization


@njit(cache=True)
def _advance(code: int, s: np.ndarray, par: float, h: float, n: int, k: int, st: np.ndarray) -> None:
    if code == 0:
        metropolis_sweeps(s, par, h, n, st)
    elif code == 1:
        heatbath_sweeps(s, par, h, n, st)
    elif code == 2:
        hopfield_sweeps(s, par, h, n, st)
    elif code == 3:
        checkerboard_sweeps(s, par, h, n, st)
    elif code == 4:
        synchronous_sweeps(s, par, h, n, st)
    else:
        wolff_sweeps(s, par, n, k, st)


@njit(cache=True)
def _run_scalar(code, spins, pars, h, rng, aux, nrec, every, n0, e, m, out):
    """Advance chain c by ``n0`` sweeps, then ``nrec`` times by ``every`` sweeps and record."""
    L = spins.shape[1]
    for c in range(spins.shape[0]):
        s, st = spins[c].copy(), rng[c].copy()  # private contiguous copies: ~1.5x faster kernels
        if n0 > 0:
            if code == 5:
                aux[c] = wolff_calibrate(s, pars[c], n0, st)
            else:
                _advance(code, s, pars[c], h, n0, 0, st)
        if code == 5 and nrec > 0 and aux[c] == 0:
            aux[c] = wolff_calibrate(s, pars[c], WOLFF_CALIBRATION, st)
        for r in range(nrec):
            _advance(code, s, pars[c], h, every, aux[c], st)
            e[c, r] = energy_per_site(s, h)
            m[c, r] = magnetization_per_site(s)
            out[c, r, :] = s.reshape(L * L)
        spins[c] = s
        rng[c] = st


@njit(cache=True)
def _lanes(n: int) -> np.uint64:
    return np.uint64(0xFFFFFFFFFFFFFFFF) if n == 64 else (np.uint64(1) << np.uint64(n)) - np.uint64(1)


@njit(cache=True)
def _record(cur, r, e, m, out):
    """Record row ``r`` of every chain from unpacked spins ``cur`` (int8[n, L, L])."""
    L = cur.shape[1]
    for c in range(cur.shape[0]):
        e[c, r] = energy_per_site(cur[c], 0.0)
        m[c, r] = magnetization_per_site(cur[c])
        out[c, r, :] = cur[c].reshape(L * L)


@njit(cache=True)
def _run_msc(spins, p4, p8, rng, nrec, every, n0, e, m, out):
    n = spins.shape[0]
    w = pack(spins)
    lanes = _lanes(n)
    if n0 > 0:
        msc_sweeps(w, p4, p8, lanes, n0, rng[0])
    for r in range(nrec):
        msc_sweeps(w, p4, p8, lanes, every, rng[0])
        _record(unpack(w, n), r, e, m, out)
    spins[:, :, :] = unpack(w, n)


def _run_msc_cuda(spins, p4, p8, rng, aux, nrec, every, n0, e, m, out):
    """The msc batch on a GPU: Philox keyed by the batch's seed stream, its counter the sweeps done
    (kept in ``aux[0]``, so a resumed run draws what an uninterrupted one would)."""
    from .cuda_msc import DeviceLattice, key_of

    n = spins.shape[0]
    dev = DeviceLattice(pack(spins), p4, p8, int(_lanes(n)), key_of(rng[0]), int(aux[0]))
    dev.sweeps(n0)
    for r in range(nrec):
        dev.sweeps(every)
        _record(unpack(dev.host(), n), r, e, m, out)
    spins[:, :, :] = unpack(dev.host(), n)
    aux[0] = dev.sweep


def _params(algorithm: str, temperatures: np.ndarray) -> np.ndarray:
    t = np.asarray(temperatures, dtype=np.float64)
    return noise_for(t) if algorithm == "hopfield" else 1.0 / t


def run(
    algorithm: str,
    spins: np.ndarray,
    temperatures: np.ndarray,
    h: float,
    rng: np.ndarray,
    aux: np.ndarray,
    nrec: int,
    every: int,
    burn: int = 0,
    device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance a batch by ``burn`` sweeps, then record ``nrec`` times every ``every`` sweeps.

    ``device = "cuda"`` runs msc on a GPU (:mod:`.cuda_msc`). Mutates ``spins`` (int8[n, L, L]), ``rng``
    (uint64[n, 4]) and ``aux`` (int64[n]) in place. Returns energy and signed
    magnetization per site, float64[n, nrec] each, and configurations int8[n, nrec, L*L].
    """
    n, L = spins.shape[0], spins.shape[1]
    e = np.empty((n, nrec))
    m = np.empty((n, nrec))
    out = np.empty((n, nrec, L * L), dtype=np.int8)
    if algorithm == "msc":
        if n > MAX_LANES:
            raise ValueError(f"msc packs at most {MAX_LANES} chains per batch, got {n}")
        p4, p8 = probability_words(1.0 / np.asarray(temperatures, dtype=np.float64))
        if device == "cuda":
            _run_msc_cuda(spins, p4, p8, rng, aux, nrec, every, burn, e, m, out)
        else:
            _run_msc(spins, p4, p8, rng, nrec, every, burn, e, m, out)
    else:
        code = ALGORITHMS[algorithm][0]
        _run_scalar(code, spins, _params(algorithm, temperatures), float(h), rng, aux, nrec, every, burn, e, m, out)
    return e, m, out
