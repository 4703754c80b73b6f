"""A dense variational autoencoder for lattice configurations (Kingma & Welling, ICLR 2014),
as used by Wetzel, Phys. Rev. E 96, 022140 (2017) to discover the order parameter.

Input float[B, C, L, L] or float[B, L, L] (C = 2 for XY (cos, sin), 1 for Ising); the encoder gives
mu, logvar float[B, latent]; the decoder maps z back to float[B, C*L*L] in [-1, 1] (tanh).
"""

from __future__ import annotations

import torch
from torch import nn


class DenseVAE(nn.Module):
    def __init__(self, inputs: int, latent: int = 1, hidden: int = 256):
        super().__init__()
        self.inputs = inputs
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(inputs, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, inputs), nn.Tanh())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x[0].numel() != self.inputs:
            raise ValueError(f"DenseVAE was built for {self.inputs} inputs per sample, got {x[0].numel()}")
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstruction float[B, inputs], mu, logvar)."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.decoder(z), mu, logvar
