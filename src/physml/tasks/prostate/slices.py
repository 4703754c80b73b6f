"""Cases -> rows of a ``kind = "prostate"`` dataset: in-plane resampling, centre crop, one row per slice.

Row schema (design.md section 4, image tasks): ``image`` fixed_size_list<float32>[H*W] and ``label``
fixed_size_list<uint8>[H*W] (row-major, shape in the schema metadata), plus per row the case id,
site, slice index, slice count, spacing (x, y, z) after resampling in mm, the case's intensity range
(min, max and the 99.5th percentile, for per-volume normalization) and the slice's foreground pixels.
Rows of one case share its id, so every split is by case, never by slice.
"""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
from scipy.ndimage import zoom

from .volumes import Case


def schema(size: int) -> pa.Schema:
    fields = [("case", pa.string()), ("site", pa.string()), ("slice", pa.int32()), ("slices", pa.int32()),
              ("spacing_x", pa.float64()), ("spacing_y", pa.float64()), ("spacing_z", pa.float64()),
              ("vmin", pa.float32()), ("vmax", pa.float32()), ("vp995", pa.float32()),
              ("labelled", pa.bool_()), ("foreground", pa.int32()),
              ("image", pa.list_(pa.float32(), size * size)), ("label", pa.list_(pa.uint8(), size * size))]
    return pa.schema(fields, metadata={"image_shape": json.dumps([size, size])})


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
    out[:, dy:dy + h, dx:dx + w] = volume[:, sy:sy + h, sx:sx + w]
    return out


def to_grid(case: Case, size: int, spacing: float) -> tuple[np.ndarray, np.ndarray | None]:
    """(image float32[z, size, size], mask uint8 or None) on the common in-plane grid."""
    image = centre_crop(resample_inplane(case.image, case.spacing, spacing, order=1), size,
                        float(case.image.min()))
    mask = None
    if case.mask is not None:
        soft = resample_inplane(case.mask.astype(np.float32), case.spacing, spacing, order=1)
        mask = (centre_crop(soft, size) >= 0.5).astype(np.uint8)
    return image.astype(np.float32), mask


def case_rows(case: Case, site: str, size: int, spacing: float) -> pa.Table:
    """One row per slice of ``case`` resampled to ``spacing`` mm and cropped to ``size`` pixels."""
    image, mask = to_grid(case, size, spacing)
    nz = image.shape[0]
    labelled = mask is not None
    mask = mask if labelled else np.zeros_like(image, dtype=np.uint8)
    full = lambda v, t: pa.array(np.full(nz, v), type=t)  # noqa: E731
    flat = lambda a, t: pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1), type=t), size * size)  # noqa: E731
    cols = [pa.array([case.case_id] * nz), pa.array([site] * nz), pa.array(np.arange(nz, dtype=np.int32)),
            full(nz, pa.int32()), full(spacing, pa.float64()), full(spacing, pa.float64()),
            full(case.spacing[2], pa.float64()), full(image.min(), pa.float32()), full(image.max(), pa.float32()),
            full(np.percentile(image, 99.5), pa.float32()), full(labelled, pa.bool_()),
            pa.array(mask.reshape(nz, -1).sum(axis=1).astype(np.int32)),
            flat(image, pa.float32()), flat(mask, pa.uint8())]
    return pa.Table.from_arrays(cols, schema=schema(size))
