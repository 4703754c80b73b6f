"""Figures of the phases tasks (matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from physml.physics import TC
from physml.tasks.figures import save_figure


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
    return [save_figure(fig, out / "p_ordered.png")]


def plot_confusion(results: dict, out: Path) -> list[Path]:
    """Accuracy vs proposed Tc' (the W curve) with the middle peak and the exact Tc."""
    if "w_curve" not in results:
        return []
    tp, acc = results["w_curve"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(tp, acc, "o-")
    ax.axvline(TC, color="k", ls="--", lw=0.8, label=f"exact Tc {TC:.4f}")
    ax.axvline(results["test/tc"], color="r", ls=":", label=f"middle peak {results['test/tc']:.3f}")
    ax.set_xlabel("proposed Tc'")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8)
    return [save_figure(fig, out / "confusion_w.png")]


def plot_unsupervised(results: dict, out: Path) -> list[Path]:
    """The seed's Fig. 2: latent per T (a/b), |z| vs |m| (c), spread of the latent per T (d)."""
    if "scatter" not in results:
        return []
    zn, m, T = results["scatter"]
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    if "latent_by_T" in results:
        temps, zs, pcs = results["latent_by_T"]
        for t, z in zip(temps, zs):
            ax[0].plot(np.full(len(z), t), z[:, 0], ",", color="C0", alpha=0.4)
        ax[0].set_xlabel("T")
        ax[0].set_ylabel("latent $z_1$")
        ax[0].set_title("(a) latent per temperature")
        ax[2].plot(temps, [np.var(np.linalg.norm(z, axis=1)) for z in zs], "o-", label="VAE |z|")
        ax[2].plot(temps, [np.var(np.linalg.norm(p, axis=1)) for p in pcs], "s-", label="PCA")
        ax[2].set_yscale("log")
        ax[2].set_xlabel("T")
        ax[2].set_ylabel("variance of |latent| per T")
        ax[2].axvline(results.get("test/tc_latent", np.nan), color="r", ls=":", label="Tc from latent")
        ax[2].legend(fontsize=8)
        ax[2].set_title("(d) latent variance")
    sc = ax[1].scatter(m, zn, c=T, s=2, cmap="coolwarm")
    fig.colorbar(sc, ax=ax[1], label="T")
    ax[1].set_xlabel("|m|")
    ax[1].set_ylabel("|z|")
    ax[1].set_title(f"(c) latent vs magnetization, r = {results.get('test/r_latent_m', np.nan):.3f}")
    return [save_figure(fig, out / "latent.png")]
