"""Compute kernels: numba functions on arrays with explicit RNG state (no global random state)."""
