"""Multi-object SDSS-like fields with truth masks (the segmentation task's data).

A field of ``size`` x ``size`` pixels at 0.396"/px holds 1 + Poisson(``objects`` - 1) stars and
galaxies (drawn as in :mod:`cutouts`: magnitudes, seeing, sizes, shapes) at uniform positions,
rendered with GalSim into one image, with sky and CCD noise added once. The truth mask marks the
pixels where the noiseless image exceeds ``mask_sigma`` times the sky noise: the foreground a
perfect segmentation would find."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from physml.tasks.options import option

from .cutouts import PIXEL, CutoutParams, draw_truth, profile


@dataclass(frozen=True)
class FieldParams:
    size: int = option(64, "pixels per side, a multiple of 8")
    objects: float = option(4.0, "mean objects per field (>= 1 each)")
    star_fraction: float = option(0.5, "fraction of stars")
    mask_sigma: float = 1.0  # truth mask: noiseless flux > mask_sigma x sky noise
    cutout: CutoutParams = field(  # the objects drawn; their size and seeing are not options of the fields
        default_factory=lambda: CutoutParams(mag_min=16.0, mag_max=21.0), metadata={"options": False}
    )

    def __post_init__(self):
        if self.size < 16 or self.size % 8:
            raise ValueError(f"size = {self.size}: must be a multiple of 8, >= 16 pixels")
        if self.objects < 1:
            raise ValueError(f"objects = {self.objects}: must be >= 1 (mean objects per field)")
        if not 0 <= self.star_fraction <= 1:
            raise ValueError(f"star_fraction = {self.star_fraction}: must be in 0..1")
        if not self.mask_sigma > 0:
            raise ValueError(f"mask_sigma = {self.mask_sigma}: must be > 0")


def draw_field(rng: np.random.Generator, p: FieldParams) -> dict:
    """{"image": float32[S, S] ADU (sky subtracted), "mask": uint8[S, S], "clean": float32[S, S]
    (noiseless), "n_objects", "n_stars"}."""
    import galsim

    n = 1 + rng.poisson(p.objects - 1)
    stars = rng.random(n) < p.star_fraction
    clean = galsim.ImageF(p.size, p.size, scale=PIXEL)
    half = p.size / 2 - 2
    for star in stars:
        t = draw_truth(rng, p.cutout, galaxy=not star)
        offset = rng.uniform(-half, half, 2)
        profile(t, p.cutout).drawImage(clean, offset=tuple(offset), add_to_image=True)
    noisy = clean.copy() + p.cutout.sky_per_pixel
    noisy.addNoise(
        galsim.CCDNoise(
            galsim.BaseDeviate(int(rng.integers(1, 2**31))), gain=p.cutout.gain, read_noise=p.cutout.read_noise
        )
    )
    noisy -= p.cutout.sky_per_pixel
    mask = clean.array > p.mask_sigma * p.cutout.noise_sd()
    return {
        "image": noisy.array.astype(np.float32),
        "clean": clean.array.astype(np.float32),
        "mask": mask.astype(np.uint8),
        "n_objects": int(n),
        "n_stars": int(stars.sum()),
    }
