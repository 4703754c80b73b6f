"""physml: an experiment platform for deep learning in physics (Ray + MLflow + numba + torch)."""

__version__ = "0.1.0"
