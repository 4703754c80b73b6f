"""Networks on jet images float[n, 1, P, P]: a CNN tagger in the style of DeepTop (Kasieczka et al.
2017, arXiv 1701.08784: stacked 3x3 convolutions with max pooling, then dense layers) and a
convolutional autoencoder for anomaly detection (Heimel et al. 2019, arXiv 1808.08979; Farina et
al. 2020, arXiv 1808.08992)."""

from __future__ import annotations

import torch
from torch import nn

from .config import check_pixels  # noqa: F401  (also checked in the config)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
    )


class JetCNN(nn.Module):
    """float[n, 1, P, P] -> logit float[n] of P(top). ``depth`` conv blocks (two 3x3 convolutions and
    a 2x2 max pool each, widths ch, 2ch, ...), then dense layers of ``dense`` units."""

    def __init__(self, pixels: int = 40, channels: int = 16, depth: int = 2, dense: int = 64):
        super().__init__()
        widths = [1] + [channels * 2**i for i in range(depth)]
        self.features = nn.Sequential(*[_block(a, b) for a, b in zip(widths, widths[1:])])
        side = pixels // 2**depth
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(widths[-1] * side * side, dense),
            nn.ReLU(),
            nn.Linear(dense, dense),
            nn.ReLU(),
            nn.Linear(dense, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))[:, 0]


class JetAutoencoder(nn.Module):
    """float[n, 1, P, P] -> reconstruction float[n, 1, P, P] through a ``latent`` code: ``depth``
    stride-2 convolutions down, transposed convolutions up, a linear output (a softplus or ReLU
    output dies on these sparse images: the net learns to return zeros)."""

    def __init__(self, pixels: int = 40, channels: int = 16, depth: int = 3, latent: int = 32):
        super().__init__()
        widths = [1] + [channels * 2**i for i in range(depth)]
        down = []
        for a, b in zip(widths, widths[1:]):
            down += [nn.Conv2d(a, b, 4, stride=2, padding=1), nn.ReLU()]
        self.side, self.width = pixels // 2**depth, widths[-1]
        flat = self.width * self.side**2
        self.encoder = nn.Sequential(*down, nn.Flatten(), nn.Linear(flat, latent))
        up = []
        for a, b in zip(widths[::-1], widths[::-1][1:]):
            up += [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1), nn.ReLU()]
        up.pop()  # linear output
        self.expand = nn.Sequential(nn.Linear(latent, flat), nn.ReLU())
        self.decoder = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)
        h = self.expand(z).view(len(x), self.width, self.side, self.side)
        return self.decoder(h)
