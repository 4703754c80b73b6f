"""CF NetCDF and Zarr archives on any fsspec filesystem: listing them (a file, a directory, a glob, a
Zarr store, a physml climate dataset), opening one lazily with xarray, and the checks a run makes
before it starts (variables, dimensions, grids, time axis), each a one-line error naming the file."""

from __future__ import annotations

import contextlib
import warnings

import fsspec
import numpy as np

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".h5", ".hdf5")
LAT_NAMES, LON_NAMES = ("lat", "latitude"), ("lon", "longitude")


def _is_zarr(fs, path: str) -> bool:
    return path.rstrip("/").endswith(".zarr") or any(fs.exists(f"{path}/{m}") for m in (".zgroup", "zarr.json"))


def absolute(uri: str) -> str:
    """A local path made absolute (Ray workers run in other directories); URIs unchanged."""
    if not uri or "://" in uri:
        return uri
    import os

    return os.path.abspath(os.path.expanduser(uri))


def list_sources(uri: str) -> list[str]:
    """The NetCDF files and Zarr stores ``uri`` names (a file, store, directory or glob), as URIs
    with the filesystem's protocol, sorted; ValueError when there are none."""
    fs, path = fsspec.core.url_to_fs(str(uri))
    fs.invalidate_cache()
    proto = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

    def full(p: str) -> str:
        return p if proto in ("file", "local") else f"{proto}://{p.lstrip('/') if proto != 'memory' else p}"

    if any(ch in path for ch in "*?["):
        found = sorted(fs.glob(path))
    elif fs.isdir(path) and not _is_zarr(fs, path):
        found = sorted(p for p in fs.ls(path, detail=False) if p.endswith(NETCDF_SUFFIXES) or p.endswith(".zarr"))
    elif fs.exists(path):
        found = [path]
    else:
        raise ValueError(f"{uri}: no such file, directory or store")
    if not found:
        raise ValueError(f"{uri}: no NetCDF ({', '.join(NETCDF_SUFFIXES)}) or Zarr (.zarr) data found")
    return [full(p) for p in found]


@contextlib.contextmanager
def open_fields(src: str, decode_times: bool = True):
    """An xarray Dataset of one NetCDF file or Zarr store, lazily (only what is indexed is read); a
    file that cannot be opened is a ValueError naming it."""
    import xarray as xr

    fs, path = fsspec.core.url_to_fs(src)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if _is_zarr(fs, path):
                ds = xr.open_zarr(fs.get_mapper(path), decode_times=decode_times, chunks=None)
                f = None
            else:
                f = fs.open(path, "rb")
                engine = "scipy" if f.read(3) == b"CDF" else "h5netcdf"
                f.seek(0)
                ds = xr.open_dataset(f, engine=engine, decode_times=decode_times, cache=False)
    except ValueError as err:
        if "decode" in str(err) and "time" in str(err):
            raise ValueError(
                f"{src}: undecodable time axis ({str(err).splitlines()[0]}); CF needs 'units: <unit> since <date>'"
            ) from None
        raise ValueError(f"{src}: unreadable ({str(err).splitlines()[0]}); truncated, or not NetCDF/Zarr?") from None
    except Exception as err:  # h5py, zarr and scipy raise their own kinds for a truncated or foreign file
        raise ValueError(
            f"{src}: unreadable ({type(err).__name__}: {(str(err).splitlines() or [''])[0]}); "
            "truncated, or not NetCDF/Zarr?"
        ) from None
    try:
        yield ds
    finally:
        ds.close()
        if f is not None:
            f.close()


def axis_name(ds, names: tuple[str, ...], src: str, what: str) -> str:
    for n in names:
        if n in ds.dims:
            return n
    raise ValueError(
        f"{src}: no {what} dimension (looked for {', '.join(names)}; found {', '.join(map(str, ds.dims))})"
    )


def check_structure(ds, src: str, variables: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    """(lat, lon, time steps) of an open dataset holding ``variables`` as (time, lat, lon); ValueError
    naming the file and the variable otherwise (a missing variable, other dimensions, a time axis that
    is not CF-decodable, a grid that is not regular)."""
    lat_n, lon_n = axis_name(ds, LAT_NAMES, src, "latitude"), axis_name(ds, LON_NAMES, src, "longitude")
    if "time" not in ds.dims:
        raise ValueError(f"{src}: no time dimension (found {', '.join(map(str, ds.dims))})")
    t = ds["time"]
    if t.dtype.kind in "fiu" and "since" not in str(t.attrs.get("units", "")):
        raise ValueError(
            f"{src}: time axis is not CF (units {t.attrs.get('units', 'missing')!r}; need '<unit> since <date>')"
        )
    for v in variables:
        if v not in ds.variables:
            have = ", ".join(sorted(map(str, ds.data_vars))[:20])
            raise ValueError(f"{src}: no variable {v!r} (has {have})")
        if ds[v].dims != ("time", lat_n, lon_n):
            raise ValueError(f"{src}: {v} has dimensions {ds[v].dims}, expected (time, {lat_n}, {lon_n})")
    lat, lon = ds[lat_n].values.astype(np.float64), ds[lon_n].values.astype(np.float64)
    for name, ax in (("latitude", lat), ("longitude", lon)):
        d = np.diff(ax)
        if len(ax) < 2 or not np.allclose(d, d[0], rtol=1e-3, atol=1e-6):
            raise ValueError(f"{src}: {name} is not a regular grid (spacings {d.min():.4g} to {d.max():.4g} deg)")
    return lat, lon, int(ds.sizes["time"])


def time_values(ds) -> list[str]:
    """The time axis as ISO strings (any calendar): how label files are matched to field files."""
    return [str(getattr(v, "isoformat", lambda v=v: str(v))()) for v in ds["time"].values]
