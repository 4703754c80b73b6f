"""A convolutional VAE of galaxy stamps in units of the pixel noise, its ELBO, and the importance-weighted
bound on log p(x) (Burda, Grosse & Salakhutdinov, ICLR 2016): log p(x) >= E log (1/K) sum_k p(x|z_k)
p(z_k) / q(z_k|x), tighter as K grows. As in Regier, McAuliffe & Prabhat (NIPS workshop on approximate
inference, 2015), the decoder maps z to a mean and a diagonal variance per pixel: a normalised density
of images that can say where it is unsure (the core of a bright galaxy) rather than pay the misfit
there at the noise's unit variance."""

from __future__ import annotations

import math

import torch
from torch import nn

LOG2PI = math.log(2 * math.pi)


def gaussian_loglik(x: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor | None = None) -> torch.Tensor:
    """sum over the trailing dimensions of log N(x; mean, exp(logvar)) (logvar None: unit variance)."""
    if logvar is None:
        lp = -0.5 * ((x - mean) ** 2 + LOG2PI)
    else:
        lp = -0.5 * ((x - mean) ** 2 / logvar.exp() + logvar + LOG2PI)
    return lp.flatten(1).sum(1)


def iwae(
    encode, decode, x: torch.Tensor, k: int, generator: torch.Generator | None = None, images: int = 256
) -> torch.Tensor:
    """float[n]: the K-sample importance-weighted bound of each x, for an encoder x -> (mu, logvar) of
    a diagonal Gaussian q(z|x), a decoder z -> (mean, logvar) of a diagonal Gaussian p(x|z) and a
    standard normal prior; the samples drawn from ``generator`` (None: torch's global one), decoded
    ``images`` at a time (K x n decodes at once would need K times a batch's activations)."""
    mu, logvar = encode(x)
    n, d = mu.shape
    per = max(1, images // n)
    logw = []
    for start in range(0, k, per):
        m = min(per, k - start)
        eps = torch.randn(m, n, d, dtype=mu.dtype, device=mu.device, generator=generator)
        flat = (mu + (0.5 * logvar).exp() * eps).reshape(m * n, d)  # z of [m, n, d]
        log_px = gaussian_loglik(x.repeat(m, *([1] * (x.dim() - 1))), *decode(flat)).view(m, n)
        log_pz = gaussian_loglik(flat, torch.zeros_like(flat)).view(m, n)
        log_q = gaussian_loglik(flat, mu.repeat(m, 1), logvar.repeat(m, 1)).view(m, n)
        logw.append(log_px + log_pz - log_q)
    return torch.logsumexp(torch.cat(logw), 0) - math.log(k)


class GalaxyVAE(nn.Module):
    """float[n, 1, S, S] (S a multiple of 8) -> ((mean, logvar) of p(x|z) at a sampled z, mu, logvar of
    q(z|x)); ``encode``/``decode`` for the bounds."""

    def __init__(self, stamp: int, latent: int = 16, channels: int = 32):
        super().__init__()
        c, s = channels, stamp // 8
        self.enc = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1), nn.ReLU(), nn.Conv2d(c, 2 * c, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(2 * c, 2 * c, 4, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * c * s * s, 2 * latent),
        )  # fmt: skip
        self.dec = nn.Sequential(
            nn.Linear(latent, 2 * c * s * s), nn.ReLU(), nn.Unflatten(1, (2 * c, s, s)),
            nn.ConvTranspose2d(2 * c, 2 * c, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(2 * c, c, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(c, 2, 4, 2, 1),
        )  # fmt: skip
        self.latent = latent

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        return h[:, : self.latent], h[:, self.latent :].clamp(-10, 5)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log-variance) float[n, 1, S, S] of each pixel given z; the variance within [e^-6, e^6]."""
        h = self.dec(z)
        return h[:, :1], h[:, 1:].clamp(-6, 6)

    def forward(self, x: torch.Tensor) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
        return self.decode(z), mu, logvar


def elbo(model: GalaxyVAE, x: torch.Tensor) -> torch.Tensor:
    """float[n]: E_q log p(x|z) - KL(q(z|x) || N(0, I)), one sample."""
    px, mu, logvar = model(x)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
    return gaussian_loglik(x, *px) - kl
