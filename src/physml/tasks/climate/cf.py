"""CF-convention datasets of CAM5 variables: building them (the simulator, the detector's labels),
encoding them as NetCDF bytes, and the names, units and long names ClimateNet uses."""

from __future__ import annotations

import numpy as np

#: CAM5 / ClimateNet variables: (units, long name)
VARIABLES: dict[str, tuple[str, str]] = {
    "TMQ": ("kg m-2", "total (vertically integrated) precipitable water"),
    "U850": ("m s-1", "zonal wind at 850 mbar"),
    "V850": ("m s-1", "meridional wind at 850 mbar"),
    "UBOT": ("m s-1", "lowest model level zonal wind"),
    "VBOT": ("m s-1", "lowest model level meridional wind"),
    "QREFHT": ("kg kg-1", "reference height humidity"),
    "PS": ("Pa", "surface pressure"),
    "PSL": ("Pa", "sea level pressure"),
    "T200": ("K", "temperature at 200 mbar"),
    "T500": ("K", "temperature at 500 mbar"),
    "PRECT": ("m s-1", "total (convective and large-scale) precipitation rate"),
    "TS": ("K", "surface temperature (radiative)"),
    "TREFHT": ("K", "reference height temperature"),
    "Z1000": ("m", "geopotential Z at 1000 mbar"),
    "Z200": ("m", "geopotential Z at 200 mbar"),
    "ZBOT": ("m", "lowest model level height"),
}
CHANNELS = tuple(VARIABLES)  #: ClimateNet's 16, in its order
CLASSES = ("background", "TC", "AR")  #: LABELS values 0, 1, 2
TIME_UNITS = "days since 2000-01-01 00:00:00"
CALENDAR = "noleap"  #: CAM5's


def cf_dataset(
    fields: dict[str, np.ndarray],
    lat: np.ndarray,
    lon: np.ndarray,
    days: np.ndarray,
    extra: dict | None = None,
    attrs: dict | None = None,
):
    """An xarray Dataset of ``fields`` float32[time, lat, lon] with CF coordinates (degrees_north,
    degrees_east, time in ``TIME_UNITS`` on the noleap calendar) and CAM5 units; ``extra``: more
    variables as (dims, array, attrs)."""
    import xarray as xr

    data = {
        k: (("time", "lat", "lon"), v, {"units": VARIABLES[k][0], "long_name": VARIABLES[k][1]})
        for k, v in fields.items()
    }
    for k, (dims, arr, a) in (extra or {}).items():
        data[k] = (dims, arr, a)
    coords = {
        "time": (
            "time",
            np.asarray(days, np.float64),
            {"units": TIME_UNITS, "calendar": CALENDAR, "standard_name": "time"},
        ),
        "lat": ("lat", np.asarray(lat, np.float64), {"units": "degrees_north", "standard_name": "latitude"}),
        "lon": ("lon", np.asarray(lon, np.float64), {"units": "degrees_east", "standard_name": "longitude"}),
    }
    ds = xr.Dataset(data, coords=coords, attrs={"Conventions": "CF-1.8", **(attrs or {})})
    for k in ds.data_vars:  # xarray would otherwise encode the time axis itself
        ds[k].encoding = {}
    return ds


def labels_variable(labels: np.ndarray, note: str) -> tuple:
    """LABELS(time, lat, lon) uint8 as ClimateNet writes it: 0 background, 1 TC, 2 AR."""
    attrs = {"long_name": "class of each pixel", "flag_values": np.array([0, 1, 2], np.uint8),
             "flag_meanings": "background tropical_cyclone atmospheric_river", "comment": note}  # fmt: skip
    return ("time", "lat", "lon"), labels.astype(np.uint8), attrs


def netcdf_bytes(ds) -> bytes:
    """The NetCDF4 (HDF5) bytes of ``ds``, chunked one time step per chunk."""
    enc = {
        k: {"chunksizes": (1, *ds[k].shape[1:])}
        for k in ds.data_vars
        if ds[k].dims[:1] == ("time",) and ds[k].ndim == 3
    }
    return bytes(ds.to_netcdf(engine="h5netcdf", encoding=enc))
