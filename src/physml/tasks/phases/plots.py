"""Figures of the phases tasks (matplotlib Agg)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from physml.physics import TC  # noqa: E402


def plot_supervised(results: dict, out: Path, published: float) -> list[Path]:
    """P(ordered) vs T per L with the 1/2 crossings, and T*(L) vs 1/L with the extrapolation."""
    curves = results.get("curves", {})
    if not curves:
        return []
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for L, (t, p, e) in sorted(curves.items()):
        a.errorbar(t, p, yerr=e, fmt="o-", ms=3, label=f"L={L}: T*={results[f'test/tc_L{L}']:.3f}")
    a.axhline(0.5, color="grey", lw=0.6)
    a.axvline(TC, color="k", ls="--", lw=0.8, label=f"exact Tc {TC:.4f}")
    a.set_xlabel("T [J/k$_B$]")
    a.set_ylabel("P(ordered)")
    a.legend(fontsize=8)
    sizes = np.array(sorted(curves))
    ts = np.array([results[f"test/tc_L{L}"] for L in sizes])
    es = np.array([results[f"test/tc_L{L}_err"] for L in sizes])
    b.errorbar(1 / sizes, ts, yerr=es, fmt="o", label="crossings T*(L)")
    tc, tce = results["test/tc"], results["test/tc_err"]
    x = np.linspace(0, 1.1 / sizes.min(), 50)
    if sizes.size > 1:
        slope = np.polyfit(1 / sizes, ts, 1)[0]
        b.plot(x, tc + slope * x, "-", lw=0.8, label=f"fit: Tc = {tc:.4f} +- {tce:.4f}")
    b.axhline(TC, color="k", ls="--", lw=0.8, label=f"exact {TC:.4f}")
    b.axhline(published, color="r", ls=":", lw=0.8, label=f"Carrasquilla-Melko {published}")
    b.set_xlabel("1/L")
    b.set_ylabel("T*(L)")
    b.legend(fontsize=8)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "p_ordered.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
