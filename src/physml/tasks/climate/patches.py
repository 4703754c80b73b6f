"""Patches for event classification (Liu et al. 2016, "Application of deep convolutional neural
networks for detecting extreme weather in climate datasets"): a square window centred on each labelled
event (its region's centroid) and as many background windows with no pixel of that event, drawn in
the same latitude band so latitude alone does not tell them apart."""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa

from .detect import _components

EVENTS = {"tc": (1, (0.0, 40.0)), "ar": (2, (20.0, 65.0))}  #: label value, |latitude| band of centres


def window(x: np.ndarray, i: int, j: int, size: int) -> np.ndarray:
    """x[..., nlat, nlon] cut to size x size around (i, j), longitude wrapped; rows must fit."""
    h = size // 2
    cols = np.arange(j - h, j - h + size) % x.shape[-1]
    return np.take(x[..., i - h : i - h + size, :], cols, axis=-1)


def centres(mask: np.ndarray) -> list[tuple[int, int]]:
    """(row, col) of each 8-connected region's centroid (circular mean in longitude)."""
    lab, n = _components(np.ascontiguousarray(mask))
    out = []
    for k in range(1, n + 1):
        ii, jj = np.nonzero(lab == k)
        ang = 2 * np.pi * jj / mask.shape[1]
        j = int(round(np.angle(np.mean(np.exp(1j * ang))) / (2 * np.pi) * mask.shape[1])) % mask.shape[1]
        out.append((int(round(ii.mean())), j))
    return out


def patch_table(x: np.ndarray, labels: np.ndarray | None, grid, piece: dict, spec: tuple, channels) -> pa.Table:
    """Rows ``id``, ``x`` (float32[C * size * size]) and ``y`` (1 event, 0 background) of one piece's
    time steps; ``spec`` = (event "tc" or "ar", size)."""
    if labels is None:
        raise ValueError(f"{piece['file']}: no LABELS to cut event patches from (run `physml detect climate` first)")
    event, size = spec
    value, (lo, hi) = EVENTS[event]
    lat = grid[0]
    h = size // 2
    ok_rows = np.nonzero((np.abs(lat) >= lo) & (np.abs(lat) <= hi))[0]
    ok_rows = ok_rows[(ok_rows >= h) & (ok_rows + size - h <= len(lat))]
    rng = np.random.default_rng(zlib.crc32(piece["path"].encode()))
    ids, xs, ys = [], [], []
    for t in range(x.shape[0]):
        mask = labels[t] == value
        found = [(i, j) for i, j in centres(mask) if i in set(ok_rows)]
        for k, (i, j) in enumerate(found):
            ids.append(f"{piece['path']}-{t}-e{k}"), xs.append(window(x[t], i, j, size)), ys.append(1)
        tries, k = 0, 0
        while k < max(len(found), 1) and tries < 200 and len(ok_rows):
            i, j = int(rng.choice(ok_rows)), int(rng.integers(mask.shape[1]))
            tries += 1
            if not window(mask, i, j, size).any():
                ids.append(f"{piece['path']}-{t}-b{k}"), xs.append(window(x[t], i, j, size)), ys.append(0)
                k += 1
    arr = np.stack(xs).astype(np.float32) if xs else np.zeros((0, len(channels), size, size), np.float32)
    flat = pa.FixedSizeListArray.from_arrays(pa.array(arr.reshape(-1)), len(channels) * size * size)
    return pa.table({"id": ids, "x": flat, "y": pa.array(ys, pa.int8())})
