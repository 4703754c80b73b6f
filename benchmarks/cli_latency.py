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
    "physml config lensing": ["config", "lensing"],
    "physml run lensing --dry-run": ["run", "lensing", "-c", "smoke", "--dry-run"],
    "input error: simulate --L 1": ["simulate", "ising", "--L", "1", "--out", "x"],
    "input error: run train.lr=inf": ["run", "lensing", "--set", "train.lr=inf"],
    "input error: ui --port 99999": ["ui", "--port", "99999"],
}


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
    print(f"{'python -c pass (reference)':<34} {python:5.2f} s")
    for name, args in COMMANDS.items():
        t = best([sys.executable, "-m", "physml", *args], cwd)
        print(f"{name:<34} {t:5.2f} s  ({t / python:4.0f}x python; {'under' if t < 2 else 'OVER'} 2 s)")


if __name__ == "__main__":
    main()
