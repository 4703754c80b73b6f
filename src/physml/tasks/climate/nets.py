"""Networks of the climate tasks, plain torch: the segmentation U-Net (the prostate task's, with a
three-class head) and a small patch classifier."""

from __future__ import annotations

import torch
from torch import nn

from physml.tasks.prostate.unet import UNet


def segmenter(in_channels: int, layers: int, channels: int, classes: int = 3) -> nn.Module:
    """x float[n, C, H, W] (normalised) -> logits float[n, classes, H, W]; H, W multiples of
    2^(layers - 1). The prostate U-Net (no dilation, residual levels) with its 1x1 head widened."""
    down = tuple(channels * 2**k for k in range(layers))
    up = tuple(channels * 2**k for k in range(layers - 2, -1, -1)) + (1,)
    net = UNet(layers, down, up, (1,) * layers, f"conv1-{layers}", "minmax", 2, in_channels)
    net.head = nn.Conv2d(net.head.in_channels, classes, 1)
    return net


class PatchCNN(nn.Module):
    """x float[n, C, S, S] -> logits float[n, 2]: ``layers`` stages of conv-BN-ReLU and 2x2 pooling,
    then global average pooling and a linear layer (Liu et al. 2016 used two conv layers and two
    fully connected ones on 32 x 32 patches)."""

    def __init__(self, in_channels: int, layers: int = 3, channels: int = 16):
        super().__init__()
        blocks, c = [], in_channels
        for k in range(layers):
            co = channels * 2**k
            blocks += [nn.Conv2d(c, co, 3, padding=1), nn.BatchNorm2d(co), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = co
        self.features, self.head = nn.Sequential(*blocks), nn.Linear(c, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((-2, -1)))
