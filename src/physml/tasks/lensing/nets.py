"""The DeepLense models in plain torch (Alexander et al. 2020, arXiv 2008.12731, appendix B, scaled to
the image size): a deep convolutional autoencoder (DCAE), a convolutional VAE, an adversarial
autoencoder (AAE: a discriminator on the latent code against an N(0, I) prior, Makhzani et al. 2015),
a Gaussian-Bernoulli restricted Boltzmann machine (contrastive divergence, Hinton 2002), and a
ResNet-18 classifier (He et al. 2016). Images are float[n, 1, S, S]."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import check_size


def _down(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 4, stride=2, padding=1),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2),
    )


def _up(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2),
    )


class Encoder(nn.Module):
    """float[n, 1, S, S] -> float[n, out]: ``depth`` stride-2 blocks (channels c, 2c, 4c, ... <= 8c)."""

    def __init__(self, size: int, channels: int, depth: int, out: int):
        super().__init__()
        check_size(size, depth)
        widths = [min(channels * 2**i, channels * 8) for i in range(depth)]
        self.convs = nn.Sequential(*[_down(a, b) for a, b in zip([1] + widths[:-1], widths)])
        self.fc = nn.Linear(widths[-1] * (size // 2**depth) ** 2, out)

    def forward(self, x):
        return self.fc(self.convs(x).flatten(1))


class Decoder(nn.Module):
    """float[n, latent] -> float[n, 1, S, S], the mirror of :class:`Encoder`."""

    def __init__(self, size: int, channels: int, depth: int, latent: int):
        super().__init__()
        widths = [min(channels * 2**i, channels * 8) for i in range(depth)][::-1]
        self.shape = (widths[0], size // 2**depth, size // 2**depth)
        self.fc = nn.Linear(latent, widths[0] * self.shape[1] ** 2)
        self.convs = nn.Sequential(*[_up(a, b) for a, b in zip(widths, widths[1:] + [channels])])
        self.out = nn.Conv2d(channels, 1, 3, padding=1)

    def forward(self, z):
        return self.out(self.convs(F.leaky_relu(self.fc(z), 0.2).view(-1, *self.shape)))


class DCAE(nn.Module):
    """Deterministic autoencoder: x -> z = E(x) -> D(z). Returns {"recon", "z"}."""

    def __init__(self, size: int, channels: int, depth: int, latent: int):
        super().__init__()
        self.encoder, self.decoder = Encoder(size, channels, depth, latent), Decoder(size, channels, depth, latent)

    def forward(self, x) -> dict:
        z = self.encoder(x)
        return {"recon": self.decoder(z), "z": z}


class ConvVAE(nn.Module):
    """q(z|x) = N(mu, diag exp(logvar)); reparameterised z in training, z = mu in eval. Returns
    {"recon", "z", "mu", "logvar"}."""

    def __init__(self, size: int, channels: int, depth: int, latent: int):
        super().__init__()
        self.encoder, self.decoder = Encoder(size, channels, depth, 2 * latent), Decoder(size, channels, depth, latent)

    def forward(self, x) -> dict:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        logvar = logvar.clamp(-12, 8)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        return {"recon": self.decoder(z), "z": z, "mu": mu, "logvar": logvar}


class AAE(DCAE):
    """DCAE plus a discriminator D: z -> logit(z drawn from the prior N(0, I)) (Makhzani et al. 2015).

    Two players, trained in turn as two parameter groups (``Lensing.param_groups``), each through
    ``forward`` so that a DDP-wrapped model sees both: ``forward(x, player="discriminator")`` returns
    {"d_loss"}, BCE(D(z_prior), 1) + BCE(D(z), 0) with the codes computed without gradient;
    ``forward(x)`` returns {"recon", "z"} and, in training mode, the encoder's non-saturating
    adversarial loss "e_loss" = BCE(D(z), 1) (Goodfellow et al. 2014, sec. 3). The discriminator's
    gradients from the encoder's loss are never applied: its optimizer clears them first."""

    def __init__(self, size: int, channels: int, depth: int, latent: int, hidden: int = 128):
        super().__init__(size, channels, depth, latent)
        self.discriminator = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x, player: str = "autoencoder") -> dict:
        if player == "discriminator":
            with torch.no_grad():
                z = self.encoder(x)
            return {"d_loss": self.discriminator_loss(z)}
        out = super().forward(x)
        if self.training:
            fooled = self.discriminator(out["z"])
            out["e_loss"] = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
        return out

    def discriminator_loss(self, z: torch.Tensor) -> torch.Tensor:
        """BCE(D(z_prior), 1) + BCE(D(z), 0), z_prior ~ N(0, I); ``z`` detached."""
        real, fake = self.discriminator(torch.randn_like(z)), self.discriminator(z.detach())
        return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
            fake, torch.zeros_like(fake)
        )


