"""The massmaps networks: a CNN classifier of cosmologies (conv-BN-ReLU stages, stride 2, global
average and maximum pooling) and the denoiser, the U-Net of the prostate task (physml.tasks.prostate.unet)."""

from __future__ import annotations

import torch
from torch import nn

from physml.tasks.prostate.unet import UNet


class CosmoCNN(nn.Module):
    """float[n, 1, N, N] (kappa / SCALE) -> logits float[n, classes]; ``levels`` stages halve N."""

    def __init__(self, classes: int, channels: int = 16, levels: int = 4):
        super().__init__()
        layers, c_in = [], 1
        for k in range(levels):
            c = channels * 2**k
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            layers += [nn.Conv2d(c, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(2 * c_in, 64), nn.ReLU(inplace=True), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        return self.head(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1))


def denoiser(channels: int = 16, levels: int = 3) -> nn.Module:
    """noisy float[n, 1, N, N] -> clean float[n, 1, N, N] (N a multiple of 2^(levels - 1))."""
    down = tuple(channels * 2**k for k in range(levels))
    up = tuple(reversed(down[:-1])) + (1,)
    return UNet(levels, down, up, dilation=(1,) * levels, residual="none", norm="minmax")
