"""ising-generation: generative models of Ising configurations, judged by physics (the seed's
"generating Ising spin configurations with generative models": the VAE of eq. (2), Fig. 3, and the
actor-critic of eq. (3), Fig. 4, whose fully convolutional actor also generates larger lattices).

Generated and Monte Carlo configurations are compared per (L, T): distributions of the energy and of
|m| per site (first Wasserstein distance, KS statistic), <e>, <|m|>, C, chi, the energy spread and
the magnetization sector balance (mode collapse). Sizes other than data.train_L are the scale-up test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from physml.physics import TC
from physml.tasks.base import Task
from physml.tasks.ising.params import parse_temperatures
from physml.tasks.phases import data as phases_data
from physml.tasks.sources import Generator

from .config import KINDS, EvalConfig, GenerationConfig, GeneratorConfig, _default_data, ramp  # noqa: F401
from .mmd import grouped_mmd2
from .nets import PHYSICS_COLUMNS, ActorCritic, ConditionalVAE
from .physics import compare, mean_overlap, observables

CHAINS = 4  #: generated rows per (L, T) are split into this many "chains" (jackknife blocks of the summary)


class IsingGeneration(Task, Generator):
    name: ClassVar[str] = "ising-generation"
    summary: ClassVar[str] = (
        "Ising configurations at any temperature from a VAE or an actor-critic, judged against Monte Carlo"
    )
    Config: ClassVar[type] = GenerationConfig
    search_space: ClassVar[dict] = {"train.lr": {"loguniform": [2e-4, 3e-3]}, "model.channels": {"choice": [16, 32]}}
    metrics: ClassVar[tuple[str, ...]] = (
        "e_rel_err_far",
        "e_rel_err_near",
        "w1_e",
        "w1_m",
        "ks_e",
        "ks_m",
        "spread_ratio_low",
        "overlap_ratio_high",
    )
    sweep_metric: ClassVar[tuple[str, str]] = ("val/w1_e", "min")
    generates: ClassVar[str] = "ising"  # `physml generate ising` writes Ising shards
    generated_columns: ClassVar[list[str]] = ["L", "temperature", "chain", "sweep", "energy", "magnetization"]

    def data_kind(self, cfg) -> tuple[str, str]:
        return ("ising", "ising")

    def simulation(self, cfg):
        _check(cfg)
        return phases_data.simulation(cfg.data)

    def datasets(self, cfg, uri: str):
        _check(cfg)
        return phases_data.splits(cfg.data, uri, exclude=0.0, labels=False, cut=True)

    def evaluation_datasets(self, cfg, uri: str):
        """`physml evaluate` on other data: no epoch was selected on it, so the whole held-out chains
        are the test at every size."""
        _check(cfg)
        return phases_data.splits(cfg.data, uri, exclude=0.0, labels=False)

    def adapt(self, cfg_dict: dict, data_params: dict) -> dict:
        return phases_data.adapt_keeping_train_size(cfg_dict, data_params)

    def model(self, cfg) -> torch.nn.Module:
        m = cfg.model
        if m.kind == "vae":
            return ConditionalVAE(cfg.data.fit_L, m.latent, m.hidden, m.conditional)
        temps = parse_temperatures(cfg.data.temperatures) if m.group else ()
        return ActorCritic(
            m.channels,
            m.layers,
            m.noise,
            m.critic_channels,
            m.critic_layers,
            m.features,
            m.conditional,
            m.symmetric,
            m.global_noise,
            m.ema_decay,
            m.coarse_noise,
            m.stages,
            m.group,
            temps,
            cfg.data.fit_L,
            m.estimator,
            m.physics,
        )

    def training_step(self, model, batch: dict, cfg, group: str, step: int) -> dict:
        """:meth:`loss` at training step ``step`` (the physics terms ramp up with it)."""
        return self.loss(model, batch, cfg, step)

    def on_step_end(self, model, step: int, cfg) -> None:
        """The actor-critic's generating weight average follows the actor after every step."""
        if cfg.model.kind == "actor-critic":
            model.update_ema()

    def loss(self, model, batch: dict, cfg, step: int = 0) -> dict:
        """VAE: eq. (2), ||x - x'||^2 + beta KL(q(z|x) || N(0, I)) per sample. Actor-critic: eq. (3) as an
        unbiased MMD^2 of critic features within equal-T groups, plus the critic's own loss (its
        temperature estimate of the real batch, squared error), plus ``physics_weight`` x the MMD^2 of
        (e, |m|) alone, plus ``moment_weight`` x the squared standardized differences of <e> and <m^2>;
        those two physics terms rise linearly over ``model.physics_ramp`` steps from training step
        ``step``."""
        x, t = batch["x"], batch["T"].float()
        if cfg.model.kind == "vae":
            out = model(x, t)
            rec = ((out["recon"] - x) ** 2).sum(dim=(1, 2)).mean()
            kl = (-0.5 * (1 + out["logvar"] - out["mu"] ** 2 - out["logvar"].exp()).sum(1)).mean()
            return {"loss": rec + cfg.model.beta * kl, "reconstruction": rec, "kl": kl}
        out = model(x, t, cfg.model.fakes)
        on = cfg.model.conditional
        groups, fake_groups = (
            (out["t_real"], out["t_fake"]) if on else (torch.zeros_like(out["t_real"]), torch.zeros_like(out["t_fake"]))
        )
        mmd2 = grouped_mmd2(out["real"], out["fake"], groups, cfg.model.kernel, fake_groups)
        critic = ((out["t_hat"] - (t - TC)) ** 2).mean()
        terms = {"mmd2": mmd2, "critic_mse": critic}
        loss = mmd2 + cfg.model.critic_weight * critic
        rise = ramp(cfg.model, step + 1)
        if cfg.model.physics_weight:
            terms["mmd2_physics"] = grouped_mmd2(
                out["real"][:, PHYSICS_COLUMNS], out["fake"][:, PHYSICS_COLUMNS], groups, "rbf", fake_groups
            )
            loss = loss + rise * cfg.model.physics_weight * terms["mmd2_physics"]
        if cfg.model.moment_weight:
            terms["moments2"] = grouped_mmd2(
                out["moments_real"], out["moments_fake"], groups, "mean", fake_groups, standardize=True
            )
            loss = loss + rise * cfg.model.moment_weight * terms["moments2"]
        return {"loss": loss, **terms}

    def generate(self, model, cfg, L: int, T: float, n: int, seed: int) -> np.ndarray:
        """n configurations int8[n, L, L] at temperature T (reproducible from ``seed``)."""
        device = next(model.parameters()).device
        g = torch.Generator(device=device).manual_seed(int(seed))
        model.eval()
        with torch.no_grad():
            out = [
                model.generate(torch.full((min(256, n - k),), float(T), device=device), L, g) for k in range(0, n, 256)
            ]
        s = torch.cat(out) if out else torch.zeros((0, L, L))
        return torch.where(s >= 0, 1, -1).to(torch.int8).cpu().numpy()

    def generation_plan(self, cfg, request: dict) -> tuple[dict, list[dict]]:
        """Manifest params and shards of a `physml generate ising` request {"L": [..], "temperatures":
        text or list, "n": int}: one shard per (L, T) of about n rows in CHAINS "chains"."""
        sizes, n = [int(x) for x in request["L"]], int(request["n"])
        temps = request["temperatures"]
        temps = list(parse_temperatures(temps) if isinstance(temps, str) else temps)
        if n < 1:
            raise ValueError(f"--n {n}: must be >= 1 configurations per (L, T)")
        if not temps or min(temps) <= 0:
            raise ValueError(f"--temperatures {request['temperatures']!r}: need temperatures > 0")
        for L in sizes:
            if cfg.model.kind == "vae" and L != cfg.data.fit_L:
                raise ValueError(f"--L {L}: model.kind = vae is dense and generates L = {cfg.data.fit_L} only")
            if cfg.model.kind == "actor-critic" and (L < 4 or L % 4):
                raise ValueError(f"--L {L}: the actor generates sizes divisible by 4 (>= 4)")
        params = {
            "model": "ising",
            "L": sizes,
            "temperatures": temps,
            "n": n,
            "replicas": CHAINS,
            "field": 0.0,
            "algorithm": f"generated:{cfg.model.kind}",
        }
        parts = [
            {"path": f"L{L}/T{T:.5f}.parquet", "L": L, "temperature": T, "index": i, "n": n}
            for i, (L, T) in enumerate((L, T) for L in sizes for T in temps)
        ]
        return params, parts

    def generate_shard(self, model, cfg, part: dict, seed: int):
        """One (L, T) shard in the simulator's schema; chain ids continue the shard index."""
        import pyarrow as pa

        from physml.tasks.ising.sampler import schema

        L, T, i = part["L"], part["temperature"], part["index"]
        per = -(-int(part["n"]) // CHAINS)
        s = self.generate(model, cfg, L, T, per * CHAINS, seed * 1_000_003 + i)
        e, m = observables(s)
        rows = per * CHAINS
        chain = (i * CHAINS + np.arange(rows) // per).astype(np.int32)
        cols = {
            "model": ["ising"] * rows,
            "L": np.full(rows, L, np.int32),
            "temperature": np.full(rows, T),
            "field": np.zeros(rows),
            "algorithm": [f"generated:{cfg.model.kind}"] * rows,
            "chain": chain,
            "sweep": (np.arange(rows) % per + 1).astype(np.int64),
            "energy": e,
            "magnetization": m,
            "spins": pa.FixedSizeListArray.from_arrays(pa.array(s.reshape(-1)), L * L),
        }
        return pa.table(cols, schema=schema(L))

    def describe_generated(self, table) -> str:
        """The simulator's per-(L, T) summary of a generated dataset's ``generated_columns`` (Kaufman's
        exact finite-L e and C beside it), read back exactly as `physml simulate` reads its own shards."""
        from physml.tasks.ising.report import format_table
        from physml.tasks.ising.summary import summarize

        return format_table(summarize(table))

    def evaluate(self, model, batches: Iterable[dict], cfg) -> dict:
        """Per (L, T) comparison rows against the Monte Carlo batches, and their summaries."""
        groups = _group(batches)
        rows, hists, samples = [], {}, {}
        for k, ((L, T), x) in enumerate(sorted(groups.items())):
            if cfg.model.kind == "vae" and L != cfg.data.fit_L:
                continue  # a dense VAE has no other sizes
            n = min(cfg.eval.samples, len(x))
            gen = self.generate(model, cfg, L, T, n, cfg.eval.seed + 7919 * k)
            mc_obs, gen_obs = observables(x), observables(gen)
            rows.append(
                {**compare(mc_obs, gen_obs, T, L), "overlap_mc": mean_overlap(x), "overlap_gen": mean_overlap(gen)}
            )
            hists[(L, T)] = (*mc_obs, *gen_obs)
            samples[(L, T)] = (np.asarray(x[:4]), gen[:4])
        out = summarize_rows(rows, cfg.data.fit_L, cfg.eval.far, cfg.eval.judged)
        if rows:
            meta = {"kind": cfg.model.kind, "train_L": cfg.data.fit_L, "far": cfg.eval.far, "judged": cfg.eval.judged}
            out.update(
                {
                    "generation_rows": rows,
                    "generation_hists": hists,
                    "generation_samples": samples,
                    "generation_meta": meta,
                }
            )
        return out

    def report(self, results: dict, out_dir: Path) -> list[Path]:
        from .plots import plot_generation

        return plot_generation(results, Path(out_dir))


def _check(cfg) -> None:
    if cfg.data.model != "ising":
        raise ValueError(f"data.model = {cfg.data.model!r}: ising-generation generates Ising configurations only")
    if cfg.model.kind == "actor-critic" and any(L % 4 for L in cfg.data.L):
        raise ValueError(f"data.L = {list(cfg.data.L)}: the actor generates sizes divisible by 4")


def _group(batches: Iterable[dict]) -> dict[tuple[int, float], np.ndarray]:
    """(L, T) -> spins float[n, L, L] of the Monte Carlo batches."""
    parts: dict = {}
    for b in batches:
        x, t, sizes = (np.asarray(b[k].cpu() if hasattr(b[k], "cpu") else b[k]) for k in ("x", "T", "L"))
        for key in {(int(a), float(c)) for a, c in zip(sizes, t)}:
            sel = (sizes == key[0]) & (t == key[1])
            parts.setdefault(key, []).append(x[sel])
    return {k: np.concatenate(v) for k, v in parts.items()}


def summarize_rows(rows: list[dict], train_L: int, far: float, judged: tuple[float, float] = (0.0, math.inf)) -> dict:
    """Float metrics of the comparison rows: for the training size unprefixed, for other sizes under
    ``scaleup_L<L>/``: mean W1 and KS of e and |m| over all T, and over the judged range
    judged[0] <= T <= judged[1] the largest |relative error of <e>| away from Tc (|T - Tc| > far) and
    near it, above Tc the ratio of the generated samples' mean mutual overlap to Monte Carlo's (> 1:
    samples too alike, mode collapse), and below Tc the mean energy spread ratio and sector imbalance."""
    out = {}
    for L in sorted({r["L"] for r in rows}):
        rs = [r for r in rows if r["L"] == L]
        pre = "" if L == train_L else f"scaleup_L{L}/"
        for key in ("w1_e", "ks_e", "w1_m", "ks_m"):
            out[pre + key] = float(np.mean([r[key] for r in rs]))
        rs = [r for r in rs if judged[0] - 1e-6 <= r["T"] <= judged[1] + 1e-6]  # T of float32 shards
        far_rows = [r for r in rs if abs(r["T"] - TC) > far]
        near_rows = [r for r in rs if abs(r["T"] - TC) <= far]
        low = [r for r in rs if r["T"] < TC - far]
        if far_rows:
            out[pre + "e_rel_err_far"] = float(max(abs(r["e_rel_err"]) for r in far_rows))
        if near_rows:
            out[pre + "e_rel_err_near"] = float(max(abs(r["e_rel_err"]) for r in near_rows))
        high = [r for r in rs if r["T"] > TC + far]
        if high:  # where Monte Carlo samples are diverse, generated ones should be as diverse
            out[pre + "overlap_ratio_high"] = float(
                np.mean([r["overlap_gen"] for r in high]) / np.mean([r["overlap_mc"] for r in high])
            )
        if low:
            out[pre + "spread_ratio_low"] = float(np.mean([r["spread_ratio"] for r in low]))
            out[pre + "imbalance_low"] = float(np.mean([r["imbalance_gen"] for r in low]))
    return out
