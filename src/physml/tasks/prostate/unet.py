"""The source's segmentation net (its Fig. 13): a U-Net with per-level channels, dilation and residual
connections, the axes of its Table 3, behind an optional BatchNorm CNN that learns the input
normalization (its Fig. 12). Plain torch, 2D or 3D.

Table 3 reads: ``layers`` = encoder levels; ``down`` = channels per encoder level; ``up`` = channels
of the decoder, one per up level (``layers - 1`` of them), then extra full-resolution convolutions,
the last entry being the output map (1 channel); ``dilation`` per encoder level (missing levels: 1);
``residual = "conv1-4"`` = encoder levels 1..4 are residual blocks.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import (  # noqa: F401  (also checked in the config)
    check_arch,
    check_size,
    residual_levels,
)

CONV = {2: nn.Conv2d, 3: nn.Conv3d}
CONVT = {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
BN = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
POOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with ReLU at dilation ``d``; residual adds the (1x1-projected) input."""

    def __init__(self, cin: int, cout: int, d: int = 1, residual: bool = False, dims: int = 2):
        super().__init__()
        conv = CONV[dims]
        self.body = nn.Sequential(
            conv(cin, cout, 3, padding=d, dilation=d), nn.ReLU(inplace=True), conv(cout, cout, 3, padding=d, dilation=d)
        )
        self.skip = (nn.Identity() if cin == cout else conv(cin, cout, 1)) if residual else None
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return self.act(y + self.skip(x) if self.skip is not None else y)


class Up(nn.Module):
    """Transposed-convolution upsampling x2, concatenation with the skip, one ConvBlock."""

    def __init__(self, cin: int, cskip: int, cout: int, dims: int = 2):
        super().__init__()
        self.up = CONVT[dims](cin, cout, 2, stride=2)
        self.block = ConvBlock(cout + cskip, cout, dims=dims)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.block(torch.cat([self.up(x), skip], dim=1))


class BNNormalizer(nn.Module):
    """The learned normalizer of the source's Fig. 12b: conv 3x3 -> BN -> ReLU -> conv 1x1 -> BN."""

    def __init__(self, cin: int = 1, hidden: int = 8, dims: int = 2):
        super().__init__()
        self.net = nn.Sequential(
            CONV[dims](cin, hidden, 3, padding=1),
            BN[dims](hidden),
            nn.ReLU(inplace=True),
            CONV[dims](hidden, cin, 1),
            BN[dims](cin),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UNet(nn.Module):
    """x float[n, 1, (D,) H, W] (0-1 normalized) -> logits float[n, up[-1], (D,) H, W].

    H, W (and D in 3D) must be multiples of 2 ** (layers - 1).
    """

    def __init__(
        self,
        layers: int = 4,
        down=(20, 20, 20, 20),
        up=(20, 10, 5, 1),
        dilation=(2, 2, 1, 1),
        residual: str = "conv1-4",
        norm: str = "minmax",
        dims: int = 2,
        in_channels: int = 1,
    ):
        super().__init__()
        check_arch(layers, down, up, dilation, residual, norm, dims)
        dil = list(dilation) + [1] * (layers - len(dilation))
        res = residual_levels(residual)
        self.layers, self.dims = layers, dims
        self.normalizer = BNNormalizer(in_channels, dims=dims) if norm == "bn" else nn.Identity()
        cins = [in_channels] + list(down[:-1])
        self.down = nn.ModuleList(
            ConvBlock(ci, co, dil[i], i + 1 in res, dims) for i, (ci, co) in enumerate(zip(cins, down))
        )
        self.pool = POOL[dims](2)
        self.up, c = nn.ModuleList(), down[-1]
        for k, level in enumerate(range(layers - 2, -1, -1)):
            self.up.append(Up(c, down[level], up[k], dims))
            c = up[k]
        extra = []
        for co in up[layers - 1 : -1]:
            extra += [CONV[dims](c, co, 3, padding=1), nn.ReLU(inplace=True)]
            c = co
        self.extra = nn.Sequential(*extra)
        self.head = CONV[dims](c, up[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalizer(x)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        for k, up in enumerate(self.up):
            x = up(x, skips[self.layers - 2 - k])
        return self.head(self.extra(x))
