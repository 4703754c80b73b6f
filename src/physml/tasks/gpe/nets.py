"""Networks from (V, g) to the ground state psi on a periodic grid, 1D or 2D (Liang et al., Sci. Rep.
8, 16337 (2018): a ResNet; a plain CNN of the same layers for comparison)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(dim: int, c_in: int, c_out: int, k: int, dilation: int = 1) -> nn.Module:
    conv = nn.Conv1d if dim == 1 else nn.Conv2d
    return conv(c_in, c_out, k, padding=dilation * (k // 2), dilation=dilation, padding_mode="circular")


class Block(nn.Module):
    """x + conv(act(conv(act(x)))) with dilation ``d`` (``residual=False``: no skip)."""

    def __init__(self, dim: int, c: int, d: int, residual: bool):
        super().__init__()
        self.a, self.b, self.residual = _conv(dim, c, c, 3, d), _conv(dim, c, c, 3, d), residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.b(F.gelu(self.a(F.gelu(x))))
        return x + y if self.residual else y


class GroundStateNet(nn.Module):
    """(B, 2, *grid) inputs (scaled V, scaled g) -> psi (B, *grid) >= 0 with sum psi^2 dv = 1."""

    def __init__(self, dim: int, dv: float, channels: int, blocks: int, dilations, residual: bool = True):
        super().__init__()
        self.dim, self.dv = dim, dv
        self.stem = _conv(dim, 2, channels, 5)
        self.blocks = nn.Sequential(
            *[Block(dim, channels, dilations[i % len(dilations)], residual) for i in range(blocks)]
        )
        self.head = _conv(dim, channels, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.softplus(self.head(F.gelu(self.blocks(self.stem(x)))))[:, 0]
        axes = tuple(range(1, s.dim()))
        return s / torch.sqrt((s**2).sum(axes, keepdim=True) * self.dv)
