"""The simulator's weather: a documented stochastic model, not a dynamical core.

Each time chunk starts from a stationary draw and evolves as a spectral AR(1) process advected
eastward (a "frozen-turbulence" model): Fourier coefficients c_k(t+1) = rho e^{-i k_x s} c_k(t) +
sqrt(1 - rho^2) xi_k. The sea-level-pressure anomaly has the 2D spectrum (1 + (k/k0)^2)^-3, so its
geostrophic winds have the k^-3 kinetic-energy spectrum observed at synoptic scales (Nastrom & Gage,
J. Atmos. Sci. 42, 950 (1985)); temperatures are tied to pressure (cold-core extratropical lows)
and vary little in the tropics (0.4 K against 1.5 K at the poles: weak temperature gradients),
water vapour to temperature by Clausius-Clapeyron (7 %/K), and the derived variables (heights,
humidity, surface pressure and winds) follow from hydrostatic and saturation formulas. No orography:
PS = PSL. Zonal-mean climatologies are analytic profiles of latitude (jets at +-45 deg, trade winds,
moist tropics). Fields are float32[steps, nlat, nlon] in CAM5's units.
"""

from __future__ import annotations

import numpy as np

from .grid import OMEGA, Grid

RHO_AIR = 1.225  #: kg/m^3 near the surface
GAS_CONSTANT = 287.0  #: J/(kg K), dry air
GRAVITY = 9.81  #: m/s^2


def spectral_ar1(
    rng: np.random.Generator, shape: tuple[int, int], steps: int, k0: float, power: float, rho: float, drift: float
) -> np.ndarray:
    """Unit-variance random fields float32[steps, ny, nx], periodic in x, spectrum (1 + (k/k0)^2)^-power
    (k in cycles per pixel), correlated rho between steps and moved ``drift`` pixels east per step.
    Drawn on a 2ny x nx periodic plane and cropped, so the latitude edges are not periodic."""
    ny, nx = shape
    ky, kx = np.fft.fftfreq(2 * ny)[:, None], np.fft.rfftfreq(nx)[None, :]
    amp = (1 + (ky**2 + kx**2) / k0**2) ** (-power / 2)
    amp[0, 0] = 0.0
    amp /= np.sqrt(2 * np.sum(amp**2 * np.where(kx == 0, 1, 2))) / (2 * ny * nx)  # unit variance
    shift = np.exp(-2j * np.pi * kx * drift)

    def noise() -> np.ndarray:
        return rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape)

    c, out = noise() * amp, np.empty((steps, ny, nx), np.float32)
    for t in range(steps):
        if t:
            c = rho * shift * c + np.sqrt(1 - rho**2) * noise() * amp
        out[t] = np.fft.irfft2(c, s=(2 * ny, nx))[:ny]
    return out


def inverse_coriolis(grid: Grid, s0: float = np.sin(np.radians(15.0))) -> np.ndarray:
    """A smooth stand-in for 1/f (s, float64[nlat, 1]): sin(lat) / (2 Omega (sin^2 lat + s0^2)), equal to
    1/f poleward of ~30 deg and 0 at the equator, where geostrophy fails."""
    s = np.sin(np.radians(grid.lat))[:, None]
    return s / (2 * OMEGA * (s**2 + s0**2))


