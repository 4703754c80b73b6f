"""Phases of matter from Ising configurations: supervised Tc, learning by confusion, unsupervised."""
