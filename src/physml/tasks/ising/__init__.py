"""Ising and XY Markov-chain simulation: the sampler behind `physml simulate ising`."""
