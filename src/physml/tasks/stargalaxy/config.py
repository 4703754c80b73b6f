"""The star/galaxy task's config (no torch: `physml config` and input errors answer at once)."""

from __future__ import annotations

from dataclasses import dataclass, field

from physml.tasks.base import TrainConfig

KINDS = ("vae", "bimodal-vae", "hierarchical", "cnn")


@dataclass(frozen=True)
class StarGalaxyData:
    uri: str = ""  # dataset URI (physml simulate/convert stargalaxy); "" = simulate
    n: int = 20000  # simulated cutouts
    size: int = 32  # pixels per side (multiple of 8)
    star_fraction: float = 0.5  # simulated: fraction of stars
    labelled_fraction: float = 0.2  # set A
    seeing: float = 1.4  # median PSF FWHM, arcsec
    seed: int = 0  # root seed of the simulated cutouts
    holdout: int = 10  # crc32(id) % holdout: 0 = validation, 1 = test, else training

    def __post_init__(self):
        if self.size % 8:
            raise ValueError(f"data.size = {self.size}: must be a multiple of 8 (e.g. 32 or 64)")
        if self.holdout < 3:
            raise ValueError(f"data.holdout = {self.holdout}: must be >= 3")


@dataclass(frozen=True)
class StarGalaxyModel:
    kind: str = "hierarchical"  # vae (+ manifold learning) | bimodal-vae | hierarchical (AE + VAE) | cnn
    channels: int = 16  # convolution channels of the first level (then 2x, 4x)
    latent: int = 2  # VAE latent dimensions (the bimodal prior acts on the first)
    code: int = 16  # hierarchical: the AE's code size
    hidden: int = 64  # hierarchical: the MLP VAE's width
    beta: float = 1.0  # weight of the KL term
    m: float = 2.0  # bimodal prior: modes at -m, +m ...
    s: float = 1.0  # ... of width s (the source's eq. 4)
    kl_samples: int = 8  # Monte Carlo draws of the bimodal KL's cross term
    manifold: str = "isomap"  # vae: isomap | tsne | none, before the 2-component mixture
    condition: str = "flux"  # hierarchical: flux (a VAE conditional on the instrumental magnitude) | none

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"model.kind = {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.condition not in ("flux", "none"):
            raise ValueError(f"model.condition = {self.condition!r}: choose flux or none")
        if self.manifold not in ("isomap", "tsne", "none"):
            raise ValueError(f"model.manifold = {self.manifold!r}: choose isomap, tsne or none")
        if self.m <= 0 or self.s <= 0 or self.latent < 1:
            raise ValueError(f"model.m = {self.m}, model.s = {self.s}, model.latent = {self.latent}: must be > 0")


@dataclass(frozen=True)
class StarGalaxyConfig:
    data: StarGalaxyData = field(default_factory=StarGalaxyData)
    model: StarGalaxyModel = field(default_factory=StarGalaxyModel)
    train: TrainConfig = field(default_factory=TrainConfig)
