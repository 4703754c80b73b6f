"""Experiments. Each is imported lazily by name; no task imports ray or mlflow.

``SAMPLERS``: Markov-chain generators run by ``physml simulate NAME`` on the platform's ensemble.
"""
from __future__ import annotations

import importlib

SAMPLERS: dict[str, str] = {
    "ising": "physml.tasks.ising.sampler:IsingSampler",
}


def load(path: str):
    """Import ``"package.module:Name"`` and return the object."""
    mod, _, name = path.partition(":")
    return getattr(importlib.import_module(mod), name)
