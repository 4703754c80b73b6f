"""One Zarr (v3) store as the output of `physml simulate climate` and `physml detect climate` when
``--out`` ends in ``.zarr``: each piece of time steps is written into its region of arrays created at
the first write (chunked one time step per chunk), by the driver, the single writer; the platform's
manifest beside the arrays records the regions written, so a killed run resumes. Any zarr reader
(xarray's ``open_zarr``) opens it as one CF dataset."""

from __future__ import annotations

import numpy as np


def is_zarr(out: str) -> bool:
    return str(out).rstrip("/").endswith(".zarr")


def _plain(value):
    """Attribute values as JSON (numpy arrays and scalars to lists and numbers)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _times(ds, units: str, calendar: str) -> np.ndarray:
    """``ds``'s raw time values re-expressed in ``units`` (a piece may come from a file with other units)."""
    t = ds["time"]
    if t.attrs.get("units") == units and t.attrs.get("calendar", "standard") == calendar:
        return np.asarray(t.values, np.float64)
    import cftime

    dates = cftime.num2date(t.values, t.attrs["units"], t.attrs.get("calendar", "standard"))
    return np.asarray(cftime.date2num(dates, units, calendar), np.float64)


def write_region(out: str, ds, start: int, total: int) -> None:
    """Write ``ds`` (undecoded CF: raw time numbers with their units) as time steps start .. start + n of
    a store holding ``total`` steps; variables without a time axis (lat, lon) are written whole."""
    import zarr

    group = zarr.open_group(str(out), mode="a", zarr_format=3)
    n = ds.sizes["time"]
    for name, var in ds.variables.items():
        timed = bool(var.dims) and var.dims[0] == "time"
        if name not in group:
            shape = (total, *var.shape[1:]) if timed else var.shape
            chunks = (1, *var.shape[1:]) if timed else var.shape
            fill = np.nan if var.dtype.kind == "f" else 0
            attrs = {k: _plain(v) for k, v in var.attrs.items() if not k.startswith("_")}
            group.create_array(name, shape=shape, chunks=chunks, dtype=var.dtype, fill_value=fill,
                               dimension_names=var.dims, attributes=attrs)  # fmt: skip
        arr = group[name]
        if name == "time":
            arr[start : start + n] = _times(ds, arr.attrs["units"], arr.attrs.get("calendar", "standard"))
        elif timed:
            arr[start : start + n] = np.asarray(var.values)
        else:
            arr[...] = np.asarray(var.values)
    group.attrs.update({k: _plain(v) for k, v in ds.attrs.items()})