class RBM(nn.Module):
    """Gaussian-Bernoulli RBM with visible sigma ``sigma``: E(v, h) = |v - b|^2 / (2 sigma^2) - c.h -
    (v / sigma).W h. Free energy F(v) = |v - b|^2 / (2 sigma^2) - sum softplus(c + W^T v / sigma)."""

    def __init__(self, size: int, hidden: int, sigma: float = 0.1, cd_steps: int = 1):
        super().__init__()
        self.size, self.sigma, self.cd_steps = size, sigma, cd_steps
        self.W = nn.Parameter(torch.randn(size * size, hidden) * 0.01)
        self.b = nn.Parameter(torch.zeros(size * size))
        self.c = nn.Parameter(torch.zeros(hidden))

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """float[n] for v float[n, S*S]."""
        return ((v - self.b) ** 2).sum(1) / (2 * self.sigma**2) - F.softplus(self.c + v @ self.W / self.sigma).sum(1)

    def hidden_p(self, v):
        return torch.sigmoid(self.c + v @ self.W / self.sigma)

    def visible_mean(self, h):
        return self.b + self.sigma * h @ self.W.T

    def gibbs(self, v: torch.Tensor) -> torch.Tensor:
        """v -> h ~ p(h|v) -> v' ~ N(visible_mean(h), sigma^2), ``cd_steps`` times."""
        for _ in range(self.cd_steps):
            h = torch.bernoulli(self.hidden_p(v))
            v = self.visible_mean(h) + self.sigma * torch.randn_like(v)
        return v

    def forward(self, x) -> dict:
        """The mean-field reconstruction v -> p(h|v) -> E[v|h] (the anomaly score's reconstruction);
        in training mode also "cd", the contrastive-divergence loss."""
        v = x.flatten(1)
        out = {"recon": self.visible_mean(self.hidden_p(v)).view_as(x)}
        if self.training:
            out["cd"] = self.cd_loss(x)
        return out

    def cd_loss(self, x: torch.Tensor) -> torch.Tensor:
        """Contrastive divergence as a loss: mean F(v_data) - mean F(v_k), v_k from k Gibbs steps with
        no gradient; its gradient is the CD-k update."""
        v = x.flatten(1)
        with torch.no_grad():
            vk = self.gibbs(v)
        return self.free_energy(v).mean() - self.free_energy(vk).mean()


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.skip = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.skip(x))


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016): 7x7/2 stem + 3x3/2 max-pool, four stages of two basic blocks
    (widths w, 2w, 4w, 8w; w = 64 in the paper), global average pool, linear. float[n, 1, S, S] ->
    logits float[n, classes]. ``pool=False`` drops the max-pool: stage 1 at S/2 instead of S/4, four
    times the compute, the same parameters (weights load either way)."""

    def __init__(self, classes: int = 3, width: int = 64, pool: bool = True):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 7, 2, 3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1) if pool else nn.Identity(),
        )
        blocks, c = [], width
        for i, w in enumerate([width, 2 * width, 4 * width, 8 * width]):
            blocks += [BasicBlock(c, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))
