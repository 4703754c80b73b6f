"""Heuristic labels of tropical cyclones and atmospheric rivers, as DeepCAM's were made (TECA).

Tropical cyclones (TECA / TempestExtremes criteria; Prabhat et al. 2012, Ullrich & Zarzycki 2017):
a local minimum of sea-level pressure (within ``min_radius`` deg), closed by a +``closed_pa`` contour
within ``radius`` deg (the region below pc + 200 Pa connected to the centre does not reach 5.5 deg);
850 hPa relative vorticity with the hemisphere's sign above ``vorticity`` within ``min_radius`` deg;
a warm core: the mean of T200 and T500 near the centre above its mean on the 5.5 deg ring by
``warm_k``. The label is the region connected to the centre where the pressure deficit is at least a
quarter of the central one (p < pc + 0.75 (p_ring - pc)).

Atmospheric rivers: integrated vapour transport IVT (kg m^-1 s^-1) above ``ivt`` where the data has
it, else the proxy TMQ |V850| above ``proxy`` (a column moving at the 850 hPa wind overestimates IVT;
the threshold is set so that the proxy's false alarms in the background stay rare); a connected
region (8-neighbours, longitude periodic) of at least ``length_km`` with length / width >= 2 (width =
area / length), its centroid poleward of ``tropics`` deg (Ralph et al. 2004; Rutz et al. 2014).

Kernels work on one time step, index space, any regular grid (latitudes either way round).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .grid import EARTH_RADIUS, Grid, vorticity

DEG_M = np.pi / 180 * EARTH_RADIUS  #: metres per degree of great circle


@dataclass(frozen=True)
class DetectParams:
    radius: float = 5.5  #: deg: closed contour, warm-core ring, merge distance
    min_radius: float = 2.0  #: deg: local minimum and vorticity search
    closed_pa: float = 200.0
    vorticity: float = 9.6e-5  #: 1/s
    warm_k: float = 1.0  #: K
    tc_lat: float = 40.0  #: deg: centres equatorward of this
    ivt: float = 250.0  #: kg m^-1 s^-1
    proxy: float = 700.0  #: kg m^-1 s^-1 of TMQ |V850|
    length_km: float = 2000.0
    tropics: float = 20.0


@njit(cache=True)
def _dist(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * np.arcsin(np.sqrt(min(max(h, 0.0), 1.0))) * 180 / np.pi  # degrees of great circle


@njit(cache=True)
def _window(i, lat, dlat, dlon, radius, nlon):
    """(row span, column span) of a box holding the cap of ``radius`` deg around row ``i``."""
    di = int(np.ceil(radius / dlat)) + 1
    c = max(np.cos(np.radians(abs(lat[i]) + radius)), 1e-3)
    dj = min(int(np.ceil(radius / (dlon * c))) + 1, nlon // 2)
    return di, dj


@njit(cache=True)
def _is_minimum(p, i, j, lat, lon, dlat, dlon, radius):
    ny, nx = p.shape
    di, dj = _window(i, lat, dlat, dlon, radius, nx)
    for a in range(max(0, i - di), min(ny, i + di + 1)):
        for b in range(j - dj, j + dj + 1):
            bb = b % nx
            if (a != i or bb != j) and p[a, bb] < p[i, j] and _dist(lat[i], lon[j], lat[a], lon[bb]) <= radius:
                return False
    return True


@njit(cache=True)
def _fill(p, i, j, level, lat, lon, dlat, dlon, radius, out, value):
    """Flood-fill from (i, j) over p < level within ``radius`` deg, marking ``out`` with ``value``; True
    when the region stays inside (no filled pixel beyond radius - one grid step)."""
    ny, nx = p.shape
    stack_i, stack_j = np.empty(ny * nx, np.int64), np.empty(ny * nx, np.int64)
    seen = np.zeros((ny, nx), np.bool_)
    n, closed, edge = 1, True, radius - max(dlat, dlon)
    stack_i[0], stack_j[0], seen[i, j] = i, j, True
    while n:
        n -= 1
        a, b = stack_i[n], stack_j[n]
        if _dist(lat[i], lon[j], lat[a], lon[b]) > edge:
            closed = False
        if value:
            out[a, b] = value
        for da in (-1, 0, 1):
            for db in (-1, 0, 1):
                c, d = a + da, (b + db) % nx
                if 0 <= c < ny and not seen[c, d] and p[c, d] < level:
                    if _dist(lat[i], lon[j], lat[c], lon[d]) <= radius:
                        seen[c, d] = True
                        stack_i[n], stack_j[n] = c, d
                        n += 1
    return closed


@njit(cache=True)
def _ring_mean(f, i, j, lat, lon, dlat, dlon, r0, r1):
    """Mean of f over the annulus r0 < distance <= r1 deg around (i, j)."""
    ny, nx = f.shape
    di, dj = _window(i, lat, dlat, dlon, r1, nx)
    s, n = 0.0, 0
    for a in range(max(0, i - di), min(ny, i + di + 1)):
        for b in range(j - dj, j + dj + 1):
            bb = b % nx
            d = _dist(lat[i], lon[j], lat[a], lon[bb])
            if r0 < d <= r1:
                s += f[a, bb]
                n += 1
    return s / max(n, 1)


@njit(cache=True)
def _near_max(f, i, j, lat, lon, dlat, dlon, radius, sign):
    ny, nx = f.shape
    di, dj = _window(i, lat, dlat, dlon, radius, nx)
    best = -np.inf
    for a in range(max(0, i - di), min(ny, i + di + 1)):
        for b in range(j - dj, j + dj + 1):
            bb = b % nx
            if _dist(lat[i], lon[j], lat[a], lon[bb]) <= radius:
                best = max(best, sign * f[a, bb])
    return best


@njit(cache=True)
def _cyclones(psl, vort, warm, lat, lon, pr):
    """Cyclone centres (rows, cols) passing every criterion, strongest first, merged within radius;
    ``pr`` = (radius, min_radius, closed_pa, vorticity, warm_k, tc_lat, dlat, dlon)."""
    radius, rmin, closed_pa, vmin, warm_k, tc_lat, dlat, dlon = pr
    ny, nx = psl.shape
    cand_i, cand_j, cand_p = [], [], []
    for i in range(ny):
        if abs(lat[i]) > tc_lat:
            continue
        for j in range(nx):
            if _is_minimum(psl, i, j, lat, lon, dlat, dlon, rmin):
                cand_i.append(i)
                cand_j.append(j)
                cand_p.append(psl[i, j])
    order = np.argsort(np.array(cand_p)) if cand_p else np.zeros(0, np.int64)
    keep_i, keep_j = [], []
    dummy = np.zeros((1, 1), np.uint8)
    for k in order:
        i, j = cand_i[k], cand_j[k]
        near = False
        for m in range(len(keep_i)):
            if _dist(lat[i], lon[j], lat[keep_i[m]], lon[keep_j[m]]) < radius:
                near = True
        if near:
            continue
        sign = 1.0 if lat[i] >= 0 else -1.0
        if _near_max(vort, i, j, lat, lon, dlat, dlon, rmin, sign) < vmin:
            continue
        core = _near_max(warm, i, j, lat, lon, dlat, dlon, rmin, 1.0)
        if core - _ring_mean(warm, i, j, lat, lon, dlat, dlon, radius - 1.0, radius) < warm_k:
            continue
        if not _fill(psl, i, j, psl[i, j] + closed_pa, lat, lon, dlat, dlon, radius, dummy, 0):
            continue
        keep_i.append(i)
        keep_j.append(j)
    return np.array(keep_i, np.int64), np.array(keep_j, np.int64)


@njit(cache=True)
def _components(mask):
    """Labels int32[ny, nx] of 8-connected regions of ``mask`` (longitude periodic), 1..n; and n."""
    ny, nx = mask.shape
    lab = np.zeros((ny, nx), np.int32)
    stack_i, stack_j = np.empty(ny * nx, np.int64), np.empty(ny * nx, np.int64)
    n = 0
    for i0 in range(ny):
        for j0 in range(nx):
            if not mask[i0, j0] or lab[i0, j0]:
                continue
            n += 1
            top = 1
            stack_i[0], stack_j[0], lab[i0, j0] = i0, j0, n
            while top:
                top -= 1
                a, b = stack_i[top], stack_j[top]
                for da in (-1, 0, 1):
                    for db in (-1, 0, 1):
                        c, d = a + da, (b + db) % nx
                        if 0 <= c < ny and mask[c, d] and not lab[c, d]:
                            lab[c, d] = n
                            stack_i[top], stack_j[top] = c, d
                            top += 1
    return lab, n


@njit(cache=True)
def _extent(lab, k, lat, lon, dlat, dlon):
    """(length deg: the largest distance between two pixels of region k, area deg^2 of great circle,
    area-weighted centroid latitude)."""
    ii, jj = np.nonzero(lab == k)
    # farthest pair through two sweeps from an extreme point (exact for convex-ish regions, close otherwise)
    a = 0
    for _ in range(2):
        best, far = -1.0, a
        for m in range(len(ii)):
            d = _dist(lat[ii[a]], lon[jj[a]], lat[ii[m]], lon[jj[m]])
            if d > best:
                best, far = d, m
        a = far
    area, clat = 0.0, 0.0
    for m in range(len(ii)):
        w = dlat * dlon * np.cos(np.radians(lat[ii[m]]))
        area += w
        clat += w * lat[ii[m]]
    return best, area, clat / max(area, 1e-12)


def detect_step(f: dict[str, np.ndarray], grid: Grid, p: DetectParams) -> tuple[np.ndarray, list[dict], list[dict]]:
    """One time step: (LABELS uint8[nlat, nlon], cyclones [{"lat", "lon", "psl"}], rivers [{"length_km",
    "area_km2", "lat"}]). ``f``: PSL, U850, V850, T200, T500 (or Z200 and Z1000), TMQ (or IVT) as
    float[nlat, nlon]."""
    lat, lon = np.ascontiguousarray(grid.lat, np.float64), np.ascontiguousarray(grid.lon, np.float64)
    psl = np.ascontiguousarray(f["PSL"], np.float64)
    vort = vorticity(f["U850"], f["V850"], grid).astype(np.float64)
    warm = 0.5 * (f["T200"] + f["T500"]) if "T200" in f else (f["Z200"] - f["Z1000"]) / 47.1  # K of layer mean
    pr = (p.radius, p.min_radius, p.closed_pa, p.vorticity, p.warm_k, p.tc_lat, grid.dlat, grid.dlon)
    ci, cj = _cyclones(psl, vort, np.ascontiguousarray(warm, np.float64), lat, lon, pr)
    labels = np.zeros(grid.shape, np.uint8)
    tcs = []
    for i, j in zip(ci, cj):
        ring = _ring_mean(psl, i, j, lat, lon, grid.dlat, grid.dlon, p.radius - 1.0, p.radius)
        level = psl[i, j] + 0.75 * (ring - psl[i, j])
        _fill(psl, i, j, level, lat, lon, grid.dlat, grid.dlon, p.radius, labels, 1)
        tcs.append({"lat": float(lat[i]), "lon": float(lon[j]), "psl": float(psl[i, j])})
    ivt = f["IVT"] if "IVT" in f else f["TMQ"] * np.hypot(f["U850"], f["V850"])
    lab, n = _components(np.ascontiguousarray(ivt >= (p.ivt if "IVT" in f else p.proxy)))
    ars = []
    for k in range(1, n + 1):
        length, area, clat = _extent(lab, k, lat, lon, grid.dlat, grid.dlon)
        length_km, area_km2 = length * DEG_M / 1e3, area * (DEG_M / 1e3) ** 2
        if length_km >= p.length_km and length_km**2 >= 2 * area_km2 and abs(clat) >= p.tropics:
            labels[(lab == k) & (labels == 0)] = 2
            ars.append({"length_km": float(length_km), "area_km2": float(area_km2), "lat": float(clat)})
    return labels, tcs, ars
