"""Row-level train / validation / test splits shared by the image tasks."""

from __future__ import annotations

import zlib

import numpy as np


def split_of(ids, holdout: int) -> np.ndarray:
    """0 = validation, 1 = test, 2 = training, from a stable hash of the row id: crc32(id) % holdout
    is 0 for validation and 1 for test, so each holds about 1 / holdout of the rows."""
    k = np.array([zlib.crc32(str(i).encode()) % holdout for i in ids], dtype=np.int64)
    return np.where(k == 0, 0, np.where(k == 1, 1, 2))


def rows_of(ids, split: int | None, holdout: int) -> np.ndarray:
    """bool[n]: the rows of ``split`` (see :func:`split_of`); all rows when ``split`` is None."""
    return np.ones(len(ids), bool) if split is None else split_of(ids, holdout) == split


def stack_images(column, keep: np.ndarray, dtype=np.float32, shape: tuple[int, int] | None = None) -> np.ndarray:
    """dtype[n, *shape] from the ``keep`` rows of a fixed-size list column (an object array of flat
    arrays, as Arrow gives it); ``shape`` None: square S x S. [0, *shape] ([0, 0, 0]) when no row is kept."""
    n = int(keep.sum())
    if not n:
        return np.zeros((0, *(shape or (0, 0))), dtype)
    flat = np.stack(column[keep]).astype(dtype, copy=False)
    if shape is None:
        side = int(round(np.sqrt(flat.shape[1])))
        shape = (side, side)
    return flat.reshape(n, *shape)
