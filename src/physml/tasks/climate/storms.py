"""Tropical cyclones and atmospheric rivers placed into the background fields, with their masks.

A tropical cyclone has the pressure profile of Holland (Mon. Wea. Rev. 108, 1212 (1980)): p(r) = pc +
dp exp(-(Rm/r)^B), and its gradient wind V(r) = sqrt((B dp / rho) (Rm/r)^B exp(-(Rm/r)^B) + (r f/2)^2)
- r |f| / 2, counter-clockwise in the northern hemisphere and clockwise in the southern; a warm core
(T200 up by 2.5 K per 10 hPa of depth, T500 by half that, Gaussian of radius 2 Rm) and extra water
vapour. Its mask (the truth) is where the pressure deficit is at least a quarter of the central one:
r <= Rm ln(4/3)^(-1/B). Rm of 100-250 km: broad storms, as coarse models make them.

An atmospheric river is a plume along a curved centreline from the subtropics poleward and east, of
2,500-6,000 km: water vapour (Gaussian across, width sigma 150-300 km, tapered at the ends) and 850
hPa wind along the line. Its mask is where the plume's profile is at least half its peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .background import RHO_AIR
from .grid import EARTH_RADIUS, OMEGA, Grid, local_offsets


@dataclass(frozen=True)
class Cyclone:
    lat: float  #: centre, degrees
    lon: float
    dp: float  #: central pressure deficit, Pa
    rmax: float  #: radius of maximum wind, m
    b: float  #: Holland's shape parameter

    @property
    def mask_radius(self) -> float:
        """m: where the deficit is a quarter of the central one."""
        return self.rmax * np.log(4 / 3) ** (-1 / self.b)


@dataclass(frozen=True)
class River:
    lat: float  #: start of the centreline, degrees
    lon: float
    heading: float  #: degrees from east toward the pole
    bend: float  #: change of heading along the river, degrees
    length: float  #: m
    width: float  #: Gaussian sigma across, m
    vapour: float  #: extra TMQ on the axis, kg/m^2
    wind: float  #: extra 850 hPa wind on the axis, m/s


def holland(r: np.ndarray, c: Cyclone, f: float) -> tuple[np.ndarray, np.ndarray]:
    """(pressure perturbation p(r) - p_env <= 0 in Pa, gradient wind speed in m/s) at distances r (m)."""
    x = (c.rmax / np.maximum(r, 1.0)) ** c.b
    e = np.exp(-x)
    dp = -c.dp * (1 - e)
    v = np.sqrt(c.b * c.dp / RHO_AIR * x * e + (r * f / 2) ** 2) - r * abs(f) / 2
    return dp, v


def place_cyclone(fields: dict[str, np.ndarray], t: int, grid: Grid, c: Cyclone) -> np.ndarray:
    """Add cyclone ``c`` to time step ``t`` of the primary fields (in place); its mask bool[nlat, nlon]."""
    east, north = local_offsets(grid, c.lat, c.lon)
    r = np.hypot(east, north)
    f = 2 * OMEGA * np.sin(np.radians(c.lat))
    dp, v = holland(r, c, f)
    sense = 1.0 if c.lat >= 0 else -1.0  # cyclonic: counter-clockwise in the north
    rr = np.maximum(r, 1.0)
    fields["PSL"][t] += dp
    fields["U850"][t] += 0.9 * v * sense * (-north / rr)
    fields["V850"][t] += 0.9 * v * sense * (east / rr)
    core = np.exp(-((r / (2 * c.rmax)) ** 2))
    fields["T200"][t] += 2.5e-3 * c.dp * core
    fields["T500"][t] += 1.25e-3 * c.dp * core
    fields["TMQ"][t] += 25.0 * np.exp(-((r / (3 * c.rmax)) ** 2))
    fields["PRECT"][t] += 5e-7 * np.exp(-((r / (1.5 * c.rmax)) ** 2))
    return r <= c.mask_radius


def centreline(rv: River, step: float = 25e3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, heading) of points every ``step`` m along the river's axis (degrees, radians)."""
    n = max(int(rv.length / step), 2)
    s = np.linspace(0.0, 1.0, n)
    sign = 1.0 if rv.lat >= 0 else -1.0
    heading = np.radians(rv.heading + rv.bend * s) * sign  # toward the pole in either hemisphere
    ds = rv.length / (n - 1)
    dnorth, deast = np.sin(heading) * ds, np.cos(heading) * ds
    lat = rv.lat + np.degrees(np.concatenate([[0.0], np.cumsum(dnorth[:-1])]) / EARTH_RADIUS)
    lon = np.empty(n)
    lon[0] = rv.lon
    for i in range(1, n):
        lon[i] = lon[i - 1] + np.degrees(deast[i - 1] / (EARTH_RADIUS * np.cos(np.radians(lat[i - 1]))))
    return lat, lon % 360.0, heading


