"""Judging generated configurations by physics: per-temperature observables and distribution distances
between generated and Monte Carlo sets (energy per site e and magnetization per site m, J = k_B = 1).

C = N var(e) / T^2 and chi = N (<m^2> - <|m|>^2) / T, as in ``physml.tasks.ising.summary``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def observables(spins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(e, m): energy and magnetization per site, float[n], of spins float/int[n, L, L] (+-1, periodic)."""
    s = np.asarray(spins, dtype=np.float64)
    bonds = s * np.roll(s, 1, axis=1) + s * np.roll(s, 1, axis=2)
    return -bonds.mean(axis=(1, 2)), s.mean(axis=(1, 2))


def moments(e: np.ndarray, m: np.ndarray, T: float, L: int) -> dict:
    """<e>, its standard error (independent samples), <|m|>, C and chi of one set at (L, T)."""
    N, am = L * L, np.abs(m)
    return {
        "e": float(e.mean()),
        "e_se": float(e.std(ddof=1) / np.sqrt(e.size)) if e.size > 1 else float("nan"),
        "abs_m": float(am.mean()),
        "C": float(N * e.var() / T**2),
        "chi": float(N * (np.mean(m**2) - am.mean() ** 2) / T),
    }


def sector_imbalance(m: np.ndarray) -> float:
    """|f+ - f-| of the sign sectors (m = 0 counts half to each): 0 when both are equally populated,
    as in an ergodic Z2-symmetric ensemble, 1 when every sample has the same sign (mode collapse)."""
    plus = np.mean(m > 0) + 0.5 * np.mean(m == 0)
    return float(abs(2 * plus - 1))


def mean_overlap(spins: np.ndarray, max_samples: int = 400) -> float:
    """Mean |q_ab| over pairs a != b, q_ab = (1/N) sum_i s_i^a s_i^b (Parisi's overlap), of at most
    ``max_samples`` configurations int/float[n, L, L]: 1 when every sample is the same configuration
    (or its flip), about sqrt(2 / (pi N)) for independent random ones. Generated above Monte Carlo at
    the same T: samples too alike, the mode collapse of the seed's Fig. 3."""
    s = np.asarray(spins[:max_samples], dtype=np.float64).reshape(min(len(spins), max_samples), -1)
    if len(s) < 2:
        return float("nan")
    q = np.abs(s @ s.T) / s.shape[1]
    return float((q.sum() - np.trace(q)) / (len(s) * (len(s) - 1)))


def compare(mc: tuple[np.ndarray, np.ndarray], gen: tuple[np.ndarray, np.ndarray], T: float, L: int) -> dict:
    """Generated (e, m) vs Monte Carlo (e, m) at (L, T): first Wasserstein distances and two-sample KS
    statistics of e and |m|, both sets' moments, the relative error of <e> and its significance in
    standard errors, the energy spread ratio std(e_gen)/std(e_mc) and the sector imbalances."""
    (e0, m0), (e1, m1) = mc, gen
    a, b = moments(e0, m0, T, L), moments(e1, m1, T, L)
    se = float(np.hypot(a["e_se"], b["e_se"]))
    out = {
        "L": L,
        "T": T,
        "n_mc": int(e0.size),
        "n_gen": int(e1.size),
        "w1_e": float(stats.wasserstein_distance(e0, e1)),
        "ks_e": float(stats.ks_2samp(e0, e1).statistic),
        "w1_m": float(stats.wasserstein_distance(np.abs(m0), np.abs(m1))),
        "ks_m": float(stats.ks_2samp(np.abs(m0), np.abs(m1)).statistic),
        "e_rel_err": float((b["e"] - a["e"]) / abs(a["e"])),
        "e_dev_se": float((b["e"] - a["e"]) / se) if se > 0 else 0.0,
        "spread_ratio": float(e1.std() / e0.std()) if e0.std() > 0 else float("nan"),
        "imbalance_mc": sector_imbalance(m0),
        "imbalance_gen": sector_imbalance(m1),
    }
    out.update({f"{k}_mc": v for k, v in a.items()})
    out.update({f"{k}_gen": v for k, v in b.items()})
    return out
