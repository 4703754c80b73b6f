"""Tc of the 2D Ising model to 1e-4 in at most 10 CPU-minutes: the documented recipe, run.

    physml simulate ising --L 32 64 --temperatures <7 near Tc> --replicas R --sweeps S \\
        --every 10 --algorithm wolff --seed 0 --out DATA
    physml analyse ising --data DATA

The Binder crossing of L = 32 and 64 on multiple-histogram reweighted curves (the L = 16/32 crossing
already lies within 0.03% of Tc; the 32/64 one is closer still). CPU time is counted as wall time x
the cores Ray uses (an upper bound: the driver and Ray's daemons share them). The last line is
``Tc = <value> +- <error>``.
Run: `.venv/bin/python -m benchmarks.tc_precision [--sweeps S] [--replicas R] [--seed K] [--data DIR]`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from physml.physics import TC

TEMPERATURES = "2.255,2.26,2.265,2.27,2.275,2.28,2.285"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sweeps", type=int, default=72000, help="recorded Wolff sweeps per chain (default 72000)")
    ap.add_argument("--replicas", type=int, default=8, help="chains per (L, T) (default 8)")
    ap.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    ap.add_argument("--data", default="", help="where the dataset goes (default: a temporary directory)")
    a = ap.parse_args(argv)
    out = a.data or os.path.join(tempfile.mkdtemp(prefix="physml-tc-"), "tc")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{os.path.dirname(out)}/mlflow.db"}
    cmd = [
        *(sys.executable, "-m", "physml", "simulate", "ising", "--L", "32", "64"),
        *("--temperatures", TEMPERATURES, "--replicas", str(a.replicas), "--sweeps", str(a.sweeps)),
        *("--thermalize", "2000", "--every", "10", "--algorithm", "wolff", "--seed", str(a.seed)),
        *("--brief", "--no-progress", "--out", out),
    ]
    cores = os.cpu_count() or 1
    print("$ " + " ".join(cmd[2:]), flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "physml", "analyse", "ising", "--data", out, "--brief"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    ana = time.perf_counter() - t0
    lines = [x for x in res.splitlines() if x.startswith(("Binder", "Tc = "))]
    print("\n".join(lines[:-1]))
    value, err = (float(v) for v in lines[-1].split()[2:5:2])
    cpu = (sim * cores + ana) / 60
    print(
        f"simulation {sim:.0f} s on {cores} cores + analysis {ana:.0f} s = {cpu:.1f} CPU-minutes (target <= 10); "
        f"relative deviation {value / TC - 1:+.2e} (target |.| <= 1e-4), error {err / TC:.2e} relative "
        f"(target <= 1e-4), deviation {(value - TC) / err:+.1f} standard errors (target within 3)"
    )
    print(f"Tc = {value:.6f} +- {err:.6f}")


if __name__ == "__main__":
    main()
