"""Plots and tables of a simulation summary (matplotlib Agg; no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from physml.physics import (
    TC,
    kaufman_energy,
    kaufman_specific_heat,
    onsager_energy,
    yang_magnetization,
)
from physml.tasks.figures import write_rows_csv

PANELS = [
    ("e", "energy per site $e$"),
    ("abs_m", r"$\langle|m|\rangle$"),
    ("C", "specific heat $C$"),
    ("chi", r"susceptibility $\chi$"),
    ("U4", "Binder cumulant $U_4$"),
    ("tau_e", r"$\tau_{int}(e)$ [records]"),
]


write_csv = write_rows_csv


def _exact(ax, key: str, sizes: list[int], t: np.ndarray, colours: dict) -> None:
    fine = np.linspace(t.min(), t.max(), 200)
    for L in sizes:
        if key == "e":
            ax.plot(fine, kaufman_energy(L, fine), "-", lw=0.8, color=colours[L])
        elif key == "C":
            ax.plot(fine, kaufman_specific_heat(L, fine), "-", lw=0.8, color=colours[L])
    if key == "e":
        ax.plot(fine, onsager_energy(fine), "k:", lw=0.8, label="Onsager, L=inf")
    if key == "abs_m":
        ax.plot(fine, yang_magnetization(fine), "k:", lw=0.8, label="Yang, L=inf")


def plot_observables(
    rows: list[dict], path: Path, title: str = "", exact: bool = True, crossings: list[dict] = ()
) -> Path:
    """Six panels vs T, one colour per L; lines = exact finite-L (Kaufman) and infinite-L curves."""
    sizes = sorted({r["L"] for r in rows})
    colours = {L: plt.cm.viridis(i / max(1, len(sizes) - 1) * 0.85) for i, L in enumerate(sizes)}
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, (key, label) in zip(axes.ravel(), PANELS):
        for L in sizes:
            rs = sorted((r for r in rows if r["L"] == L), key=lambda r: r["T"])
            t = np.array([r["T"] for r in rs])
            err = np.array([r.get(f"{key}_err", 0.0) for r in rs])
            ax.errorbar(t, [r[key] for r in rs], yerr=err, fmt="o", ms=3, color=colours[L], label=f"L={L}")
        if exact:
            _exact(ax, key, sizes, np.array([r["T"] for r in rows]), colours)
        ax.axvline(TC, color="grey", lw=0.6, ls="--")
        if key == "U4":
            for c in crossings:
                ax.axvspan(
                    c["tc"] - c["tc_err"],
                    c["tc"] + c["tc_err"],
                    color="red",
                    alpha=0.25,
                    label=f"crossing {c['L1']}/{c['L2']}: {c['tc']:.4f}({1e4 * c['tc_err']:.0f})",
                )
            if crossings:
                ax.legend(fontsize=7)
        ax.set_xlabel("T [J/k$_B$]")
        ax.set_ylabel(label)
    axes[0, 0].legend(fontsize=8)
    axes[0, 1].legend(fontsize=8)
    fig.suptitle(title + "  (dashed: Onsager $T_c$; lines: exact finite-L, Kaufman 1949)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_table(rows: list[dict]) -> str:
    """Fixed-width per-temperature summary for the terminal."""
    head = (
        f"{'L':>5} {'T':>7} {'<e> +- err':>20} {'exact e':>9} {'dev/sig':>7} {'<|m|>':>7} "
        f"{'chi':>9} {'C':>7} {'C exact':>7} {'U4':>7} {'tau_e':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        ex = r.get("e_exact", float("nan"))
        dev = (r["e"] - ex) / r["e_err"] if r["e_err"] > 0 else float("nan")
        lines.append(
            f"{r['L']:>5} {r['T']:>7.4f} {r['e']:>11.5f} +- {r['e_err']:.5f} {ex:>9.5f} {dev:>7.2f} "
            f"{r['abs_m']:>7.4f} {r['chi']:>9.3f} {r['C']:>7.3f} {r.get('C_exact', float('nan')):>7.3f} "
            f"{r['U4']:>7.4f} {r['tau_e']:>6.2f}"
        )
    return "\n".join(lines)


def format_brief(rows: list[dict]) -> str:
    """One line per L: how the energies agree with the exact finite-L values (Kaufman 1949), as
    chi^2 = sum((<e> - e_exact) / err)^2 over the temperatures and the largest |deviation| in sigmas."""
    lines = []
    for L in sorted({r["L"] for r in rows}):
        devs = [
            (r["e"] - r["e_exact"]) / r["e_err"]
            for r in rows
            if r["L"] == L and r["e_err"] > 0 and np.isfinite(r.get("e_exact", np.nan))
        ]
        n_t = sum(r["L"] == L for r in rows)
        temps = f"{n_t} temperature{'s' if n_t != 1 else ''}"
        if devs:
            chi2 = float(np.sum(np.square(devs)))
            worst = float(np.max(np.abs(devs)))
            lines.append(
                f"L = {L}: {temps}; <e> vs exact: chi^2 = {chi2:.1f} for {len(devs)} points, "
                f"largest |dev| {worst:.2f} sigma"
            )
        else:
            lines.append(f"L = {L}: {temps} (no exact values to compare)")
    return "\n".join(lines)


def plot_reweighted(rw: dict, path: Path, title: str = "") -> Path:
    """The reweighted curves (jackknife bands) of U4, C and chi per L, with the exact finite-L C
    (Kaufman) and the Binder crossings: where the figure of the crossing is read."""
    sizes = sorted(rw["curves"])
    colours = {L: plt.cm.viridis(i / max(1, len(sizes) - 1) * 0.85) for i, L in enumerate(sizes)}
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, key, label in zip(axes, ("U4", "C", "chi"), ("Binder cumulant $U_4$", "specific heat $C$", r"$\chi$")):
        for L in sizes:
            c = rw["curves"][L]
            ax.plot(c["T"], c[key], color=colours[L], lw=1, label=f"L={L}")
            ax.fill_between(c["T"], c[key] - c[f"{key}_err"], c[key] + c[f"{key}_err"], color=colours[L], alpha=0.3)
            if key == "C":
                ax.plot(c["T"], kaufman_specific_heat(L, c["T"]), "k:", lw=0.8)
        ax.axvline(TC, color="grey", lw=0.6, ls="--")
        ax.set_xlabel("T [J/k$_B$]")
        ax.set_ylabel(label)
    for c in rw["crossings"]:
        if np.isfinite(c["tc"]):
            axes[0].axvspan(c["tc"] - c["tc_err"], c["tc"] + c["tc_err"], color="red", alpha=0.25)
            axes[0].set_xlim(c["tc"] - 0.15, c["tc"] + 0.15)
    t = rw["tc"]
    axes[0].set_title(f"Tc = {t['tc']:.5f} +- {t['tc_err']:.5f}", fontsize=9)
    axes[0].legend(fontsize=8)
    fig.suptitle((title + "  " if title else "") + "multiple-histogram reweighting (dotted: exact C, Kaufman)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
