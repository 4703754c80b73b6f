"""Row-level train / validation / test splits shared by the image tasks."""
from __future__ import annotations

import zlib

import numpy as np


def split_of(ids, holdout: int) -> np.ndarray:
    """0 = validation, 1 = test, 2 = training, from a stable hash of the row id: crc32(id) % holdout
    is 0 for validation and 1 for test, so each holds about 1 / holdout of the rows."""
    k = np.array([zlib.crc32(str(i).encode()) % holdout for i in ids], dtype=np.int64)
    return np.where(k == 0, 0, np.where(k == 1, 1, 2))
