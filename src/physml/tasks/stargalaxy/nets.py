"""Networks of the stargalaxy task (plain torch): a convolutional VAE (Gaussian or bimodal prior), the
source's hierarchical AE + VAE (its Fig. 7), and a supervised CNN. Cutouts are float[n, 1, S, S]
with S a multiple of 8 (three stride-2 convolutions)."""

from __future__ import annotations

import math

import torch
from torch import nn


def encoder(channels: int, size: int, out: int) -> nn.Sequential:
    """[n, 1, S, S] -> [n, out]: three stride-2 3x3 convolutions (c, 2c, 4c), then a linear map."""
    c = channels
    return nn.Sequential(
        nn.Conv2d(1, c, 3, 2, 1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(c, 2 * c, 3, 2, 1),
        nn.LeakyReLU(0.1),
        nn.Conv2d(2 * c, 4 * c, 3, 2, 1),
        nn.LeakyReLU(0.1),
        nn.Flatten(),
        nn.Linear(4 * c * (size // 8) ** 2, out),
    )


class Decoder(nn.Module):
    """[n, inp] -> [n, 1, S, S]: the mirror of :func:`encoder`."""

    def __init__(self, channels: int, size: int, inp: int):
        super().__init__()
        c, self.s, self.c = channels, size // 8, 4 * channels
        self.fc = nn.Linear(inp, self.c * self.s**2)
        self.net = nn.Sequential(
            nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(4 * c, 2 * c, 4, 2, 1),
            nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1),
            nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(c, 1, 4, 2, 1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, self.c, self.s, self.s))


def mlp(inp: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inp, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, hidden), nn.LeakyReLU(0.1), nn.Linear(hidden, out)
    )


class ConvVAE(nn.Module):
    """x -> (reconstruction [n, 1, S, S], mu [n, d], logvar [n, d])."""

    def __init__(self, size: int = 32, channels: int = 16, latent: int = 2):
        super().__init__()
        self.enc = encoder(channels, size, 2 * latent)
        self.dec = Decoder(channels, size, latent)

    def forward(self, x: torch.Tensor):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.dec(z), mu, logvar


class HierarchicalAEVAE(nn.Module):
    """The source's Fig. 7: an autoencoder compresses the cutout to a code c [n, code]; a VAE (MLP)
    encodes c to z [n, latent] with the bimodal prior on z_0 and decodes it back to c. With
    ``conditions`` > 0 the VAE is conditional: both its halves also see per-object quantities
    cond [n, conditions] (standardized by a non-affine batch norm), which z then need not encode.
    (x, cond) -> (image reconstruction, code, code reconstruction, mu, logvar)."""

    def __init__(
        self, size: int = 32, channels: int = 16, code: int = 16, latent: int = 2, hidden: int = 64, conditions: int = 0
    ):
        super().__init__()
        self.enc = encoder(channels, size, code)
        self.dec = Decoder(channels, size, code)
        self.venc = mlp(code + conditions, hidden, 2 * latent)
        self.vdec = mlp(latent + conditions, hidden, code)
        self.norm = nn.BatchNorm1d(conditions, affine=False) if conditions else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None):
        c = self.enc(x)
        extra = [self.norm(cond)] if self.norm is not None else []
        mu, logvar = self.venc(torch.cat([c, *extra], 1)).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return self.dec(c), c, self.vdec(torch.cat([z, *extra], 1)), mu, logvar


class CNNClassifier(nn.Module):
    """Supervised upper bound: x -> logit [n] of P(galaxy)."""

    def __init__(self, size: int = 32, channels: int = 16):
        super().__init__()
        self.net = encoder(channels, size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[:, 0]


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, e^logvar) || N(0, 1)) per element, closed form."""
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


def log_bimodal(z: torch.Tensor, m: float, s: float) -> torch.Tensor:
    """log Q(z) of the source's eq. (4): Q = 1/2 N(-m, s^2) + 1/2 N(m, s^2)."""
    a = -0.5 * ((z - m) / s) ** 2
    b = -0.5 * ((z + m) / s) ** 2
    return torch.logaddexp(a, b) - math.log(2.0) - math.log(s) - 0.5 * math.log(2 * math.pi)


def kl_bimodal(mu: torch.Tensor, logvar: torch.Tensor, m: float, s: float, samples: int = 8) -> torch.Tensor:
    """KL(N(mu, sigma^2) || Q) per element. No closed form exists for a mixture prior; this is the
    Monte Carlo estimate -H(q) - E_q[log Q(z)] with the exact Gaussian entropy H(q) and ``samples``
    reparameterized draws for the cross term (unbiased; differentiable in mu and logvar)."""
    sd = torch.exp(0.5 * logvar)
    z = mu.unsqueeze(0) + sd.unsqueeze(0) * torch.randn((samples,) + mu.shape, device=mu.device, dtype=mu.dtype)
    entropy = 0.5 * (1 + math.log(2 * math.pi) + logvar)
    return -entropy - log_bimodal(z, m, s).mean(0)
