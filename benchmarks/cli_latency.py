"""How fast `physml` answers when it starts nothing: help, the task list, a config, input errors.
Each command is timed (best of 3) beside a bare `python -c pass` measured in the same run. Target
(issue 30): under 2 s each. Run: `python -m benchmarks.cli_latency`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

COMMANDS = {
    "physml --help": ["--help"],
    "physml tasks": ["tasks"],
    "physml simulate jets --help": ["simulate", "jets", "--help"],
    "physml config lensing": ["config", "lensing"],
    "physml run lensing --dry-run": ["run", "lensing", "-c", "smoke", "--dry-run"],
    "input error: simulate --L 1": ["simulate", "ising", "--L", "1", "--out", "x"],
    "input error: simulate lensing --size 8": ["simulate", "lensing", "--size", "8", "--out", "x"],
    "input error: convert prostate no dir": ["convert", "prostate", "/nonexistent", "--out", "x"],
    "input error: sweep --metric val/x": ["sweep", "lensing", "--metric", "val/x"],
    "input error: evaluate --model missing": ["evaluate", "lensing", "--model", "/nonexistent", "--data", "x"],
    "input error: ui --port 99999": ["ui", "--port", "99999"],
}
TASKS = (
    "phases-supervised",
    "phases-confusion",
    "phases-unsupervised",
    "ising-generation",
    "prostate",
    "stargalaxy",
    "stargalaxy-segmentation",
    "lensing",
    "jets",
    "jets-anomaly",
    "example-oscillator",
)
for _task in TASKS:
    COMMANDS[f"input error: run {_task} lr=inf"] = ["run", _task, "--set", "train.lr=inf"]


def best(argv: list[str], cwd: str, repeat: int = 3) -> float:
    out = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, capture_output=True)
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    cwd = tempfile.mkdtemp(prefix="physml-cli-")
    python = best([sys.executable, "-c", "pass"], cwd)
    print(f"{'python -c pass (reference)':<48} {python:5.2f} s")
    worst = 0.0
    for name, args in COMMANDS.items():
        t = best([sys.executable, "-m", "physml", *args], cwd)
        worst = max(worst, t)
        print(f"{name:<48} {t:5.2f} s  ({t / python:4.0f}x python; {'under' if t < 2 else 'OVER'} 2 s)")
    print(f"{'slowest':<48} {worst:5.2f} s  ({worst / python:4.0f}x python)")


if __name__ == "__main__":
    main()
