"""Figures of ising-generation (matplotlib Agg): observables vs T, errors vs T, histograms, samples."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from physml.physics import TC
from physml.tasks.figures import save_figure, write_rows_csv


def _by_L(rows: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for r in sorted(rows, key=lambda r: (r["L"], r["T"])):
        out.setdefault(r["L"], []).append(r)
    return out


def plot_observables(rows: list[dict], meta: dict, path: Path) -> Path:
    """<e>, <|m|>, C, chi vs T: Monte Carlo (filled) and generated (open), one colour per L."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for i, (L, rs) in enumerate(_by_L(rows).items()):
        t, col = np.array([r["T"] for r in rs]), f"C{i}"
        tag = "" if L == meta["train_L"] else " (scale-up)"
        for ax, key in zip(axes.flat, ("e", "abs_m", "C", "chi")):
            ax.plot(t, [r[f"{key}_mc"] for r in rs], "o-", color=col, ms=4, label=f"MC L={L}")
            ax.plot(
                t, [r[f"{key}_gen"] for r in rs], "s--", color=col, mfc="none", ms=5, label=f"{meta['kind']} L={L}{tag}"
            )
    for ax, name in zip(axes.flat, ("<e> per site", "<|m|>", "C per site", "chi per site")):
        ax.axvline(TC, color="k", ls=":", lw=0.8)
        ax.set_xlabel("T [J/k$_B$]")
        ax.set_ylabel(name)
    axes[1, 1].set_yscale("log")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{meta['kind']}: generated vs Monte Carlo (trained on L={meta['train_L']})")
    return save_figure(fig, path, dpi=100)


def plot_errors(rows: list[dict], meta: dict, path: Path) -> Path:
    """Where the generator matches and where it fails: relative error of <e> (2% band), W1 of e,
    energy spread ratio, sector imbalance and mutual overlap vs T, the region |T - Tc| <= far shaded
    grey, temperatures trained on but outside the judged range hatched."""
    fig, axes = plt.subplots(1, 5, figsize=(18, 3.6))
    for i, (L, rs) in enumerate(_by_L(rows).items()):
        t = np.array([r["T"] for r in rs])
        axes[0].plot(t, [100 * r["e_rel_err"] for r in rs], "o-", color=f"C{i}", label=f"L={L}")
        axes[1].plot(t, [r["w1_e"] for r in rs], "o-", color=f"C{i}")
        axes[2].plot(t, [r["spread_ratio"] for r in rs], "o-", color=f"C{i}")
        axes[3].plot(t, [r["imbalance_gen"] for r in rs], "o-", color=f"C{i}", label=f"generated L={L}")
        axes[3].plot(t, [r["imbalance_mc"] for r in rs], "x:", color=f"C{i}", label=f"MC L={L}")
        if "overlap_gen" in rs[0]:
            axes[4].plot(t, [r["overlap_gen"] for r in rs], "o-", color=f"C{i}")
            axes[4].plot(t, [r["overlap_mc"] for r in rs], "x:", color=f"C{i}")
    axes[0].axhspan(-2, 2, color="g", alpha=0.15, label="+-2%")
    axes[2].axhline(1, color="g", lw=0.8)
    labels = (
        "(<e> gen - MC) / |<e> MC| [%]",
        "W1(e)",
        "std(e) gen / MC",
        "sector imbalance |f+ - f-|",
        "mean |overlap| (o gen, x MC)",
    )
    for k, (ax, name) in enumerate(zip(axes, labels)):
        ax.axvspan(
            TC - meta["far"], TC + meta["far"], color="grey", alpha=0.15, label="|T - Tc| <= far" if k == 0 else None
        )
        _hatch_unjudged(ax, rows, meta.get("judged", (0.0, float("inf"))), "trained, not judged" if k == 0 else None)
        ax.set_xlabel("T [J/k$_B$]")
        ax.set_ylabel(name)
    axes[0].legend(fontsize=7)
    axes[3].legend(fontsize=6)
    return save_figure(fig, path, dpi=100)


def _hatch_unjudged(ax, rows: list[dict], judged: tuple[float, float], label: str | None) -> None:
    """Hatch the temperatures of the rows outside the judged range [judged[0], judged[1]]."""
    t = [r["T"] for r in rows]
    for lo, hi in ((min(t), judged[0]), (judged[1], max(t))):
        if hi > lo:
            ax.axvspan(lo, hi, facecolor="none", edgecolor="grey", hatch="//", lw=0, label=label)
            label = None


def _pick(temps: list[float], k: int = 5) -> list[float]:
    idx = np.unique(np.linspace(0, len(temps) - 1, min(k, len(temps))).round().astype(int))
    return [temps[i] for i in idx]


def plot_histograms(hists: dict, L: int, meta: dict, path: Path) -> Path:
    """Energy and signed magnetization histograms, Monte Carlo vs generated, at a few temperatures."""
    temps = _pick(sorted(T for (size, T) in hists if size == L))
    fig, axes = plt.subplots(2, len(temps), figsize=(3 * len(temps), 5.2), squeeze=False)
    for j, T in enumerate(temps):
        e0, m0, e1, m1 = hists[(L, T)]
        for i, (a, b, name) in enumerate(((e0, e1, "e per site"), (m0, m1, "m per site"))):
            lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
            bins = np.linspace(lo, hi + 1e-9, 30)
            axes[i, j].hist(a, bins, alpha=0.5, density=True, label="MC")
            axes[i, j].hist(b, bins, alpha=0.5, density=True, label=meta["kind"])
            axes[i, j].set_xlabel(name)
        axes[0, j].set_title(f"T = {T:.2f}")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"L = {L}: Monte Carlo vs {meta['kind']}")
    return save_figure(fig, path, dpi=100)


def plot_samples(samples: dict, L: int, meta: dict, path: Path) -> Path:
    """A grid of configurations: per temperature, 4 Monte Carlo then 4 generated."""
    temps = _pick(sorted(T for (size, T) in samples if size == L))
    fig, axes = plt.subplots(len(temps), 8, figsize=(12, 1.6 * len(temps)), squeeze=False)
    for i, T in enumerate(temps):
        mc, gen = samples[(L, T)]
        for j in range(8):
            ax = axes[i, j]
            src = mc if j < 4 else gen
            if j % 4 < len(src):
                ax.imshow(src[j % 4].reshape(L, L), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(f"T={T:.2f}", fontsize=8)
    axes[0, 1].set_title("Monte Carlo", fontsize=9)
    axes[0, 5].set_title(meta["kind"], fontsize=9)
    return save_figure(fig, path, dpi=100)


write_table = write_rows_csv


def plot_generation(results: dict, out: Path) -> list[Path]:
    rows = results.get("generation_rows")
    if not rows:
        return []
    meta = results["generation_meta"]
    paths = [
        plot_observables(rows, meta, out / "generation_observables.png"),
        plot_errors(rows, meta, out / "generation_errors.png"),
        write_table(rows, out / "generation_table.csv"),
    ]
    for L in sorted({r["L"] for r in rows}):
        paths.append(plot_histograms(results["generation_hists"], L, meta, out / f"generation_hist_L{L}.png"))
        paths.append(plot_samples(results["generation_samples"], L, meta, out / f"generation_samples_L{L}.png"))
    return paths
