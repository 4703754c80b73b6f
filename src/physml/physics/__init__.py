"""Exact references for the 2D Ising model: Onsager/Yang (infinite lattice), Kaufman (finite periodic
lattice) and brute-force enumeration (tiny lattices)."""

from .kaufman import kaufman_energy, kaufman_log_z, kaufman_specific_heat
from .onsager import TC, onsager_energy, onsager_specific_heat, yang_magnetization

__all__ = [
    "TC",
    "onsager_energy",
    "onsager_specific_heat",
    "yang_magnetization",
    "kaufman_log_z",
    "kaufman_energy",
    "kaufman_specific_heat",
]
