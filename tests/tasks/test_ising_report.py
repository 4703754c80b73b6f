"""The brief summary of an Ising dataset (`physml simulate ising --brief`, the demo's step 1)."""

from __future__ import annotations

import math

from physml.tasks.ising.report import format_brief


def test_brief_counts_chi2_and_the_worst_deviation_per_size():
    rows = [
        {"L": 8, "T": 2.0, "e": -1.70, "e_exact": -1.74, "e_err": 0.02},  # -> +2 sigma
        {"L": 8, "T": 2.5, "e": -1.10, "e_exact": -1.09, "e_err": 0.01},  # -> -1 sigma
        {"L": 16, "T": 2.0, "e": -1.75, "e_exact": math.nan, "e_err": 0.01},  # no exact value
    ]
    lines = format_brief(rows).splitlines()
    assert lines[0] == "L = 8: 2 temperatures; <e> vs exact: chi^2 = 5.0 for 2 points, largest |dev| 2.00 sigma"
    assert lines[1] == "L = 16: 1 temperature (no exact values to compare)"
