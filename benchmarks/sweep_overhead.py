"""Per-trial overhead of `physml sweep` against Optuna alone running the same objective in one process.

The objective is a trivial full run: phases-supervised's smoke config for one epoch (train, validate,
test, figures, model files), about a second of work. Optuna alone runs it N times in this process on
data read once. `physml sweep` runs the same N trials (TPE, no early stopping, 1 CPU each) on a local
Ray with a real MLflow store. Reported: the median trial wall time of both, the ratio, and the
platform overhead per trial = trial wall time (driver: start to end) minus the trial's own work
(target <= 2 s median), plus the end-to-end time per trial.
Run: `.venv/bin/python -m benchmarks.sweep_overhead [N] [CONCURRENT]`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

SETS = ["train.epochs=1", "train.cpus_per_worker=1.0"]


def optuna_alone(n: int, uri: str) -> list[float]:
    """Wall time of each of ``n`` Optuna trials of the same objective in this process."""
    import optuna

    from physml.config import from_dict, merge
    from physml.platform.artifacts import write_model
    from physml.platform.configs import config_dict
    from physml.platform.evaluation import evaluate_splits
    from physml.platform.sweep.space import apply
    from physml.platform.training.inline import inline_splits, train_inline
    from physml.platform.training.runplan import RunPlan
    from physml.tasks.phases.supervised import SupervisedPhases

    task = SupervisedPhases()
    base = merge(config_dict("phases-supervised", "smoke"), SETS + [f'data.uri="{uri}"'])
    times = []

    def objective(trial) -> float:
        t0 = time.perf_counter()
        values = {
            "train.lr": trial.suggest_float("train.lr", 1e-4, 1e-2, log=True),
            "model.channels": trial.suggest_categorical("model.channels", [8, 16, 32]),
        }
        cfg_dict = apply(base, values)
        cfg = from_dict(task.Config, cfg_dict)
        specs = task.datasets(cfg, uri)
        model, metrics = train_inline(task, RunPlan(task.name, cfg, uri), inline_splits(cfg, specs))
        results = evaluate_splits(task, model, cfg, specs)
        with tempfile.TemporaryDirectory() as d:
            write_model(model, cfg, "phases-supervised", Path(d) / "model")
            task.report(results, Path(d) / "plots")
        times.append(time.perf_counter() - t0)
        return metrics["val/acc"]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0)).optimize(objective, n)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    concurrent = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    tmp = Path(tempfile.mkdtemp(prefix="physml-bench-"))
    os.environ["PHYSML_HOME"] = str(tmp / "home")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp / 'mlflow.db'}"
    from physml.platform import cluster
    from physml.platform.configs import resolve
    from physml.platform.plan import data_uri
    from physml.platform.sweep.driver import prepare, run_sweep
    from physml.platform.sweep.report import load_status

    cluster.connect()
    task, cfg = resolve("phases-supervised", "smoke", SETS)
    uri = data_uri(task, cfg, progress=False)  # simulated once, outside both timings
    alone = optuna_alone(n, uri)
    req = prepare("phases-supervised", "smoke", SETS, {"samples": n, "max_concurrent": concurrent, "scheduler": "none"})
    t0 = time.perf_counter()
    res = run_sweep(req, progress=False, name="bench")
    total = time.perf_counter() - t0
    _, status = load_status(res.dir)
    trials = sorted(status.values(), key=lambda e: e["started"])
    wall = [e["wall_s"] for e in trials]
    over = [e["wall_s"] - e["metrics"]["time/work_s"] for e in trials]
    # with one trial at a time, start-to-next-start is what a trial really costs (Tune's scheduling
    # between trials included); minus the trial's own work it is the platform overhead
    gaps = [b["started"] - a["started"] - a["metrics"]["time/work_s"] for a, b in zip(trials, trials[1:])]
    m_alone, m_wall = statistics.median(alone), statistics.median(wall)
    print(f"\n{n} trials, phases-supervised smoke, 1 epoch each, {concurrent} concurrent")
    print(f"Optuna alone (one process):  median trial {m_alone:.2f} s")
    print(
        f"physml sweep (Ray Tune):      median trial {m_wall:.2f} s (driver: trial start to end), "
        f"ratio {m_wall / m_alone:.2f}"
    )
    print(
        f"overhead per trial (wall - own work): median {statistics.median(over):.2f} s, first trial "
        f"(starts the actor, reads the data) {over[0]:.2f} s; target <= 2 s"
    )
    if concurrent == 1 and gaps:
        print(
            f"overhead per trial incl. scheduling (start to next start - work): median "
            f"{statistics.median(gaps):.2f} s, max {max(gaps):.2f} s"
        )
    print(
        f"end to end: sweep {total:.1f} s for {n} trials (incl. planning, parent run, summary plots) "
        f"vs Optuna {sum(alone):.1f} s"
    )


if __name__ == "__main__":
    main()
