"""Flat-sky convergence fields on square patches: Gaussian or shifted-lognormal with a given C_l, shape
noise and smoothing.

The lognormal field (Coles & Jones, MNRAS 248, 1 (1991); Hilbert, Hartlap & Schneider, A&A 536, A85
(2011)) is kappa = lam (exp(g - s^2/2) - 1) with g Gaussian of variance s^2 and shift lam (kappa >=
-lam); its correlation is xi_k = lam^2 (exp(xi_g) - 1), so the Gaussian field's spectrum is the one of
xi_g = ln(1 + xi_k / lam^2). A Gaussian field with the same C_l carries no information beyond C_l: the
skewness and the peaks of the lognormal field are what a network can learn beyond the power spectrum.
Fields are drawn periodic on a grid ``pad`` times the patch and cropped, so the patch has no wrap-around."""

from __future__ import annotations

import numpy as np

ARCMIN = np.pi / 180 / 60  #: radians


def grid_ell(n: int, pix_rad: float) -> np.ndarray:
    """float[n, n]: |l| of each FFT mode of an n x n grid of pixels ``pix_rad`` wide."""
    k = 2 * np.pi * np.fft.fftfreq(n, d=pix_rad)
    return np.hypot(k[:, None], k[None, :])


class PatchField:
    """Draws kappa float32[pixels, pixels] with power ``cl(ell)`` (a function of |l|); ``shift`` > 0 for a
    lognormal field with kappa >= -shift, None for a Gaussian one."""

    def __init__(self, cl, pixels: int, size_deg: float, shift: float | None = None, pad: int = 2):
        self.n, self.pixels, self.shift = pixels * pad, pixels, shift
        pix = size_deg / pixels * np.pi / 180
        area = (self.n * pix) ** 2
        power = cl(grid_ell(self.n, pix)) * self.n**2 / area  # <|FFT(kappa)|^2> / n^2
        if shift is not None:
            xi_k = np.fft.ifft2(power).real  # the grid's correlation function, xi_k[0, 0] = variance
            xi_g = np.log1p(xi_k / shift**2)
            power = np.clip(np.fft.fft2(xi_g).real, 0, None)  # the Gaussian field's spectrum
        self.amplitude = np.sqrt(power)
        self.var_g = float(power.sum() / self.n**2)  # variance of the Gaussian field

    def draw(self, rng: np.random.Generator, count: int = 1) -> np.ndarray:
        """float32[count, pixels, pixels]: independent patches."""
        white = rng.standard_normal((count, self.n, self.n))
        g = np.fft.ifft2(np.fft.fft2(white) * self.amplitude).real[:, : self.pixels, : self.pixels]
        if self.shift is not None:
            g = self.shift * np.expm1(g - self.var_g / 2)
        return g.astype(np.float32)


def noise_sigma(sigma_e: float, ngal: float, pixel_arcmin: float) -> float:
    """Per-pixel rms of the shape noise on kappa: sigma_e / sqrt(n_gal A_pix) (sigma_e per shear
    component, n_gal per arcmin^2); 0 when ``ngal`` is 0 (no noise)."""
    return 0.0 if ngal == 0 else float(sigma_e / np.sqrt(ngal * pixel_arcmin**2))


def smooth(maps: np.ndarray, sigma_arcmin: float, pixel_arcmin: float) -> np.ndarray:
    """maps float[..., n, n] convolved with a Gaussian of ``sigma_arcmin`` (reflecting edges); 0: as is."""
    if sigma_arcmin <= 0:
        return maps
    from scipy.ndimage import gaussian_filter

    s = sigma_arcmin / pixel_arcmin
    return gaussian_filter(maps, sigma=(0,) * (maps.ndim - 2) + (s, s), mode="reflect")


def observe(kappa: np.ndarray, sigma: float, smoothing: float, pixel_arcmin: float, rng) -> np.ndarray:
    """float32: kappa plus white shape noise of rms ``sigma``, smoothed by ``smoothing`` arcmin."""
    noisy = kappa + sigma * rng.standard_normal(kappa.shape) if sigma > 0 else kappa
    return smooth(noisy, smoothing, pixel_arcmin).astype(np.float32)
