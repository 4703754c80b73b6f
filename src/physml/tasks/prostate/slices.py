"""Cases -> rows of a ``kind = "prostate"`` dataset: in-plane resampling, centre crop, one row per slice
(2D) or per slab of ``depth`` consecutive slices (3D patches).

Row schema (image tasks, the docs' Concepts page): ``image`` fixed_size_list<float32>[D*H*W] and
``label`` fixed_size_list<uint8>[D*H*W] (row-major, shape [D, H, W] in the schema metadata; D = 1 for
slices), plus per row the case id, site, first slice index, the case's slice count, D, spacing
(x, y, z) after resampling in mm, the case's intensity range (min, max, 99.5th percentile, for
per-volume normalization) and the row's foreground voxels. Slabs tile the case from slice 0; the last
is padded with the case's minimum and label 0. Rows of a case share its id, so splits are by case.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
from scipy.ndimage import zoom

from .volumes import Case


def schema(size: int, depth: int = 1) -> pa.Schema:
    n = depth * size * size
    fields = [
        ("case", pa.string()),
        ("site", pa.string()),
        ("slice", pa.int32()),
        ("slices", pa.int32()),
        ("depth", pa.int32()),
        ("spacing_x", pa.float64()),
        ("spacing_y", pa.float64()),
        ("spacing_z", pa.float64()),
        ("vmin", pa.float32()),
        ("vmax", pa.float32()),
        ("vp995", pa.float32()),
        ("labelled", pa.bool_()),
        ("foreground", pa.int32()),
        ("image", pa.list_(pa.float32(), n)),
        ("label", pa.list_(pa.uint8(), n)),
    ]
    return pa.schema(fields, metadata={"image_shape": json.dumps([depth, size, size] if depth > 1 else [size, size])})


def resample_inplane(volume: np.ndarray, spacing: tuple, target: float, order: int) -> np.ndarray:
    """``volume[z, y, x]`` resampled to pixel size ``target`` mm in y and x (slices unchanged)."""
    fy, fx = spacing[1] / target, spacing[0] / target
    return zoom(volume, (1.0, fy, fx), order=order, mode="nearest", grid_mode=True)


def centre_crop(volume: np.ndarray, size: int, fill: float = 0.0) -> np.ndarray:
    """The central ``size`` x ``size`` pixels of each slice, padded with ``fill`` where too small."""
    nz, ny, nx = volume.shape
    out = np.full((nz, size, size), fill, dtype=volume.dtype)
    oy, ox = (ny - size) // 2, (nx - size) // 2
    sy, sx = max(oy, 0), max(ox, 0)
    dy, dx = max(-oy, 0), max(-ox, 0)
    h, w = min(size, ny), min(size, nx)
    out[:, dy : dy + h, dx : dx + w] = volume[:, sy : sy + h, sx : sx + w]
    return out


def to_grid(case: Case, size: int, spacing: float) -> tuple[np.ndarray, np.ndarray | None]:
    """(image float32[z, size, size], mask uint8 or None) on the common in-plane grid."""
    image = centre_crop(resample_inplane(case.image, case.spacing, spacing, order=1), size, float(case.image.min()))
    mask = None
    if case.mask is not None:
        soft = resample_inplane(case.mask.astype(np.float32), case.spacing, spacing, order=1)
        mask = (centre_crop(soft, size) >= 0.5).astype(np.uint8)
    return image.astype(np.float32), mask


def slabs(volume: np.ndarray, depth: int, fill: float) -> np.ndarray:
    """``volume[z, y, x]`` -> [ceil(z / depth), depth, y, x], the last slab padded with ``fill``."""
    nz = volume.shape[0]
    n = -(-nz // depth)
    out = np.full((n * depth,) + volume.shape[1:], fill, dtype=volume.dtype)
    out[:nz] = volume
    return out.reshape((n, depth) + volume.shape[1:])


def case_rows(case: Case, site: str, size: int, spacing: float, depth: int = 0) -> pa.Table:
    """Rows of ``case`` resampled to ``spacing`` mm and cropped to ``size`` pixels: one per slice
    (``depth`` = 0) or one per slab of ``depth`` slices."""
    image, mask = to_grid(case, size, spacing)
    nz, d = image.shape[0], max(depth, 1)
    labelled = mask is not None
    mask = mask if labelled else np.zeros_like(image, dtype=np.uint8)
    img, lab = slabs(image, d, float(image.min())), slabs(mask, d, 0)
    n = len(img)
    full = lambda v, t: pa.array(np.full(n, v), type=t)
    flat = lambda a, t: pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1), type=t), d * size * size)
    cols = [
        pa.array([case.case_id] * n),
        pa.array([site] * n),
        pa.array(np.arange(n, dtype=np.int32) * d),
        full(nz, pa.int32()),
        full(d, pa.int32()),
        full(spacing, pa.float64()),
        full(spacing, pa.float64()),
        full(case.spacing[2], pa.float64()),
        full(image.min(), pa.float32()),
        full(image.max(), pa.float32()),
        full(np.percentile(image, 99.5), pa.float32()),
        full(labelled, pa.bool_()),
        pa.array(lab.reshape(n, -1).sum(axis=1).astype(np.int32)),
        flat(img, pa.float32()),
        flat(lab, pa.uint8()),
    ]
    return pa.Table.from_arrays(cols, schema=schema(size, d))
