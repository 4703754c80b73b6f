"""Weak-lensing convergence maps of two cosmologies on the S8 degeneracy: a denoiser and a classifier."""
