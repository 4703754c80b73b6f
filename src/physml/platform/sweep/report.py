"""A sweep's summary: results table (CSV), best config (TOML), plots, status table.

Plots are Optuna's matplotlib views (optimization history, parallel coordinates, parameter
importances) of a study rebuilt from the trials, so grid and table sweeps get them too.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
import tempfile
import warnings
from pathlib import Path

from physml.config import dump_toml
from physml.platform.data import storage
from physml.platform.sweep.log import META, STATUS
from physml.platform.sweep.trial import trial_config

TERMINAL = ("finished", "stopped", "failed")


def load_status(sweep_dir: str) -> tuple[dict, dict]:
    """(meta, {trial_id: status entry}) of a sweep directory or URI."""
    status = storage.join(sweep_dir, STATUS)
    return storage.read_json(storage.join(sweep_dir, META)), (
        storage.read_json(status) if storage.exists(status) else {}
    )


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (OSError, TypeError, ValueError):
        return False


def table_rows(meta: dict, status: dict, setup: dict | None = None) -> list[dict]:
    """One row per trial in start order: trial, status, the searched values, the objective(s), test
    metrics, epochs, wall time and the overhead (wall time minus the trial's own work)."""
    keys = [d["key"] for d in meta["space"]] + sorted({k for r in meta["table"] for k in r})
    setup = setup or {"base": meta["base"], "table": meta["table"], "choices": meta.get("choices", {})}
    rows = []
    for i, (tid, e) in enumerate(sorted(status.items(), key=lambda kv: kv[1].get("started", 0))):
        cfg = trial_config(setup, e["params"])
        state = e["status"]
        if state == "running" and not _alive(e.get("driver_pid")):
            state = "interrupted"
        m = e.get("metrics", {})
        row = {"trial": i + 1, "trial_id": tid, "status": state, "run_id": e.get("run_id", "")}
        row.update({k: _get(cfg, k) for k in keys})
        row.update({k: v for k, v in sorted(m.items()) if k.startswith(("val/", "test/"))})
        row["epochs"] = int(m.get("epoch", 0))
        if "wall_s" in e:
            row["wall_s"] = round(e["wall_s"], 2)
            if "time/work_s" in m:
                row["overhead_s"] = round(e["wall_s"] - m["time/work_s"], 2)
        if e.get("error"):
            row["error"] = e["error"]
        rows.append(row)
    return rows


def _get(cfg: dict, key: str):
    node = cfg
    for p in key.split("."):
        node = node.get(p, {}) if isinstance(node, dict) else {}
    return node


def best_row(rows: list[dict], metric: str, mode: str) -> dict | None:
    ok = [r for r in rows if r["status"] in ("finished", "stopped") and isinstance(r.get(metric), float)]
    if not ok:
        return None
    return (max if mode == "max" else min)(ok, key=lambda r: r[metric])


def pareto(rows: list[dict], metrics: list[str], modes: list[str]) -> list[dict]:
    """Rows not dominated in every objective (multi-objective sweeps)."""
    ok = [r for r in rows if all(isinstance(r.get(m), float) for m in metrics)]
    sign = [1 if mo == "max" else -1 for mo in modes]

    def dominates(a, b):
        pa = [s * a[m] for s, m in zip(sign, metrics)]
        pb = [s * b[m] for s, m in zip(sign, metrics)]
        return all(x >= y for x, y in zip(pa, pb)) and any(x > y for x, y in zip(pa, pb))

    return [r for r in ok if not any(dominates(o, r) for o in ok if o is not r)]


def to_csv(rows: list[dict]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    for r in rows:
        w.writerow({k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in r.items()})
    return buf.getvalue()


def format_table(rows: list[dict], metrics: list[str]) -> str:
    """A fixed-width text table for the terminal."""
    if not rows:
        return "(no trials yet)"
    keys = [
        k
        for k in rows[0]
        if k not in ("trial_id", "run_id", "error", "epochs", "wall_s", "overhead_s")
        and not k.startswith(("test/", "val/"))
    ]
    keys += [m for m in metrics if any(m in r for r in rows)] + ["epochs", "wall_s"]

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None or v == {} else str(v)

    cells = [[fmt(r.get(k)) for k in keys] for r in rows]
    width = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, width))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cs, width)) for cs in cells]
    for r in rows:
        if r.get("error"):
            lines.append(f"trial {r['trial']} failed: {r['error']}")
    return "\n".join(lines)


def status_text(sweep_dir: str) -> str:
    """`physml sweep --status DIR`: counts per state and the trials table."""
    meta, status = load_status(sweep_dir)
    rows = table_rows(meta, status)
    counts = {s: sum(r["status"] == s for r in rows) for s in (*TERMINAL, "running", "interrupted")}
    pending = max(0, meta["total"] - len(rows))
    head = (
        f"sweep {meta['name']} of {meta['task']}: {meta['total']} trials: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + (f", {pending} not started" if pending else "")
        + f"\nMLflow parent run {meta['parent_id']}; objective "
        + ", ".join(f"{m} ({o})" for m, o in zip(meta["settings"]["metric"], meta["settings"]["mode"]))
    )
    return head + "\n" + format_table(rows, meta["settings"]["metric"])


