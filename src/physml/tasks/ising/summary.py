"""Per-temperature observables of a simulated dataset and the Binder-cumulant estimate of Tc.

Estimators per (L, T), pooling the replicas (N = L^2 sites, |m| per site, e per site):
<e> and <|m|> with errors sqrt(2 tau_int var / n) (Sokal windowing); chi = N (<m^2> - <|m|>^2) / T;
C = N (<e^2> - <e>^2) / T^2; U4 = 1 - <m^4> / (3 <m^2>^2) (Binder, Z. Phys. B 43, 119 (1981)),
with jackknife errors over blocks. Binder crossings and Tc come from the reweighted curves of
:mod:`.reweighting`.
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
