"""Generators of Ising configurations (plain torch): the seed's VAE (eq. 2) and actor-critic (eq. 3).

Spins are float[B, L, L] with entries +-1. ``t`` is the temperature input, float[B] in J/k_B; a
conditional net sees T - Tc, an unconditional one ignores it.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from physml.physics import TC

from .bank import TemperatureBank
from .config import ESTIMATORS


def scale(
    a: torch.Tensor, generator: torch.Generator | None = None, sample: bool = False, estimator: str = "identity"
) -> torch.Tensor:
    """The seed's Scale(): the actor's output field a, float[B, L, L] -> spins +-1: the sign of a, or
    with ``sample`` a draw with P(s = +1) = (1 + tanh a) / 2. Gradients pass straight through (Bengio
    et al., arXiv:1308.3432): the critic judges genuine spin configurations. ``estimator`` "identity":
    ds/da = 1 (no saturating output stops the actor's gradient); "tanh": ds/da = 1 - tanh(a)^2 =
    dE[s|a]/da, which makes the gradient of any multilinear function of independently drawn spins
    (e.g. the energy) unbiased, where the identity overweights sites whose draw is already certain."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator = {estimator!r}: choose one of {', '.join(ESTIMATORS)}")
    if sample:
        u = torch.rand(a.shape, device=a.device, generator=generator)
        hard = torch.where(2 * u < 1 + torch.tanh(a), 1.0, -1.0)
    else:
        hard = torch.where(a >= 0, 1.0, -1.0)
    soft = torch.tanh(a) if estimator == "tanh" else a
    return soft + (hard - soft).detach()


GAIN = 4.0  #: the actor's output field is GAIN x its last convolution: at initialization the spins are
#: already mostly decided by the input noise, not by the final independent draw per site


def _tvalue(t: torch.Tensor, on: bool) -> torch.Tensor:
    """T - Tc, float[B] (zeros when unconditional)."""
    return (t.float() - TC) if on else torch.zeros_like(t, dtype=torch.float32)


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1, padding_mode="circular")


def _stack(cin: int, channels: int, layers: int, cout: int) -> list[nn.Module]:
    """``layers`` periodic 3x3 convolutions cin -> channels ... -> cout with LeakyReLU between."""
    body: list[nn.Module] = [_conv(cin, channels), nn.LeakyReLU(0.2)]
    for _ in range(layers - 2):
        body += [_conv(channels, channels), nn.LeakyReLU(0.2)]
    return body + [_conv(channels, cout)]


def sublattices(L: int, stages: int, device=None) -> torch.Tensor:
    """The sites each stage of the actor draws, float[stages, L, L] of 0/1 (a partition of the lattice):
    1 stage all sites; 2 the checkerboard (nearest neighbours in different stages); 4 the 2 x 2
    sublattices (sites of a stage are 2 apart)."""
    i = torch.arange(L, device=device)
    if stages == 1:
        return torch.ones(1, L, L, device=device)
    if stages == 2:
        black = ((i[:, None] + i[None, :]) % 2 == 0).float()
        return torch.stack([black, 1 - black])
    if stages == 4:
        return torch.stack([((i[:, None] % 2 == a) & (i[None, :] % 2 == b)).float() for a in (0, 1) for b in (0, 1)])
    raise ValueError(f"stages = {stages}: choose 1, 2 or 4")


