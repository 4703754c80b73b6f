"""Regular latitude-longitude grids: coordinates, great-circle distances, the Coriolis parameter and
derivatives on the sphere. Longitude is periodic; latitudes may run south-north or north-south."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS = 6.371e6  #: m
OMEGA = 7.292e-5  #: rad/s, Earth's rotation


@dataclass(frozen=True)
class Grid:
    """``lat`` float64[nlat] and ``lon`` float64[nlon], degrees; ``lon`` evenly spaced over 360."""

    lat: np.ndarray
    lon: np.ndarray

    @classmethod
    def regular(cls, nlat: int, nlon: int) -> Grid:
        """The CAM finite-volume grid: ``nlat`` latitudes from -90 to 90 (poles included), ``nlon``
        longitudes from 0 (192 x 288 is CAM5's 1 degree, 768 x 1152 its 0.25 degree)."""
        return cls(np.linspace(-90.0, 90.0, nlat), np.arange(nlon) * 360.0 / nlon)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.lat), len(self.lon)

    @property
    def dlat(self) -> float:
        """Latitude spacing, degrees (positive)."""
        return float(abs(self.lat[1] - self.lat[0]))

    @property
    def dlon(self) -> float:
        return float(360.0 / len(self.lon))

    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) float64[nlat, nlon], degrees."""
        return np.meshgrid(self.lat, self.lon, indexing="ij")

    def coriolis(self) -> np.ndarray:
        """f = 2 Omega sin(lat), 1/s, float64[nlat]."""
        return 2 * OMEGA * np.sin(np.radians(self.lat))


def great_circle(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Distance in m between points given in degrees (haversine; broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def local_offsets(grid: Grid, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """(east, north) offsets in m of every grid point from (lat0, lon0), on the local tangent plane
    (longitude wrapped to [-180, 180)); float64[nlat, nlon] each. Good to a few per cent within 15 deg."""
    lat, lon = grid.mesh()
    dlon = (lon - lon0 + 180.0) % 360.0 - 180.0
    east = np.radians(dlon) * EARTH_RADIUS * np.cos(np.radians(0.5 * (lat + lat0)))
    return east, np.radians(lat - lat0) * EARTH_RADIUS


def vorticity(u: np.ndarray, v: np.ndarray, grid: Grid) -> np.ndarray:
    """Relative vorticity dv/dx - du/dy (1/s) of winds u, v float[..., nlat, nlon] (m/s) on the sphere:
    (1 / (a cos phi)) dv/dlambda - (1 / (a cos phi)) d(u cos phi)/dphi, centred differences, longitude
    periodic, one-sided at the first and last latitude."""
    phi = np.radians(grid.lat)[:, None]
    cos = np.maximum(np.cos(phi), 1e-6)
    dlam = np.radians(grid.dlon)
    dv = (np.roll(v, -1, axis=-1) - np.roll(v, 1, axis=-1)) / (2 * dlam)
    du = np.gradient(u * cos, np.radians(grid.lat), axis=-2)
    return ((dv - du) / (EARTH_RADIUS * cos)).astype(np.float32)
