"""Multiple-histogram reweighting of one lattice size's runs at several temperatures (Ferrenberg &
Swendsen, Phys. Rev. Lett. 63, 1195 (1989)), each sample weighted by its run's statistical
inefficiency g = 2 tau_int (Chodera et al., J. Chem. Theory Comput. 3, 26 (2007)), so that <e>,
<|m|>, chi, C and U4 are continuous functions of T between the simulated temperatures; errors by
jackknife over (chain, block) deletions; Binder crossings of successive sizes found on the
reweighted curves (Binder, Z. Phys. B 43, 119 (1981)).

Conventions (as :mod:`.summary`): e and m per site, chi = N (<m^2> - <|m|>^2) / T,
C = N (<e^2> - <e>^2) / T^2, U4 = 1 - <m^4> / (3 <m^2>^2); k_B = J = 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp

from physml.kernels.statistics import tau_int

BLOCKS = 5  # jackknife blocks per chain (x chains = deletions)


@dataclass
class Runs:
    """One size's samples, flattened: ``e``, ``m`` float[S] per site, ``run`` int[S] (index into
    ``temperatures``), ``chain`` int[S], ``block`` int[S] (time block within its chain)."""

    L: int
    temperatures: np.ndarray
    e: np.ndarray
    m: np.ndarray
    run: np.ndarray
    chain: np.ndarray
    block: np.ndarray
    g: np.ndarray = field(default_factory=lambda: np.zeros(0))  # statistical inefficiency per run

    @property
    def N(self) -> int:
        return self.L * self.L


def runs_of(series: dict[float, dict[str, np.ndarray]], L: int) -> Runs:
    """:class:`Runs` of one size from {T: {"e", "m": float[chains, n]}} (as ``summary._series``)."""
    temps = np.array(sorted(series))
    parts: dict[str, list] = {k: [] for k in ("e", "m", "run", "chain", "block")}
    g = np.zeros(len(temps))
    for k, T in enumerate(temps):
        s = series[T]
        chains, n = s["e"].shape
        g[k] = max(1.0, 2 * max(tau_int(c) for c in s["e"]))
        parts["e"].append(s["e"].ravel())
        parts["m"].append(s["m"].ravel())
        parts["run"].append(np.full(chains * n, k))
        parts["chain"].append(np.repeat(np.arange(chains), n))
        parts["block"].append(np.tile(np.arange(n) * BLOCKS // max(n, 1), chains))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return Runs(L, temps, cat["e"], cat["m"], cat["run"], cat["chain"], cat["block"], g)


class Reweighting:
    """The density of states of ``runs`` (the samples where ``keep``), solved once; then any
    temperature within the simulated range. Samples are grouped by their total energy (the Ising
    model's takes at most N + 1 values), so an iteration costs (energies x runs), not samples."""

    def __init__(self, runs: Runs, keep: np.ndarray | None = None, start: np.ndarray | None = None):
        keep = np.ones(runs.e.size, bool) if keep is None else keep
        self.runs, self.beta, K = runs, 1.0 / runs.temperatures, len(runs.temperatures)
        E = np.round(runs.e[keep] * runs.N, 6)  # total energies
        self.E, level = np.unique(E, return_inverse=True)
        k, w = runs.run[keep], 1.0 / runs.g[runs.run[keep]]  # each sample counts 1/g of its run
        U = self.E.size
        self.h = np.bincount(level, weights=w, minlength=U)  # sum of weights per energy level
        am, e = np.abs(runs.m[keep]), runs.e[keep]
        self.sums = {
            "e": np.bincount(level, weights=w * e, minlength=U),
            "e2": np.bincount(level, weights=w * e * e, minlength=U),
            "abs_m": np.bincount(level, weights=w * am, minlength=U),
            "m2": np.bincount(level, weights=w * am**2, minlength=U),
            "m4": np.bincount(level, weights=w * am**4, minlength=U),
        }
        counts = np.bincount(k, minlength=K).astype(float)
        self.ln_n = np.log(np.maximum(counts, 1e-300) / runs.g)  # effective samples per run
        self.lnZ = self._solve(start if start is not None else self._guess(E, k))

    def _guess(self, E: np.ndarray, k: np.ndarray) -> np.ndarray:
        """ln Z_k by stepping from one temperature to the next: ln <exp(-(b_k+1 - b_k) E)>_k."""
        lnZ = np.zeros(len(self.beta))
        for j in range(1, len(self.beta)):
            Ej = E[k == j - 1]
            lnZ[j] = lnZ[j - 1] + logsumexp(-(self.beta[j] - self.beta[j - 1]) * Ej) - np.log(max(Ej.size, 1))
        return lnZ

    def _solve(self, lnZ: np.ndarray, tol: float = 1e-11, iters: int = 100000) -> np.ndarray:
        """The Ferrenberg-Swendsen equations ln Z_k = ln sum_E h(E) e^(-b_k E) / sum_l n_l e^(-b_l E - ln Z_l)."""
        M = -np.outer(self.E, self.beta)  # float[U, K]
        ln_h = np.log(np.maximum(self.h, 1e-300))
        for _ in range(iters):
            ln_d = logsumexp(self.ln_n - lnZ + M, axis=1)
            new = logsumexp((ln_h - ln_d)[:, None] + M, axis=0)
            new -= new[0]
            done = np.max(np.abs(new - lnZ)) < tol
            lnZ = new
            if done:
                break
        self.ln_d = logsumexp(self.ln_n - lnZ + M, axis=1)  # the density of states is h(E) / D(E)
        return lnZ

    def moments(self, T: float) -> dict[str, float]:
        """<e>, <e^2>, <|m|>, <m^2>, <m^4> at temperature ``T``: sum_E e^(-E/T) O(E) / D(E) over
        sum_E e^(-E/T) h(E) / D(E), O(E) the weighted sum of O over the level's samples."""
        lq = -self.E / T - self.ln_d
        q = np.exp(lq - lq.max())
        z = q @ self.h
        return {k: (q @ v) / z for k, v in self.sums.items()}

    def observables(self, T: float) -> dict[str, float]:
        """<e>, <|m|>, chi, C and U4 at ``T`` (within the simulated range)."""
        mo, N = self.moments(T), self.runs.N
        return {
            "e": mo["e"],
            "abs_m": mo["abs_m"],
            "chi": N * (mo["m2"] - mo["abs_m"] ** 2) / T,
            "C": N * (mo["e2"] - mo["e"] ** 2) / T**2,
            "U4": 1 - mo["m4"] / (3 * mo["m2"] ** 2),
        }

    def u4(self, T: float) -> float:
        return self.observables(T)["U4"]


def deletions(runs: Runs) -> list[np.ndarray]:
    """The jackknife's samples: every (chain, block) left out in turn (all temperatures at once)."""
    pairs = sorted({(int(c), int(b)) for c, b in zip(runs.chain, runs.block)})
    return [~((runs.chain == c) & (runs.block == b)) for c, b in pairs]


def jackknife_error(values: np.ndarray) -> np.ndarray:
    """The jackknife standard error of estimates float[deletions, ...] (NaN deletions ignored)."""
    values = np.asarray(values, float)
    n = np.sum(np.isfinite(values), 0)
    dev = np.nansum((values - np.nanmean(values, 0)) ** 2, 0)
    return np.sqrt(np.where(n > 1, (n - 1) / np.maximum(n, 1) * dev, np.nan))


KEYS = ("e", "abs_m", "chi", "C", "U4")


def curves(full: Reweighting, jack: list[Reweighting], temps: np.ndarray) -> dict[str, np.ndarray]:
    """{key: float[T], key_err: float[T]} on ``temps`` for :data:`KEYS`."""
    val = [full.observables(T) for T in temps]
    out = {k: np.array([v[k] for v in val]) for k in KEYS}
    samples = np.array([[[r.observables(T)[k] for k in KEYS] for T in temps] for r in jack])  # [J, T, K]
    errs = jackknife_error(samples)
    out.update({f"{k}_err": errs[:, i] for i, k in enumerate(KEYS)})
    return out


def bracket(ta: np.ndarray, ua: np.ndarray, ub: np.ndarray) -> tuple[float, float] | None:
    """(T_lo, T_hi): successive sampled temperatures where U4_a - U4_b changes sign, the pair with the
    largest U4 (the critical crossing, not the high-T tail where both vanish); None if none."""
    d = ua - ub
    idx = [i for i in range(d.size - 1) if d[i] * d[i + 1] <= 0]
    if not idx:
        return None
    i = max(idx, key=lambda i: ua[i] + ub[i])
    return float(ta[i]), float(ta[i + 1])


def crossing(a: Reweighting, b: Reweighting, lo: float, hi: float) -> float:
    """T in [lo, hi] where the reweighted U4 of both sizes agree (NaN if they do not cross there)."""
    f = lambda T: a.u4(T) - b.u4(T)
    try:
        return float(brentq(f, lo, hi, xtol=1e-9))
    except ValueError:
        return float("nan")


@dataclass
class SizeFit:
    """One size: its runs, the full reweighting and its jackknife deletions."""

    runs: Runs
    full: Reweighting
    jack: list[Reweighting]


def fit_size(runs: Runs) -> SizeFit:
    full = Reweighting(runs)
    return SizeFit(runs, full, [Reweighting(runs, keep, start=full.lnZ) for keep in deletions(runs)])


def crossings(fits: list[SizeFit]) -> list[dict]:
    """Binder crossings of successive sizes on the reweighted curves: [{"L1", "L2", "tc", "tc_err",
    "tc_jack": float[J]}] (the jackknife pairs the i-th deletion of each size)."""
    out = []
    for a, b in zip(fits, fits[1:]):
        common = np.intersect1d(a.runs.temperatures, b.runs.temperatures)
        if common.size < 2:
            continue
        ua = np.array([a.full.u4(T) for T in common])
        ub = np.array([b.full.u4(T) for T in common])
        br = bracket(common, ua, ub)
        if br is None:
            out.append(dict(L1=a.runs.L, L2=b.runs.L, tc=float("nan"), tc_err=float("nan"), tc_jack=np.array([])))
            continue
        tc = crossing(a.full, b.full, *br)
        lo, hi = br[0] - (br[1] - br[0]), br[1] + (br[1] - br[0])  # a deletion may move it past a sampled T
        lo, hi = max(lo, common.min()), min(hi, common.max())
        jack = np.array([crossing(ra, rb, lo, hi) for ra, rb in zip(a.jack, b.jack)])
        out.append(dict(L1=a.runs.L, L2=b.runs.L, tc=tc, tc_err=float(jackknife_error(jack)), tc_jack=jack))
    return out


def extrapolate(cross: list[dict]) -> dict:
    """Tc from the crossings: with three or more, a fit tc(L) = Tc + a L^-x (x free, the leading
    correction) on the full data and on every jackknife deletion; with fewer, the largest pair's
    crossing. {"tc", "tc_err", "method"}."""
    ok = [c for c in cross if np.isfinite(c["tc"])]
    if not ok:
        return {"tc": float("nan"), "tc_err": float("nan"), "method": "no Binder crossing"}
    if len(ok) < 3:
        c = ok[-1]
        return {"tc": c["tc"], "tc_err": c["tc_err"], "method": f"Binder crossing L={c['L1']}/{c['L2']}, reweighted"}
    from scipy.optimize import curve_fit

    L = np.array([c["L1"] for c in ok], float)

    def fit(tc: np.ndarray, sigma: np.ndarray) -> float:
        f = lambda L, t, a, x: t + a * L**-x
        try:
            p, _ = curve_fit(f, L, tc, p0=(tc[-1], (tc[0] - tc[-1]) * L[0], 2.0), sigma=sigma, maxfev=20000)
            return float(p[0])
        except (RuntimeError, ValueError):
            return float("nan")

    sigma = np.array([c["tc_err"] for c in ok])
    tc = fit(np.array([c["tc"] for c in ok]), sigma)
    n = min(len(c["tc_jack"]) for c in ok)
    jack = np.array([fit(np.array([c["tc_jack"][j] for c in ok]), sigma) for j in range(n)])
    sizes = ",".join(str(c["L1"]) for c in ok) + f",{ok[-1]['L2']}"
    return {
        "tc": tc,
        "tc_err": float(jackknife_error(jack)),
        "method": f"Binder crossings L={sizes}, reweighted, fit Tc + a L^-x",
    }


def analyse_series(series: dict[tuple[int, float], dict[str, np.ndarray]], points: int = 121) -> dict:
    """Every size of an Ising dataset (h = 0) reweighted: {"curves": {L: {"T": float[points], key,
    key_err...}}, "crossings": [...], "tc": {"tc", "tc_err", "method"}} (``series`` as
    ``summary._series``: (L, T) -> {"e", "m": float[chains, n]})."""
    fits = []
    for L in sorted({L for L, _ in series}):
        fits.append(fit_size(runs_of({T: v for (size, T), v in series.items() if size == L}, L)))
    out_curves = {}
    for f in fits:
        temps = np.linspace(f.runs.temperatures.min(), f.runs.temperatures.max(), points)
        out_curves[f.runs.L] = {"T": temps, **curves(f.full, f.jack, temps)}
    cross = crossings(fits)
    return {"curves": out_curves, "crossings": cross, "tc": extrapolate(cross)}
