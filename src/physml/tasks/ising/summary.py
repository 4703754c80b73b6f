"""Per-temperature observables of a simulated dataset and the Binder-cumulant estimate of Tc.

Estimators per (L, T), pooling the replicas (N = L^2 sites, |m| per site, e per site):
<e> and <|m|> with errors sqrt(2 tau_int var / n) (Sokal windowing); chi = N (<m^2> - <|m|>^2) / T;
C = N (<e^2> - <e>^2) / T^2; U4 = 1 - <m^4> / (3 <m^2>^2) (Binder, Z. Phys. B 43, 119 (1981)),
with jackknife errors over blocks.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from physml.kernels.statistics import jackknife, mean_error
from physml.physics import kaufman_energy, kaufman_specific_heat

COLUMNS = ["L", "temperature", "chain", "sweep", "energy", "magnetization"]


def _series(table: pa.Table) -> dict[tuple[int, float], dict[str, np.ndarray]]:
    """(L, T) -> {"e", "m"}: float[chains, n] time series ordered by sweep."""
    cols = {c: table.column(c).to_numpy() for c in COLUMNS}
    order = np.lexsort((cols["sweep"], cols["chain"], cols["temperature"], cols["L"]))
    cols = {k: v[order] for k, v in cols.items()}
    out = {}
    for L in np.unique(cols["L"]):
        for T in np.unique(cols["temperature"][cols["L"] == L]):
            sel = (cols["L"] == L) & (cols["temperature"] == T)
            chains = np.unique(cols["chain"][sel])
            n = sel.sum() // chains.size
            out[(int(L), float(T))] = {
                k: cols[c][sel][: n * chains.size].reshape(chains.size, n)
                for k, c in (("e", "energy"), ("m", "magnetization"))
            }
    return out


def _binder(d):
    m2 = np.mean(d["m"] ** 2)
    return 1.0 - np.mean(d["m"] ** 4) / (3.0 * m2**2) if m2 > 0 else float("nan")


def summarize(table: pa.Table, field: float = 0.0, exact: bool = True) -> list[dict]:
    """One dict per (L, T): e, e_err, tau_e, abs_m, abs_m_err, tau_m, chi, chi_err, C, C_err, U4,
    U4_err, records, chains, and the exact finite-L energy/specific heat (h = 0 only)."""
    rows = []
    for (L, T), s in sorted(_series(table).items()):
        N = L * L
        e, e_err, tau_e = mean_error(s["e"])
        am, am_err, tau_m = mean_error(np.abs(s["m"]))
        chi = jackknife(s, lambda d, N=N, T=T: N * (np.mean(d["m"] ** 2) - np.mean(np.abs(d["m"])) ** 2) / T)
        cv = jackknife(s, lambda d, N=N, T=T: N * np.var(d["e"]) / T**2)
        u4 = jackknife(s, _binder)
        row = dict(
            L=L,
            T=T,
            e=e,
            e_err=e_err,
            tau_e=tau_e,
            abs_m=am,
            abs_m_err=am_err,
            tau_m=tau_m,
            chi=chi[0],
            chi_err=chi[1],
            C=cv[0],
            C_err=cv[1],
            U4=u4[0],
            U4_err=u4[1],
            chains=s["e"].shape[0],
            records=s["e"].shape[1],
        )
        if field == 0 and exact:
            row["e_exact"] = float(kaufman_energy(L, T)[0])
            row["C_exact"] = float(kaufman_specific_heat(L, T)[0])
        rows.append(row)
    return rows


def _sampled_crossing(ua: np.ndarray, ub: np.ndarray) -> int:
    """Index i where U4_a - U4_b changes sign between i and i+1 with the largest U4 (the critical
    crossing near U4* = 0.61, not the high-T tail where both vanish); -1 if none."""
    d = ua - ub
    idx = [i for i in range(d.size - 1) if d[i] == 0 or d[i] * d[i + 1] < 0]
    return max(idx, key=lambda i: ua[i] + ub[i]) if idx else -1


def _crossing(t: np.ndarray, ua: np.ndarray, ub: np.ndarray, deg: int) -> float:
    """T where polynomial fits of U4_a(T) and U4_b(T) cross, nearest the sampled crossing."""
    diff = np.polyfit(t, ua, deg) - np.polyfit(t, ub, deg)
    roots = np.roots(diff)
    roots = roots[np.isreal(roots)].real
    roots = roots[(roots >= t.min()) & (roots <= t.max())]
    if roots.size == 0:
        return float("nan")
    i = _sampled_crossing(ua, ub)
    guess = 0.5 * (t[i] + t[i + 1]) if i >= 0 else t[np.argmin(np.abs(ua - ub))]
    return float(roots[np.argmin(np.abs(roots - guess))])


def binder_crossings(rows: list[dict], window: int = 7, boot: int = 400, seed: int = 0) -> list[dict]:
    """Tc from the U4 crossing of each pair of successive sizes, with a parametric-bootstrap error.

    Around the sampled crossing, U4(T) of each L is fitted by a cubic (quadratic for < 6 points) over
    ``window`` temperatures; the error is the spread of crossings when every U4 is redrawn from
    N(U4, U4_err). Returns [{"L1", "L2", "tc", "tc_err"}].
    """
    sizes = sorted({r["L"] for r in rows})
    rng = np.random.default_rng(seed)
    out = []
    for La, Lb in zip(sizes, sizes[1:]):
        a = {r["T"]: r for r in rows if r["L"] == La}
        b = {r["T"]: r for r in rows if r["L"] == Lb}
        t = np.array(sorted(set(a) & set(b)))
        if t.size < 3:
            continue
        ua, ub = (np.array([d[x]["U4"] for x in t]) for d in (a, b))
        sa, sb = (np.array([d[x]["U4_err"] for x in t]) for d in (a, b))
        i = _sampled_crossing(ua, ub)
        if i < 0:
            out.append(dict(L1=La, L2=Lb, tc=float("nan"), tc_err=float("nan")))
            continue
        lo = max(0, min(i + 1 - window // 2, t.size - window))
        sl = slice(lo, lo + window)
        deg = 3 if t[sl].size >= 6 else min(2, t[sl].size - 1)
        tc = _crossing(t[sl], ua[sl], ub[sl], deg)
        draws = [
            _crossing(
                t[sl],
                ua[sl] + sa[sl] * rng.standard_normal(t[sl].size),
                ub[sl] + sb[sl] * rng.standard_normal(t[sl].size),
                deg,
            )
            for _ in range(boot)
        ]
        out.append(dict(L1=La, L2=Lb, tc=tc, tc_err=float(np.nanstd(draws))))
    return out