def river_profile(grid: Grid, rv: River) -> tuple[np.ndarray, np.ndarray]:
    """(profile in [0, 1] float64[nlat, nlon]: Gaussian across the axis times a taper along it, index
    of the nearest axis point int[nlat, nlon])."""
    lat, lon, _ = centreline(rv)
    best = np.full(grid.shape, np.inf)
    nearest = np.zeros(grid.shape, int)
    for i in range(len(lat)):
        east, north = local_offsets(grid, lat[i], lon[i])
        d2 = east**2 + north**2
        closer = d2 < best
        best[closer], nearest[closer] = d2[closer], i
    s = nearest / max(len(lat) - 1, 1)
    taper = np.clip(np.minimum(s, 1 - s) / 0.15, 0, 1)
    return np.exp(-0.5 * best / rv.width**2) * taper, nearest


def place_river(fields: dict[str, np.ndarray], t: int, grid: Grid, rv: River) -> np.ndarray:
    """Add river ``rv`` to time step ``t`` (in place); its mask bool[nlat, nlon]."""
    g, nearest = river_profile(grid, rv)
    heading = centreline(rv)[2][nearest]
    fields["TMQ"][t] += rv.vapour * g
    fields["U850"][t] += rv.wind * g * np.cos(heading)
    fields["V850"][t] += rv.wind * g * np.sin(heading)
    fields["PRECT"][t] += 2e-7 * g
    return g >= 0.5


def draw_cyclones(rng: np.random.Generator, mean: float, lat_range=(8.0, 30.0), gap: float = 20.0) -> list[Cyclone]:
    """Poisson(``mean``) cyclones, centres at least ``gap`` degrees apart in either hemisphere."""
    out: list[Cyclone] = []
    for _ in range(rng.poisson(mean)):
        lat = rng.uniform(*lat_range) * rng.choice([-1.0, 1.0])
        lon = rng.uniform(0, 360)
        if any(abs(lat - c.lat) < gap and abs((lon - c.lon + 180) % 360 - 180) < gap for c in out):
            continue
        out.append(Cyclone(lat, lon, rng.uniform(1500, 7000), rng.uniform(100e3, 250e3), rng.uniform(1.0, 2.0)))
    return out


def draw_rivers(rng: np.random.Generator, mean: float) -> list[River]:
    """Poisson(``mean``) rivers starting at 20-35 deg latitude, either hemisphere."""
    return [
        River(
            lat=rng.uniform(20, 35) * rng.choice([-1.0, 1.0]),
            lon=rng.uniform(0, 360),
            heading=rng.uniform(20, 45),
            bend=rng.uniform(-15, 15),
            length=rng.uniform(2.5e6, 6e6),
            width=rng.uniform(150e3, 300e3),
            vapour=rng.uniform(20, 30),
            wind=rng.uniform(15, 25),
        )
        for _ in range(rng.poisson(mean))
    ]


def moved_cyclone(c: Cyclone, hours: float, t: int) -> Cyclone:
    """``c`` after ``t`` steps of ``hours``: westward 4 m/s and poleward 2 m/s (beta drift)."""
    sec = t * hours * 3600
    lat = c.lat + np.sign(c.lat) * np.degrees(2.0 * sec / EARTH_RADIUS)
    lon = c.lon - np.degrees(4.0 * sec / (EARTH_RADIUS * np.cos(np.radians(c.lat))))
    return Cyclone(float(lat), float(lon % 360), c.dp, c.rmax, c.b)


def moved_river(rv: River, hours: float, t: int) -> River:
    """``rv`` after ``t`` steps of ``hours``: carried east at 8 m/s."""
    sec = t * hours * 3600
    lon = rv.lon + np.degrees(8.0 * sec / (EARTH_RADIUS * np.cos(np.radians(rv.lat))))
    return River(rv.lat, float(lon % 360), rv.heading, rv.bend, rv.length, rv.width, rv.vapour, rv.wind)
