"""A CNN for 8 x 24 PMT images whose azimuth is periodic: every convolution pads the 24 columns
circularly and the 8 rings with zeros (the detector's barrel has ends, not a seam)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class RingConv(nn.Module):
    """3 x 3 convolution, circular in azimuth (the last axis), zero-padded in z."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 0, 0), mode="circular")
        return self.conv(F.pad(x, (0, 0, 1, 1)))


class PMTNet(nn.Module):
    """float[n, 1, 8, 24] -> logits float[n, classes]: two blocks of two ring convolutions (the first
    block then pools 2 x 2), a global mean and max over the PMTs, a dense head."""

    def __init__(self, classes: int, channels: int = 16, dense: int = 64):
        super().__init__()
        c = channels
        self.body = nn.Sequential(
            RingConv(1, c), nn.ReLU(), RingConv(c, c), nn.ReLU(), nn.MaxPool2d(2),
            RingConv(c, 2 * c), nn.ReLU(), RingConv(2 * c, 2 * c), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Linear(4 * c, dense), nn.ReLU(), nn.Linear(dense, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        return self.head(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1))


class PMTAutoencoder(nn.Module):
    """float[n, 1, 8, 24] -> (reconstruction float[n, 1, 8, 24], code float[n, latent]): ring
    convolutions down to 4 x 12, a linear code, and back (nearest upsampling, ring convolutions)."""

    def __init__(self, channels: int = 16, latent: int = 16):
        super().__init__()
        c = channels
        self.enc = nn.Sequential(
            RingConv(1, c), nn.ReLU(), nn.MaxPool2d(2), RingConv(c, 2 * c), nn.ReLU(), nn.Flatten(),
            nn.Linear(2 * c * 4 * 12, latent),
        )  # fmt: skip
        self.dec_in = nn.Linear(latent, 2 * c * 4 * 12)
        self.dec = nn.Sequential(
            nn.ReLU(), nn.Upsample(scale_factor=2), RingConv(2 * c, c), nn.ReLU(), RingConv(c, 1),
        )  # fmt: skip
        self.c = c

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encode(x)
        return self.dec(self.dec_in(z).view(-1, 2 * self.c, 4, 12))
