"""The Ising generation task's config (no torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig
from physml.tasks.phases import data as phases_data

KERNELS = ("mean", "rbf")

ESTIMATORS = ("identity", "tanh")

KINDS = ("actor-critic", "vae")


@dataclass(frozen=True)
class GeneratorConfig:
    """The [model] section: which generator, and its size."""

    kind: str = "actor-critic"  # actor-critic | vae
    conditional: bool = True  # T as an input (one model for all temperatures)
    channels: int = 32  # actor: channels of its periodic 3x3 convolutions
    layers: int = 5  # actor: convolutions (receptive field 2 layers + 1 sites)
    noise: int = 4  # actor: noise channels per scale (site, coarse grid, global)
    symmetric: bool = True  # actor: random global sign (Z2 symmetry of h = 0 built in)
    global_noise: bool = False  # actor: noise shared by all sites of a configuration
    coarse_noise: bool = False  # actor: noise on a 4x coarser grid (longer-range correlations)
    fakes: int = 1  # actor: generated configurations per real one in the loss's T groups
    group: int = 0  # actor: real configurations per T group in the loss, from a bank of
    #                                recent batches (0 = the batch's own groups, ~batch / temperatures)
    stages: int = 1  # actor: sublattices drawn one after another (1, 2 checkerboard, 4)
    ema_decay: float = 0.99  # actor: decay of the weight average that generates (0 = live weights)
    estimator: str = "tanh"  # actor: straight-through gradient of Scale(): tanh (dE[s|a]/da) | identity
    critic_channels: int = 16  # actor-critic: the critic's convolution width
    critic_layers: int = 3  # actor-critic: the critic's convolutions
    features: int = 16  # critic features the actor must match
    kernel: str = "rbf"  # rbf (feature distributions) | mean (eq. 3: feature means)
    critic_weight: float = 1.0  # weight of the critic's temperature regression in the loss
    physics: bool = False  # actor: also match the distributions of e and |m| per site per T
    physics_weight: float = 0.0  # actor: weight of a second MMD on (e, |m|) alone (needs physics): in
    #                                the joint one they are 2 of F + 2 dimensions, and a shift of <e> barely shows
    physics_ramp: int = 0  # actor: training steps over which physics_weight rises linearly from 0
    moment_weight: float = 0.0  # actor: weight of the squared differences of <e> and <m^2> per T (in units
    #                                of their spread; needs physics): the one term whose tanh gradients are exact
    latent: int = 8  # vae: latent dimensions
    hidden: int = 256  # vae: hidden units
    beta: float = 1.0  # vae: weight of the KL term (eq. 2: 1)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"model.kind = {self.kind!r}: choose one of {', '.join(KINDS)}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"model.ema_decay = {self.ema_decay}: must be in [0, 1)")
        if self.stages not in (1, 2, 4):
            raise ValueError(f"model.stages = {self.stages}: choose 1, 2 or 4")
        if self.estimator not in ESTIMATORS:
            raise ValueError(f"model.estimator = {self.estimator!r}: choose one of {', '.join(ESTIMATORS)}")
        if self.kernel not in KERNELS:
            raise ValueError(f"model.kernel = {self.kernel!r}: choose one of {', '.join(KERNELS)}")
        if self.physics_weight < 0 or (self.physics_weight and not self.physics):
            raise ValueError(
                f"model.physics_weight = {self.physics_weight}: must be >= 0, and > 0 only with model.physics = true"
            )
        if self.moment_weight < 0 or (self.moment_weight and not self.physics):
            raise ValueError(
                f"model.moment_weight = {self.moment_weight}: must be >= 0, and > 0 only with model.physics = true"
            )
        if self.physics_ramp < 0:
            raise ValueError(f"model.physics_ramp = {self.physics_ramp}: must be >= 0 training steps")
        if self.group == 1 or self.group < 0:
            raise ValueError(f"model.group = {self.group}: 0 (the batch's groups) or >= 2 configurations per T")
        for name in (
            "fakes",
            "channels",
            "layers",
            "noise",
            "critic_channels",
            "critic_layers",
            "features",
            "latent",
            "hidden",
        ):
            if getattr(self, name) < (3 if name.endswith("layers") else 1):
                raise ValueError(f"model.{name} = {getattr(self, name)}: too small")


def ramp(m: GeneratorConfig, step: int) -> float:
    """The factor in [0, 1] on the physics terms at training step ``step``: a linear rise over
    ``physics_ramp`` steps (a full weight from the first step can drive an untrained actor into ordered
    lattices at every T, where the tanh gradients vanish: seen once in three runs)."""
    return min(1.0, step / m.physics_ramp) if m.physics_ramp else 1.0


@dataclass(frozen=True)
class EvalConfig:
    """The [eval] section: how generated sets are compared with Monte Carlo."""

    samples: int = 400  # generated configurations per (L, T) (at most; MC count if fewer)
    far: float = 0.3  # "away from Tc": |T - Tc| > far
    t_min: float = 0.0  # the judged range: e_rel_err_far/near and the low/high-T summaries
    t_max: float = math.inf  # take only t_min <= T <= t_max (a margin trained on but not judged)
    seed: int = 1234  # noise of the evaluation samples

    def __post_init__(self):
        if not 0 <= self.t_min < self.t_max:
            raise ValueError(
                f"eval.t_min = {self.t_min}, eval.t_max = {self.t_max}: need 0 <= t_min < t_max (temperatures in J/k_B)"
            )
        if self.far < 0:
            raise ValueError(f"eval.far = {self.far}: must be >= 0 (a distance from Tc in J/k_B)")

    @property
    def judged(self) -> tuple[float, float]:
        return (self.t_min, self.t_max)


def _default_data() -> phases_data.IsingData:
    return phases_data.IsingData(L=(32, 64), train_L=32, temperatures="1.5:3.5:21")


@dataclass(frozen=True)
class GenerationConfig:
    data: phases_data.IsingData = field(default_factory=_default_data)
    model: GeneratorConfig = field(default_factory=GeneratorConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
