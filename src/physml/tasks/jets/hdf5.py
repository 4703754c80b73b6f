"""The top-tagging reference data (Kasieczka et al., SciPost Phys. 7, 014 (2019)) read with h5py in
row ranges: a pandas DataFrame stored by ``DataFrame.to_hdf`` under key ``table``, in pandas' fixed
layout (``block<i>_items`` / ``block<i>_values``) or its table layout (a PyTables table whose
``values_block_<i>`` columns are named in ``values_block_<i>_kind``). Columns ``E_i``, ``PX_i``,
``PY_i``, ``PZ_i`` (GeV) for constituents i = 0..N-1 ordered by pT, zero-padded, and
``is_signal_new`` (1 top, 0 QCD)."""

from __future__ import annotations

import re

import h5py
import numpy as np

LABEL = "is_signal_new"
COMPONENTS = ("PX", "PY", "PZ", "E")  # the four-vector's order in physml (px, py, pz, E)


def _names(raw: np.ndarray) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in raw]


def _pickled_names(blob: bytes) -> list[str]:
    """The column names in a pandas table layout's ``values_block_<i>_kind``: a protocol-0 pickle of
    a list of str, read without unpickling (names only, no code runs)."""
    return [m.decode("raw_unicode_escape") for m in re.findall(rb"[\n(a]V([^\n]*)\n", bytes(blob))]


class PandasFrame:
    """A DataFrame written by pandas under ``key`` in an open h5py file, read row range by row range."""

    def __init__(self, f: h5py.File, key: str, name: str):
        if key not in f:
            raise ValueError(f"{name}: no pandas key {key!r} (found {', '.join(f.keys()) or 'nothing'})")
        g = f[key]
        kind = g.attrs.get("pandas_type", b"").decode() if isinstance(g, h5py.Group) else ""
        self.name, self.where = name, {}  # column -> (dataset, field or None, position)
        if kind == "frame":
            for i in range(int(g.attrs["nblocks"])):
                values = g[f"block{i}_values"]
                for j, col in enumerate(_names(g[f"block{i}_items"][()])):
                    self.where[col] = (values, None, j)
            self.rows = int(g["axis1"].shape[0])
        elif kind == "frame_table":
            table = g["table"]
            for fld in table.dtype.names:
                if fld.startswith("values_block_"):
                    for j, col in enumerate(_pickled_names(table.attrs[f"{fld}_kind"])):
                        self.where[col] = (table, fld, j)
                elif fld != "index":  # a data column (to_hdf(..., data_columns=...)) is a field of its own
                    self.where[fld] = (table, fld, 0)
            self.rows = int(table.shape[0])
        else:
            raise ValueError(f"{name}: key {key!r} is not a pandas DataFrame (pandas_type {kind or 'missing'})")

    def read(self, columns: list[str], start: int, stop: int) -> dict[str, np.ndarray]:
        """{column: float[stop - start]}; each dataset is read once for all its columns."""
        missing = [c for c in columns if c not in self.where]
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise ValueError(f"{self.name}: missing column(s) {', '.join(missing[:3])}{more}")
        cache: dict = {}
        out = {}
        for c in columns:
            ds, fld, j = self.where[c]
            if id(ds) not in cache:
                cache[id(ds)] = ds[start:stop]
            block = cache[id(ds)] if fld is None else cache[id(ds)][fld]
            out[c] = np.asarray(block[:, j] if block.ndim == 2 else block)
        return out


def constituents_in(frame: PandasFrame) -> int:
    """N: the constituents per jet the file holds (its ``E_i`` columns)."""
    n = 0
    while f"E_{n}" in frame.where:
        n += 1
    if not n:
        raise ValueError(f"{frame.name}: no constituent columns E_0, PX_0, PY_0, PZ_0 (not a top-tagging file)")
    return n


def four_vectors(frame: PandasFrame, start: int, stop: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(float[rows, n, 4] (px, py, pz, E) GeV, labels int8[rows]) of rows [start, stop); ValueError
    naming the first row and column that holds NaN or inf."""
    cols = [f"{c}_{i}" for i in range(n) for c in COMPONENTS]
    got = frame.read([*cols, LABEL], start, stop)
    p4 = np.stack([got[c] for c in cols], 1).astype(np.float64).reshape(stop - start, n, 4)
    bad = ~np.isfinite(p4)
    if bad.any():
        r, i, k = (int(v[0]) for v in np.nonzero(bad))
        count = int(bad.any(2).sum())
        raise ValueError(
            f"{frame.name}: row {start + r}: {COMPONENTS[k]}_{i} = {p4[r, i, k]} ({count} constituent(s) with "
            f"non-finite four-vectors in rows {start}-{stop - 1}); clean or drop those rows"
        )
    return p4, np.asarray(got[LABEL]).astype(np.int8)
