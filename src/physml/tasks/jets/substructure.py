"""Jets and their substructure with FastJet (Cacciari, Salam, Soyez, arXiv 1111.6097): anti-kT
clustering, the invariant mass, and N-subjettiness tau_N (Thaler & Van Tilburg, arXiv 1011.2268)
with exclusive-kT axes, beta = 1:

    tau_N = sum_k pT_k min(dR_1k, ..., dR_Nk) / sum_k pT_k R,

tau_32 = tau_3 / tau_2 is small for three-prong (hadronic top) jets and near 1 for QCD jets."""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np

_BANNER_SHOWN = False


@contextmanager
def _quiet_stdout():
    """FastJet prints its banner to the C stdout on the first clustering of a process: send it away."""
    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        yield
        return
    import sys

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
        _BANNER_SHOWN = True


def _pseudojets(p4: np.ndarray) -> list:
    import fastjet

    out = []
    for i, (px, py, pz, e) in enumerate(p4.tolist()):
        pj = fastjet.PseudoJet(px, py, pz, e)
        pj.set_user_index(i)
        out.append(pj)
    return out


def antikt_jets(p4: np.ndarray, radius: float, pt_min: float) -> list[np.ndarray]:
    """Anti-kT jets of 4-vectors float[n, 4] (px, py, pz, E) with pT > ``pt_min`` (GeV), hardest
    first; each as its constituents' indices int[k] into ``p4``."""
    import fastjet

    if len(p4) == 0:
        return []
    with _quiet_stdout():
        cs = fastjet.ClusterSequence(_pseudojets(p4), fastjet.JetDefinition(fastjet.antikt_algorithm, radius))
        jets = fastjet.sorted_by_pt(cs.inclusive_jets(pt_min))
        return [np.array([c.user_index() for c in j.constituents()], np.int64) for j in jets]


def kt_axes(p4: np.ndarray, n: int) -> np.ndarray:
    """float[n, 4]: the exclusive-kT subjets of constituents float[k, 4] (k >= n)."""
    import fastjet

    with _quiet_stdout():
        cs = fastjet.ClusterSequence(_pseudojets(p4), fastjet.JetDefinition(fastjet.kt_algorithm, 10.0))
        return np.array([[j.px(), j.py(), j.pz(), j.e()] for j in cs.exclusive_jets(n)])


def _rap_phi(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rapidity and azimuth (FastJet's distance uses rapidity)."""
    e, pz = p4[:, 3], p4[:, 2]
    y = 0.5 * np.log(np.maximum(e + pz, 1e-12) / np.maximum(e - pz, 1e-12))
    return y, np.arctan2(p4[:, 1], p4[:, 0])


def delta_r(y1, phi1, y2, phi2) -> np.ndarray:
    dphi = np.mod(phi1 - phi2 + np.pi, 2 * np.pi) - np.pi
    return np.hypot(y1 - y2, dphi)


def tau_n(p4: np.ndarray, n: int, radius: float, axes: np.ndarray | None = None) -> float:
    """N-subjettiness (beta = 1) of constituents float[k, 4]; 0 when k <= n. ``axes`` float[n, 4]
    overrides the exclusive-kT axes."""
    if len(p4) <= n:
        return 0.0
    ax = kt_axes(p4, n) if axes is None else axes
    y, phi = _rap_phi(p4)
    ya, phia = _rap_phi(ax)
    dr = delta_r(y[:, None], phi[:, None], ya[None, :], phia[None, :]).min(1)
    pt = np.hypot(p4[:, 0], p4[:, 1])
    return float((pt * dr).sum() / (pt.sum() * radius))


def mass(p4: np.ndarray) -> float:
    """Invariant mass (GeV) of the sum of 4-vectors float[k, 4]."""
    s = p4.sum(0)
    return float(np.sqrt(max(s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2, 0.0)))


def ratio(num: float, den: float) -> float:
    """tau_N / tau_(N-1), 1 when the denominator vanishes (a jet with no substructure to resolve)."""
    return num / den if den > 0 else 1.0
