"""Small networks for L x L spin configurations (plain torch)."""

from __future__ import annotations

import torch
from torch import nn


class ConvClassifier(nn.Module):
    """Z2-symmetric CNN for any L: odd convolutional features, global mean, absolute value, MLP head.

    Two 3x3 periodic convolutions without bias and with tanh (an odd function) make every feature
    change sign with the spins; their lattice mean is an order-parameter-like quantity whose absolute
    value is invariant under s -> -s, as the phase label is. Input float[B, L, L]; output float[B] logits.
    """

    def __init__(self, channels: int = 16, hidden: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1, padding_mode="circular", bias=False),
            nn.Tanh(),
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode="circular", bias=False),
            nn.Tanh(),
        )
        self.head = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x.unsqueeze(1)).mean(dim=(2, 3)).abs()
        return self.head(h).squeeze(-1)


class DenseClassifier(nn.Module):
    """Carrasquilla & Melko (Nat. Phys. 13, 431 (2017)): L^2 inputs, one sigmoid hidden layer, one logit.

    Input float[B, L, L] with the L it was built for; output float[B] logits.
    """

    def __init__(self, L: int, hidden: int = 100):
        super().__init__()
        self.L = L
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(L * L, hidden), nn.Sigmoid(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.L:
            raise ValueError(f"DenseClassifier was built for L = {self.L}, got L = {x.shape[-1]}")
        return self.net(x).squeeze(-1)
