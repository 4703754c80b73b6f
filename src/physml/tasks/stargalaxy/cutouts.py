"""SDSS-like r-band cutouts of stars and galaxies with GalSim (Rowe et al. 2015, Astron. Comput. 10, 121).

Stars are the PSF itself: a Moffat profile (beta = 3.5) whose FWHM, the seeing, varies from cutout to
cutout around 1.4". Galaxies are a de Vaucouleurs bulge plus an exponential disk (bulge fraction
uniform in 0..1), sheared to an ellipticity |g| ~ Rayleigh(0.2) at a random angle, with a half-light
radius drawn log-normally around a magnitude-dependent median r50(m) = r50_18 * 10^(-0.1 (m - 18))
(fainter galaxies are smaller: compact faint galaxies look like stars), convolved with the same PSF.
Magnitudes are uniform in [mag_min, mag_max]. Photometry: flux = 10^(-0.4 (m - zero_point)) ADU, sky
10^(-0.4 (sky_mag - zero_point)) ADU per arcsec^2, CCD noise (Poisson in electrons at ``gain``, plus
read noise), the sky subtracted as SDSS's corrected frames are. All lengths in arcsec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physml.tasks.options import option

PIXEL = 0.396  # SDSS pixel scale, arcsec


@dataclass(frozen=True)
class CutoutParams:
    size: int = option(32, "pixels per side")
    seeing: float = option(1.4, "median PSF FWHM, arcsec")
    seeing_sd: float = 0.2  # its spread (normal, clipped to >= 0.7")
    mag_min: float = 14.0
    mag_max: float = 22.0
    r50_18: float = 2.0  # median galaxy half-light radius at r = 18, arcsec
    r50_dex: float = 0.2  # log-normal scatter of the half-light radius, dex
    zero_point: float = 28.0  # magnitude of 1 ADU
    sky_mag: float = 20.9  # r-band sky brightness, mag / arcsec^2
    gain: float = 4.7  # electrons per ADU
    read_noise: float = 5.0  # electrons

    def __post_init__(self):
        if self.size < 8:
            raise ValueError(f"size = {self.size}: must be >= 8 pixels")
        if not self.mag_min < self.mag_max:
            raise ValueError(f"mag_min = {self.mag_min}, mag_max = {self.mag_max}: need mag_min < mag_max")
        if not 0 < self.seeing <= 10:
            raise ValueError(f"seeing = {self.seeing}: the PSF FWHM must be in (0, 10] arcsec")
        if not self.r50_18 > 0:
            raise ValueError(f"r50_18 = {self.r50_18}: must be > 0 arcsec")
        if self.size > 1024:
            raise ValueError(f"size = {self.size}: at most 1024 pixels")

    @property
    def sky_per_pixel(self) -> float:
        """Sky level in ADU per pixel."""
        return 10 ** (-0.4 * (self.sky_mag - self.zero_point)) * PIXEL**2

    def noise_sd(self) -> float:
        """Standard deviation of a blank sky pixel in ADU: sqrt(sky / gain + (read noise / gain)^2)."""
        return float(np.sqrt(self.sky_per_pixel / self.gain + (self.read_noise / self.gain) ** 2))


def draw_truth(rng: np.random.Generator, p: CutoutParams, galaxy: bool) -> dict:
    """The physical parameters of one object: magnitude, seeing, and for galaxies r50, |g|, angle, B/T."""
    t = {
        "galaxy": galaxy,
        "magnitude": rng.uniform(p.mag_min, p.mag_max),
        "seeing": max(0.7, rng.normal(p.seeing, p.seeing_sd)),
        "dx": rng.uniform(-0.5, 0.5),
        "dy": rng.uniform(-0.5, 0.5),
    }
    if galaxy:
        median = p.r50_18 * 10 ** (-0.1 * (t["magnitude"] - 18.0))
        t.update(
            r50=median * 10 ** (p.r50_dex * rng.standard_normal()),
            g=min(0.8, rng.rayleigh(0.2)),
            angle=rng.uniform(0, np.pi),
            bulge=rng.uniform(0, 1),
        )
    return t


def profile(t: dict, p: CutoutParams):
    """The GalSim object of ``t`` convolved with its PSF, flux in ADU."""
    import galsim

    flux = 10 ** (-0.4 * (t["magnitude"] - p.zero_point))
    psf = galsim.Moffat(beta=3.5, fwhm=t["seeing"])
    if not t["galaxy"]:
        return psf.withFlux(flux)
    gal = galsim.Add(
        galsim.DeVaucouleurs(half_light_radius=t["r50"], flux=t["bulge"]),
        galsim.Exponential(half_light_radius=t["r50"], flux=1 - t["bulge"]),
    )
    gal = gal.shear(g=t["g"], beta=t["angle"] * galsim.radians).withFlux(flux)
    return galsim.Convolve(gal, psf)


def draw(t: dict, p: CutoutParams, seed: int | None) -> np.ndarray:
    """float32[size, size] cutout in ADU, sky subtracted; noiseless when ``seed`` is None."""
    import galsim

    img = galsim.ImageF(p.size, p.size, scale=PIXEL)
    profile(t, p).drawImage(img, offset=(t["dx"], t["dy"]))
    if seed is not None:
        img += p.sky_per_pixel
        img.addNoise(galsim.CCDNoise(galsim.BaseDeviate(seed), gain=p.gain, read_noise=p.read_noise))
        img -= p.sky_per_pixel
    return img.array.astype(np.float32)