def summarize(meta: dict, setup: dict, client) -> tuple[list[dict], dict | None, bool]:
    """Results table, best config and plots onto the parent run; returns (rows, best row, complete)."""
    _, status = load_status(meta["dir"])
    rows = table_rows(meta, status, setup)
    s = meta["settings"]
    best = best_row(rows, s["metric"][0], s["mode"][0])
    complete = sum(r["status"] in TERMINAL for r in rows) >= meta["total"]
    front = pareto(rows, s["metric"], s["mode"]) if len(s["metric"]) == 2 else []
    for r in rows:
        if front:
            r["pareto"] = r in front
    pid = meta["parent_id"]
    client.log_text(pid, to_csv(rows), "results.csv")
    table_metric = s.get("table_metric") or s["metric"][0]
    if s.get("pivot"):
        client.log_text(pid, to_csv(pivot(rows, meta, s["pivot"], table_metric)), "table.csv")
    if s.get("aggregate"):
        client.log_text(pid, to_csv(aggregate(rows, meta, s["aggregate"], table_metric)), "table.csv")
    if best is not None:
        client.log_text(pid, dump_toml(trial_config(setup, status[best["trial_id"]]["params"])), "best_config.toml")
        client.set_tag(pid, "physml.best_run_id", best["run_id"])
        client.log_metric(pid, f"best/{s['metric'][0]}", best[s["metric"][0]])
    over = [r["overhead_s"] for r in rows if "overhead_s" in r]
    counts = {f"trials/{k}": float(sum(r["status"] == k for r in rows)) for k in TERMINAL}
    for k, v in counts.items():
        client.log_metric(pid, k, v)
    if over:
        client.log_metric(pid, "sweep/overhead_median_s", statistics.median(over))
    with tempfile.TemporaryDirectory() as tmp:
        for path in plots(meta, rows, Path(tmp)):
            client.log_artifact(pid, str(path), "plots")
    return rows, best, complete


def _cells(rows: list[dict], meta: dict, key: str, metric: str) -> tuple[list[str], dict]:
    """(the other searched keys, {their values: {value of key: [metric, ...]}}) of trials with the metric."""
    keys = [k for k in [d["key"] for d in meta["space"]] + sorted({k for r in meta["table"] for k in r}) if k != key]
    cells: dict = {}
    for r in rows:
        if isinstance(r.get(metric), float):
            cells.setdefault(tuple(_scalar(r[k]) for k in keys), {}).setdefault(_scalar(r[key]), []).append(r[metric])
    return keys, cells


def aggregate(rows: list[dict], meta: dict, key: str, metric: str) -> list[dict]:
    """One row per setting of the other searched keys: ``metric`` over the values of ``key`` (e.g.
    repeats over train.seed) as mean, highest, lowest, std (ddof 1) and repeats (a paper's Table 2)."""
    keys, cells = _cells(rows, meta, key, metric)
    out = []
    for combo, by in cells.items():
        v = [x for xs in by.values() for x in xs]
        out.append(
            {
                **dict(zip(keys, combo)),
                "metric": metric,
                "mean": round(statistics.mean(v), 4),
                "highest": round(max(v), 4),
                "lowest": round(min(v), 4),
                "std": round(statistics.stdev(v), 4) if len(v) > 1 else "",
                "repeats": len(v),
            }
        )
    return out


def pivot(rows: list[dict], meta: dict, key: str, metric: str) -> list[dict]:
    """Trials side by side: one row per setting of the other searched keys, one ``metric`` column per
    value of ``key`` (e.g. a paper's table of DSC without and with BN); repeats are averaged."""
    keys, cells = _cells(rows, meta, key, metric)
    values = sorted({v for c in cells.values() for v in c}, key=str)
    out = []
    for combo, by in cells.items():
        row = dict(zip(keys, combo))
        row.update({f"{metric} [{key}={v}]": round(statistics.mean(by[v]), 4) if v in by else "" for v in values})
        out.append(row)
    return out


def plots(meta: dict, rows: list[dict], out: Path) -> list[Path]:
    """optimization_history.png, parallel_coordinates.png, param_importances.png (when there are
    enough trials for each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    s = meta["settings"]
    study = _study(meta, rows)
    if study is None:
        return []
    target = (lambda t: t.values[0]) if len(s["metric"]) > 1 else None
    views = {
        "optimization_history": ovm.plot_optimization_history,
        "parallel_coordinates": ovm.plot_parallel_coordinate,
        "param_importances": ovm.plot_param_importances,
    }
    paths = []
    for name, view in views.items():
        if name == "param_importances" and len(study.trials) < 3:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ax = view(study, target=target, target_name=s["metric"][0])
            except (ValueError, RuntimeError, ZeroDivisionError) as err:
                print(f"sweep plot {name} skipped: {err}")
                continue
        fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
        fig.set_size_inches(8, 5)
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _study(meta: dict, rows: list[dict]):
    """An Optuna study holding the trials that reached the objective (values as searched)."""
    import optuna

    s = meta["settings"]
    done = [r for r in rows if all(isinstance(r.get(m), float) for m in s["metric"])]
    keys = [d["key"] for d in meta["space"]] + sorted({k for r in meta["table"] for k in r})
    if not done or not keys:
        return None
    dists = {}
    for k in keys:
        vals = [_scalar(r[k]) for r in done]
        dim = next((d for d in meta["space"] if d["key"] == k), None)
        if dim and dim["kind"] in ("uniform", "loguniform"):
            dists[k] = optuna.distributions.FloatDistribution(*dim["args"], log=dim["kind"] == "loguniform")
        elif dim and dim["kind"] == "int":
            dists[k] = optuna.distributions.IntDistribution(*dim["args"])
        else:
            dists[k] = optuna.distributions.CategoricalDistribution(sorted(set(vals), key=str))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize" if m == "max" else "minimize" for m in s["mode"]])
    for r in done:
        study.add_trial(
            optuna.trial.create_trial(
                params={k: _scalar(r[k]) for k in keys}, distributions=dists, values=[r[m] for m in s["metric"]]
            )
        )
    return study


def _scalar(v):
    return v if isinstance(v, (int, float, str, bool)) else json.dumps(v)