def gradients(field: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(d/dx, d/dy) of float[..., nlat, nlon] per metre (east, north); longitude periodic."""
    from .grid import EARTH_RADIUS

    cos = np.maximum(np.cos(np.radians(grid.lat)), 1e-3)[:, None]
    dx = (np.roll(field, -1, -1) - np.roll(field, 1, -1)) / (2 * np.radians(grid.dlon) * EARTH_RADIUS * cos)
    dy = np.gradient(field, np.radians(grid.lat) * EARTH_RADIUS, axis=-2)
    return dx, dy


def climatology(grid: Grid) -> dict[str, np.ndarray]:
    """Zonal means float64[nlat, 1]: PSL (Pa), TS, T500, T200 (K), TMQ (kg/m^2), U850 (m/s)."""
    lat = grid.lat[:, None]
    s2 = np.sin(np.radians(lat)) ** 2
    psl = 101325 + 800 * np.exp(-(((np.abs(lat) - 30) / 10) ** 2)) - 1200 * np.exp(-(((np.abs(lat) - 62) / 10) ** 2))
    psl = psl - 300 * np.exp(-((lat / 8) ** 2))
    ts = 300.0 - 50.0 * s2
    u = 12 * np.exp(-(((np.abs(lat) - 45) / 10) ** 2)) - 6 * np.exp(-((lat / 15) ** 2))
    return {
        "PSL": psl,
        "TS": ts,
        "T500": ts - 45.0,
        "T200": 218.0 + 0 * lat,
        "TMQ": 50 * np.exp(-((lat / 28) ** 2)) + 6,
        "U850": u,
    }


def primary_fields(rng: np.random.Generator, grid: Grid, steps: int, hours: float) -> dict[str, np.ndarray]:
    """The primary fields float32[steps, nlat, nlon]: PSL, U850, V850, T500, T200, TS, TMQ, PRECT,
    before storms are placed; the derived ones come from :func:`derived_fields`."""
    shape, rho = grid.shape, float(np.exp(-hours / 48.0))  # 2-day decorrelation
    drift = 8.0 * hours / 24.0 / grid.dlon  # 8 deg/day eastward
    k0 = grid.dlon / 25.0  # ~25 deg: the synoptic scale, in cycles per pixel
    n = [spectral_ar1(rng, shape, steps, k0, p, rho, drift) for p in (3.0, 2.0, 2.0, 2.0, 2.0)]
    clim, lat = climatology(grid), grid.lat[:, None]
    polar = np.minimum(1.0, np.cos(np.radians(lat)) / np.cos(np.radians(60.0))) ** 2  # calmer toward the poles
    p_anom = (250 + 900 * np.sin(np.radians(lat)) ** 2) * polar * n[0]
    dpdx, dpdy = gradients(p_anom, grid)
    finv = inverse_coriolis(grid) / RHO_AIR
    wtg = 0.4 + 1.1 * np.sin(np.radians(lat)) ** 2  # K: weak temperature gradients in the tropics
    t500 = clim["T500"] + 0.003 * p_anom + wtg * n[1]
    ts = clim["TS"] + 2.0 * n[2]
    tmq = np.maximum(clim["TMQ"] * np.exp(0.07 * (ts - clim["TS"])) * (1 + 0.15 * n[3]), 0.5)
    f = {
        "PSL": clim["PSL"] + p_anom,
        "U850": clim["U850"] - finv * dpdy,
        "V850": finv * dpdx,
        "T500": t500,
        "T200": clim["T200"] + 0.5 * (t500 - clim["T500"]),
        "TS": ts,
        "TMQ": tmq,
        "PRECT": 3.5e-8 * tmq / 30 * np.exp(0.8 * n[4] - 0.32),
    }
    return {k: v.astype(np.float32) for k, v in f.items()}


def saturation_humidity(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """q_sat (kg/kg) at temperature t (K) and pressure p (Pa): 0.622 e_s / p, e_s from Bolton (1980)."""
    es = 611.2 * np.exp(17.67 * (t - 273.15) / (t - 29.65))
    return 0.622 * es / p


def derived_fields(f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add PS, TREFHT, QREFHT, UBOT, VBOT, Z1000, Z200, ZBOT to the primary fields (in place; returned):
    heights from the hypsometric equation, Z200 - Z1000 = (R Tm / g) ln(1000/200) with Tm the mean of
    TS, T500 and T200; humidity at 80 % of saturation; the lowest level's winds 0.7 of 850 hPa's."""
    f["PS"] = f["PSL"].copy()
    f["TREFHT"] = f["TS"] - 1.0
    f["QREFHT"] = 0.8 * saturation_humidity(f["TREFHT"], f["PS"])
    f["UBOT"], f["VBOT"] = 0.7 * f["U850"], 0.7 * f["V850"]
    f["Z1000"] = (f["PSL"] - 100000.0) / (RHO_AIR * GRAVITY)
    tm = (f["TS"] + f["T500"] + f["T200"]) / 3
    f["Z200"] = f["Z1000"] + GAS_CONSTANT * tm / GRAVITY * np.log(5.0)
    f["ZBOT"] = GAS_CONSTANT * f["TS"] / GRAVITY * np.log(f["PS"] / (f["PS"] - 700.0))
    return {k: np.asarray(v, np.float32) for k, v in f.items()}