class Actor(nn.Module):
    """Fully convolutional generator: noise fields -> spins, float[B, L, L] (``sample``), for any L
    divisible by ``coarse`` (train on L, generate 2L or 4L: the "scale-up" of the seed's Fig. 4b).

    Noise enters per site (``noise`` channels) and optionally on a grid ``coarse`` times coarser
    (``coarse_noise``, upsampled: longer-range correlations) and as values per configuration broadcast
    to every site (``global_noise``). Both are off by default: measured on L = 32, they let whole
    configurations drift in energy and widen e's spread.
    With ``stages`` > 1 the seed's Scale() draws the lattice in sublattice stages (``sublattices``):
    stage 1 from the noise net's field, each later stage from a field that a further periodic
    convolution net computes from the spins already drawn, the noise and T, as a heat-bath sweep draws a
    sublattice given its neighbours: independent draws per site can then still give correlated
    neighbours.
    With ``symmetric`` the spins are multiplied by a random global sign: the Z2 symmetry s -> -s of
    the h = 0 Hamiltonian built in, so both magnetization sectors are equally likely by construction.
    """

    def __init__(
        self,
        channels: int = 32,
        layers: int = 5,
        noise: int = 4,
        coarse: int = 4,
        conditional: bool = True,
        symmetric: bool = True,
        global_noise: bool = False,
        coarse_noise: bool = False,
        stages: int = 1,
        refine_layers: int = 3,
        estimator: str = "identity",
    ):
        super().__init__()
        sublattices(4, stages)  # validates stages
        self.estimator = estimator
        self.noise, self.coarse, self.conditional, self.symmetric = noise, coarse, conditional, symmetric
        self.global_noise, self.coarse_noise, self.stages = global_noise, coarse_noise, stages
        self.gain = GAIN
        self.net = nn.Sequential(*_stack(3 * noise + 1, channels, layers, 1))
        self.refine = nn.ModuleList(
            nn.Sequential(*_stack(noise + 3, channels, refine_layers, 1)) for _ in range(stages - 1)
        )

    def forward(self, t: torch.Tensor, L: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """The first stage's field a, float[B, L, L] (no global sign)."""
        if L % self.coarse:
            raise ValueError(f"L = {L}: the actor generates L divisible by {self.coarse}")
        B, dev = t.shape[0], t.device
        randn = lambda *s: torch.randn(*s, device=dev, generator=generator)
        local = randn(B, self.noise, L, L)
        coarse = F.interpolate(randn(B, self.noise, L // self.coarse, L // self.coarse), scale_factor=self.coarse)
        coarse = coarse if self.coarse_noise else torch.zeros_like(coarse)
        glob = randn(B, self.noise, 1, 1) if self.global_noise else torch.zeros(B, self.noise, 1, 1, device=dev)
        glob = glob.expand(-1, -1, L, L)
        return self.gain * self.net(torch.cat([local, coarse, glob, self._temp(t, L)], dim=1)).squeeze(1)

    def _temp(self, t: torch.Tensor, L: int) -> torch.Tensor:
        return _tvalue(t, self.conditional).view(-1, 1, 1, 1).expand(-1, 1, L, L)

    def sample(self, t: torch.Tensor, L: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Spins float[B, L, L] (+-1, straight-through gradients to every stage's field)."""
        B, dev = t.shape[0], t.device
        masks = sublattices(L, self.stages, dev)
        s = scale(self(t, L, generator), generator, sample=True, estimator=self.estimator) * masks[0]
        for k, net in enumerate(self.refine, start=1):
            drawn = masks[:k].sum(0).expand(B, 1, L, L)
            noise = torch.randn(B, self.noise, L, L, device=dev, generator=generator)
            a = self.gain * net(torch.cat([s.unsqueeze(1), drawn, noise, self._temp(t, L)], dim=1)).squeeze(1)
            s = s + scale(a, generator, sample=True, estimator=self.estimator) * masks[k]
        if self.symmetric:
            s = s * torch.where(torch.randn(B, 1, 1, device=dev, generator=generator) >= 0, 1.0, -1.0)
        return s


class Critic(nn.Module):
    """Scores configurations: it estimates their temperature. Features are lattice means of local
    convolutional feature maps, float[B, features] (intensive: a critic of L-lattices also judges 2L;
    no squashing, so they stay sensitive to small changes of the local pattern frequencies at every T),
    and a small MLP head estimates T - Tc from them (centred: the head need not learn an offset first).
    Since p(s | T) ~ exp(-E(s)/T), the energy is a sufficient statistic for T: the features that
    predict T are energy-like, the ones the actor must reproduce."""

    def __init__(self, channels: int = 16, layers: int = 3, features: int = 16):
        super().__init__()
        self.net = nn.Sequential(
            *_stack(1, channels, layers - 1, channels),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, features, 1),
            nn.LeakyReLU(0.2),
        )
        self.head = nn.Sequential(nn.Linear(features, 32), nn.Tanh(), nn.Linear(32, 1))

    def features(self, s: torch.Tensor) -> torch.Tensor:
        return self.net(s.unsqueeze(1)).mean(dim=(2, 3))

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(s)).squeeze(-1)


PHYSICS_COLUMNS = slice(-2, None)  #: where ``ActorCritic`` (with ``physics``) puts e and |m| among the features


def moments(s: torch.Tensor) -> torch.Tensor:
    """Energy and squared magnetization per site, float[B, 2], of spins float[B, L, L], written so that
    no spin multiplies itself: m^2 = ((sum s)^2 - sum s^2 + N) / N^2 (the same value for +-1 spins).
    Both are then multilinear in the spins, so the tanh straight-through gradient of a linear function
    of them, such as the unbiased squared difference of their means, is exact in expectation; a
    Gaussian kernel of them, |m|, or (sum s)^2 / N^2 are not."""
    n = s.shape[-1] * s.shape[-2]
    m2 = (s.sum(dim=(1, 2)).pow(2) - s.pow(2).sum(dim=(1, 2)) + n) / n**2
    return torch.stack([order_parameters(s)[:, 0], m2], dim=1)


def order_parameters(s: torch.Tensor) -> torch.Tensor:
    """Energy and |magnetization| per site, float[B, 2], of spins float[B, L, L] (periodic, J = 1):
    e = -(1/N) sum over nearest-neighbour bonds s_i s_j, differentiable (straight-through spins)."""
    e = -(s * torch.roll(s, 1, 1) + s * torch.roll(s, 1, 2)).mean(dim=(1, 2))
    return torch.stack([e, s.mean(dim=(1, 2)).abs()], dim=1)


class ActorCritic(nn.Module):
    """The seed's actor-critic pair, and a Polyak average of the actor's weights (``ema``, decay
    ``ema_decay`` per step; Yazici et al., ICLR 2019) that generates: weights chasing a moving critic
    fluctuate from step to step, their average sits closer to the optimum. The average is a frozen
    copy (requires_grad False: no optimizer or DDP sees it), updated from the live actor at each
    training forward and saved in the state dict.

    ``forward(s, t, fakes)`` on a real batch returns the critic's features of the real spins ("real")
    and of ``fakes`` times as many generated ones at the same temperatures ("fake", rows in
    ``t.repeat(fakes)`` order; critic weights detached there, so the actor's loss never trains the
    critic), their temperatures ("t_real", "t_fake"), and the critic's estimates of T - Tc for the
    real spins ("t_hat"; the critic's own loss).

    With ``group`` > 0 (and ``temperatures``, the training set's), training batches go into a
    ``TemperatureBank`` of 2 ``group`` per T, and "real" / "fake" are instead ``group`` banked and
    ``fakes`` x ``group`` generated configurations at each of B // ``group`` temperatures drawn at
    random: large equal-T groups for the MMD at the cost of a batch (until the bank holds enough, and
    outside training, the batch's own groups).

    With ``physics`` the features the actor must match also hold e and |m| per site
    (``order_parameters``): fixed statistics that the critic's learned ones cannot drift away from;
    "moments_real" / "moments_fake" hold (e, m^2) of both sets (``moments``).
    Since p(s | T) ~ exp(-E(s)/T), matching e's distribution per T is necessary for any exact sampler."""

    def __init__(
        self,
        channels: int = 32,
        layers: int = 5,
        noise: int = 4,
        critic_channels: int = 16,
        critic_layers: int = 3,
        features: int = 16,
        conditional: bool = True,
        symmetric: bool = True,
        global_noise: bool = False,
        ema_decay: float = 0.99,
        coarse_noise: bool = False,
        stages: int = 1,
        group: int = 0,
        temperatures: tuple[float, ...] = (),
        L: int = 0,
        estimator: str = "identity",
        physics: bool = False,
    ):
        super().__init__()
        self.physics = physics
        if group and not (temperatures and L):
            raise ValueError("model.group > 0 needs the training temperatures and L")
        self.group = group
        self.bank = TemperatureBank(temperatures, 2 * group, L) if group else None
        self.actor = Actor(
            channels,
            layers,
            noise,
            conditional=conditional,
            symmetric=symmetric,
            global_noise=global_noise,
            coarse_noise=coarse_noise,
            stages=stages,
            estimator=estimator,
        )
        self.critic = Critic(critic_channels, critic_layers, features)
        self.ema = copy.deepcopy(self.actor).requires_grad_(False)
        self.ema_decay = ema_decay
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update_ema(self) -> None:
        """ema <- d ema + (1 - d) actor, with d ramped up as min(decay, (1 + k) / (10 + k)) after k
        updates; the task calls it after every optimizer step (``IsingGeneration.on_step_end``)."""
        k = int(self.ema_steps)
        d = min(self.ema_decay, (1 + k) / (10 + k))
        for a, b in zip(self.ema.parameters(), self.actor.parameters()):
            a.lerp_(b, 1 - d)
        self.ema_steps += 1

    def forward(self, s: torch.Tensor, t: torch.Tensor, fakes: int = 1) -> dict[str, torch.Tensor]:
        real = self.critic.features(s)
        out = {"t_hat": self.critic.head(real).squeeze(-1), "real": self._with_physics(real.detach(), s), "t_real": t}
        drawn = self._from_bank(s, t) if self.training and self.bank is not None else None
        if drawn is not None:
            with torch.no_grad():
                out["real"] = self._with_physics(self.critic.features(drawn[0]), drawn[0])
            out["t_real"] = drawn[1]
        out["t_fake"] = out["t_real"].repeat(fakes)
        fake = self.actor.sample(out["t_fake"], s.shape[-1])
        frozen = {k: v.detach() for k, v in self.critic.named_parameters()}
        out["fake"] = self._with_physics(_call(self.critic, frozen, "features", fake), fake)
        if self.physics:
            out["moments_real"] = moments(s if drawn is None else drawn[0])
            out["moments_fake"] = moments(fake)
        return out

    def _with_physics(self, features: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Critic features float[B, F] -> [B, F + 2] with e and |m| appended (when ``physics``)."""
        return torch.cat([features, order_parameters(s)], dim=1) if self.physics else features

    def _from_bank(self, s: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Bank the batch, then draw B // group groups of ``group`` (None while the bank fills)."""
        self.bank.push(s, t)
        return self.bank.draw(max(1, s.shape[0] // self.group), self.group)

    def generate(self, t: torch.Tensor, L: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Spins float[B, L, L] (+-1) at temperatures ``t``, from the averaged actor."""
        return torch.sign(self.ema.sample(t, L, generator))  # exact +-1 (no rounding residue)


def _call(module: nn.Module, params: dict, method: str, *args):
    """``module.<method>(*args)`` evaluated with ``params`` in place of its own parameters."""
    return functional_call(_Method(module, method), {f"m.{k}": v for k, v in params.items()}, args)


class _Method(nn.Module):
    def __init__(self, module: nn.Module, method: str):
        super().__init__()
        self.m, self.method = module, method

    def forward(self, *args):
        return getattr(self.m, self.method)(*args)


class ConditionalVAE(nn.Module):
    """Dense VAE (Kingma & Welling 2014) on L x L spins, with T appended to encoder and decoder inputs
    when conditional. Encoder -> mu, logvar float[B, latent]; decoder -> float[B, L, L] in (-1, 1)."""

    def __init__(self, L: int, latent: int = 8, hidden: int = 256, conditional: bool = True):
        super().__init__()
        self.L, self.latent, self.conditional = L, latent, conditional
        self.encoder = nn.Sequential(nn.Linear(L * L + 1, hidden), nn.ReLU())
        self.mu, self.logvar = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent + 1, hidden), nn.ReLU(), nn.Linear(hidden, L * L), nn.Tanh())

    def _t(self, t: torch.Tensor) -> torch.Tensor:
        return _tvalue(t, self.conditional).unsqueeze(1)

    def encode(self, s: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if s.shape[-1] != self.L:
            raise ValueError(f"the VAE was built for L = {self.L}, got L = {s.shape[-1]}")
        h = self.encoder(torch.cat([s.flatten(1), self._t(t)], dim=1))
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, self._t(t)], dim=1)).view(-1, self.L, self.L)

    def forward(self, s: torch.Tensor, t: torch.Tensor) -> dict[str, torch.Tensor]:
        """Reconstruction of a real batch: {"recon" float[B, L, L], "mu", "logvar"}."""
        mu, logvar = self.encode(s, t)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return {"recon": self.decode(z, t), "mu": mu, "logvar": logvar}

    def generate(self, t: torch.Tensor, L: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Samples: z ~ N(0, I) decoded at temperatures ``t`` (only the L it was built for)."""
        if L != self.L:
            raise ValueError(f"model.kind = vae is dense: it generates L = {self.L} only, not {L}")
        z = torch.randn(t.shape[0], self.latent, device=t.device, generator=generator)
        return self.decode(z, t)
