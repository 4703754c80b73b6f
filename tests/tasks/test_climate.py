"""climate without Ray: the simulator's physics, the heuristics on storms with known answers, the
reader on files other tools write (xarray NetCDF, Zarr v2 and v3) and its refusals of bad input."""

import numpy as np
import pytest
import xarray as xr

from physml.tasks.climate import storms
from physml.tasks.climate.background import RHO_AIR, spectral_ar1
from physml.tasks.climate.cf import cf_dataset, labels_variable
from physml.tasks.climate.detect import DetectParams, _components, _dist, detect_step
from physml.tasks.climate.grid import EARTH_RADIUS, OMEGA, Grid, great_circle, vorticity
from physml.tasks.climate.reader import ClimateReader
from physml.tasks.climate.source import ClimateParams, simulate_chunk

GRID = Grid.regular(192, 288)


def quiet_fields(grid: Grid, steps: int = 1) -> dict:
    """A calm, zonally uniform atmosphere: no background weather, so only what is placed is found."""
    lat = grid.lat[:, None] + 0 * grid.lon[None, :]
    shape = (steps, *grid.shape)
    f = {k: np.zeros(shape, np.float32) for k in ("U850", "V850", "PRECT")}
    f["PSL"] = np.full(shape, 101325.0, np.float32)
    f["T500"] = np.broadcast_to(255.0 - 20 * np.sin(np.radians(lat)) ** 2, shape).astype(np.float32).copy()
    f["T200"] = np.full(shape, 218.0, np.float32)
    f["TS"] = np.full(shape, 295.0, np.float32)
    f["TMQ"] = np.broadcast_to(40 * np.exp(-((lat / 30) ** 2)) + 5, shape).astype(np.float32).copy()
    return f


def test_great_circle_and_solid_body_vorticity():
    assert great_circle(0.0, 0.0, 0.0, 1.0) == pytest.approx(np.pi / 180 * EARTH_RADIUS, rel=1e-12)
    assert great_circle(0.0, 359.5, 0.0, 0.5) == pytest.approx(np.pi / 180 * EARTH_RADIUS, rel=1e-9)
    # u = U cos(phi) is solid-body rotation: zeta = 2 U sin(phi) / a exactly
    u = 20.0 * np.cos(np.radians(GRID.lat))[:, None] + 0 * GRID.lon[None, :]
    z = vorticity(u, np.zeros_like(u), GRID)
    inner = np.abs(GRID.lat) < 80
    assert np.allclose(
        z[inner], (2 * 20.0 * np.sin(np.radians(GRID.lat)) / EARTH_RADIUS)[inner, None], rtol=2e-3, atol=1e-9
    )


def test_holland_wind_is_in_gradient_balance():
    """V^2 / r + f V = (1 / rho) dp/dr (gradient-wind balance) for the profile's own pressure."""
    c, f = storms.Cyclone(20.0, 0.0, 4000.0, 150e3, 1.5), 2 * OMEGA * np.sin(np.radians(20.0))
    r = np.linspace(30e3, 800e3, 2000)
    dp, v = storms.holland(r, c, f)
    x = (c.rmax / r) ** c.b
    dpdr = c.dp * c.b * x * np.exp(-x) / r  # d/dr of pc + dp exp(-(Rm/r)^B), by hand
    assert np.allclose(v**2 / r + f * v, dpdr / RHO_AIR, rtol=1e-9)
    assert np.allclose(dp, -c.dp * (1 - np.exp(-x)))


@pytest.mark.parametrize("lat", [18.0, -18.0])
def test_a_cyclone_turns_with_its_hemisphere_and_is_found_where_placed(lat):
    f = quiet_fields(GRID)
    c = storms.Cyclone(lat, 140.0, 4000.0, 200e3, 1.5)
    mask = storms.place_cyclone(f, 0, GRID, c)
    z = vorticity(f["U850"][0], f["V850"][0], GRID)
    assert np.sign(z[mask].mean()) == np.sign(lat)  # cyclonic: counter-clockwise in the north
    labels, tcs, ars = detect_step({k: v[0] for k, v in f.items()}, GRID, DetectParams())
    assert len(tcs) == 1 and not ars
    assert _dist(tcs[0]["lat"], tcs[0]["lon"], lat, 140.0) < 1.5  # within a grid step or so
    assert (labels == 1).sum() > 0 and ((labels == 1) & mask).sum() / (labels == 1).sum() > 0.5


def test_an_anticyclone_and_a_cold_low_are_not_tropical_cyclones():
    f, calm = quiet_fields(GRID, 2), quiet_fields(GRID, 2)
    storms.place_cyclone(f, 0, GRID, storms.Cyclone(20.0, 60.0, 3000.0, 200e3, 1.5))
    f = {k: np.where(np.arange(2)[:, None, None] == 0, 2 * calm[k] - v, v) for k, v in f.items()}  # a mirrored high
    storms.place_cyclone(f, 1, GRID, storms.Cyclone(20.0, 60.0, 3000.0, 200e3, 1.5))
    f["T200"][1], f["T500"][1] = 218.0, f["T500"][0]  # the same low without its warm core
    for t in range(2):
        assert detect_step({k: v[t] for k, v in f.items()}, GRID, DetectParams())[1] == []


@pytest.mark.parametrize(
    "lat,length,found",
    [(38.0, 4.0e6, True), (38.0, 1.2e6, False), (-5.0, 4.0e6, False)],
    ids=["river", "short", "tropics"],
)
def test_rivers_need_length_and_the_extratropics(lat, length, found):
    f = quiet_fields(GRID)
    f["U850"][:] = 8.0  # a westerly flow
    rv = storms.River(lat, 200.0, 30.0 if lat > 0 else 5.0, 0.0, length, 250e3, 30.0, 25.0)
    truth = storms.place_river(f, 0, GRID, rv)
    labels, _, ars = detect_step({k: v[0] for k, v in f.items()}, GRID, DetectParams())
    assert bool(ars) == found
    if found:
        assert ars[0]["length_km"] >= 2000 and ((labels == 2) & truth).sum() / ((labels == 2) | truth).sum() > 0.5


def test_regions_join_across_the_dateline():
    mask = np.zeros((10, 36), bool)
    mask[4:6, 34:] = mask[4:6, :2] = True
    assert _components(mask)[1] == 1


def test_spectral_fields_have_unit_variance_and_the_asked_correlation():
    rho, drift = 0.8, 3.0
    x = spectral_ar1(np.random.default_rng(1), (64, 128), 400, 1 / 20, 3.0, rho, drift).astype(np.float64)
    var, se = x.var(), x.var(axis=(1, 2)).std() / np.sqrt(len(x)) * 4  # 4 SE of the per-field variances
    assert abs(x.mean(axis=(1, 2)).mean()) < 0.1 and abs(var - 1) < max(se * 4, 0.1)
    # after moving east by the drift, consecutive fields correlate rho (the AR(1) coefficient)
    r = [np.corrcoef(x[t].ravel(), np.roll(x[t + 1], -int(drift), -1).ravel())[0, 1] for t in range(len(x) - 1)]
    assert abs(np.mean(r) - rho) < 4 * np.std(r) / np.sqrt(len(r)) + 0.02


def test_the_heuristic_finds_nine_in_ten_placed_cyclones():
    """The issue's target: TC recall against the placed truth >= 0.9 (here on 48 time steps, ~140 cyclones:
    one binomial SE at recall 0.9 is 0.025, so 0.9 is tested at its value, not by a loose margin)."""
    placed = matched = found = 0
    p = ClimateParams(steps=48, chunk=8, seed=11)
    for k in range(6):
        fields, tables, truth, grid = simulate_chunk(p, k, 8)
        for t in range(8):
            _, tcs, _ = detect_step({c: v[t] for c, v in fields.items()}, grid, DetectParams())
            centres = [(a, b) for a, b in zip(tables["tc_lat"][t], tables["tc_lon"][t]) if np.isfinite(a)]
            placed, found = placed + len(centres), found + len(tcs)
            matched += sum(any(_dist(a, b, c["lat"], c["lon"]) < 5 for c in tcs) for a, b in centres)
    assert placed > 60 and matched / placed >= 0.9 and matched / found >= 0.8


def test_simulation_is_deterministic_by_seed():
    a = simulate_chunk(ClimateParams(grid="48x96", seed=2), 3, 4)
    b = simulate_chunk(ClimateParams(grid="48x96", seed=2), 3, 4)
    c = simulate_chunk(ClimateParams(grid="48x96", seed=3), 3, 4)
    assert all(np.array_equal(a[0][k], b[0][k]) for k in a[0]) and np.array_equal(a[2], b[2])
    assert not np.array_equal(a[0]["PSL"], c[0]["PSL"])


# -- the reader, on files other tools write --------------------------------------------------------

CHANNELS = ("TMQ", "U850", "PSL")


def climatenet_like(n: int = 10, nlat: int = 16, nlon: int = 32, seed: int = 0, **changes) -> xr.Dataset:
    """A dataset in ClimateNet's layout, written with plain xarray (CF time on the standard calendar)."""
    rng = np.random.default_rng(seed)
    lat, lon = np.linspace(-90, 90, nlat), np.arange(nlon) * 360 / nlon
    data = {c: (("time", "lat", "lon"), rng.normal(10, 2, (n, nlat, nlon)).astype("f4")) for c in CHANNELS}
    data["LABELS"] = (("time", "lat", "lon"), rng.integers(0, 3, (n, nlat, nlon)).astype("u1"))
    ds = xr.Dataset(data, coords={"time": np.arange(n) * 0.125, "lat": lat, "lon": lon})
    ds["time"].attrs.update(units="days since 1996-06-09 00:00:00", calendar="standard")
    return ds.assign(**changes)


def test_netcdf_and_zarr_v2_v3_give_the_same_rows(tmp_path):
    ds = climatenet_like()
    ds.to_netcdf(tmp_path / "a.nc", engine="h5netcdf")
    ds.to_zarr("memory://climate-test/a2.zarr", zarr_format=2, mode="w")
    ds.to_zarr("memory://climate-test/a3.zarr", zarr_format=3, mode="w", consolidated=False)
    tables = []
    for src in (str(tmp_path / "a.nc"), "memory://climate-test/a2.zarr", "memory://climate-test/a3.zarr"):
        r = ClimateReader(src, CHANNELS)
        assert [p["rows"] for p in r.pieces()] == [8, 2] and r.has_labels
        tables.append([r.read(p) for p in r.pieces()])
    x = np.stack([ds[c].values for c in CHANNELS], 1)
    got = np.concatenate([np.stack(t.column("x").to_numpy(zero_copy_only=False)) for t in tables[0]])
    assert np.array_equal(got.reshape(x.shape), x)
    for other in tables[1:]:  # ids name the file; the values are the same
        assert all(a.drop_columns("id").equals(b.drop_columns("id")) for a, b in zip(tables[0], other))


def test_statistics_are_the_channels_mean_and_std(tmp_path):
    ds = climatenet_like(n=6)
    ds.to_netcdf(tmp_path / "a.nc", engine="h5netcdf")
    mean, std = ClimateReader(str(tmp_path / "a.nc"), CHANNELS).stats()
    for k, c in enumerate(CHANNELS):  # 6 steps (one piece, training) < STATS_STEPS: all are used
        vals = ds[c].values.astype(np.float64)
        assert mean[k] == pytest.approx(vals.mean(), rel=1e-9) and std[k] == pytest.approx(vals.std(), rel=1e-9)


def _bad(tmp_path, name: str, ds: xr.Dataset) -> str:
    path = tmp_path / name
    ds.to_netcdf(path, engine="h5netcdf")
    return str(path)


def test_bad_input_is_refused_naming_the_file(tmp_path):
    good = _bad(tmp_path, "good.nc", climatenet_like())
    cases = {
        "missing": (climatenet_like().drop_vars("PSL"), "no variable 'PSL'"),
        "dims": (climatenet_like().transpose("time", "lon", "lat"), "has dimensions"),
        "time": (climatenet_like(), "time axis is not CF"),
    }
    for name, (ds, message) in cases.items():
        if name == "time":
            ds = ds.assign_coords(time=np.arange(10.0))
            ds["time"].attrs = {"units": "hours"}
        path = _bad(tmp_path, f"{name}.nc", ds)
        with pytest.raises(ValueError, match=message) as err:
            ClimateReader(path, CHANNELS).pieces()
        assert f"{name}.nc" in str(err.value)
    other = _bad(tmp_path, "other.nc", climatenet_like(nlat=24))
    with pytest.raises(ValueError, match="grid 24 x 32 differs"):
        ClimateReader(str(tmp_path / "[go]*.nc"), CHANNELS).pieces()
    assert other and good
    trunc = tmp_path / "trunc.nc"
    trunc.write_bytes((tmp_path / "good.nc").read_bytes()[:3000])
    with pytest.raises(ValueError, match="trunc.nc: unreadable"):
        ClimateReader(str(trunc), CHANNELS).pieces()


def test_missing_values_are_counted_then_refused_or_replaced(tmp_path):
    ds = climatenet_like()
    ds["TMQ"][0, 2, :5] = np.nan
    path = _bad(tmp_path, "nan.nc", ds)
    piece = ClimateReader(path, CHANNELS).pieces()[0]
    with pytest.raises(ValueError, match=r"nan.nc: 5 NaN or fill values in time steps 0-7 \({'TMQ': 5}\)"):
        ClimateReader(path, CHANNELS).read(piece)
    x = ClimateReader(path, CHANNELS, nan="mean").fields(piece)[0]
    assert np.isnan(x).sum() == 5  # left for the preprocess, which puts the channel's mean (0) there


def test_labels_come_from_another_dataset_by_time(tmp_path):
    ds = climatenet_like()
    ds.drop_vars("LABELS").to_netcdf(tmp_path / "fields.nc", engine="h5netcdf")
    labels = ds[["LABELS"]].isel(time=slice(None, None, -1))  # written in another order
    labels.to_netcdf(tmp_path / "labels.nc", engine="h5netcdf")
    r = ClimateReader(str(tmp_path / "fields.nc"), CHANNELS, labels=str(tmp_path / "labels.nc"))
    got = np.concatenate([np.stack(r.read(p).column("labels").to_numpy(zero_copy_only=False)) for p in r.pieces()])
    assert np.array_equal(got.reshape(ds["LABELS"].shape), ds["LABELS"].values)


def test_cf_dataset_round_trips_through_netcdf(tmp_path):
    lat, lon = np.linspace(-90, 90, 8), np.arange(16) * 22.5
    f = {"TMQ": np.ones((2, 8, 16), np.float32)}
    ds = cf_dataset(f, lat, lon, np.array([0.0, 0.25]), {"LABELS": labels_variable(np.zeros((2, 8, 16)), "x")})
    ds.to_netcdf(tmp_path / "x.nc", engine="h5netcdf")
    back = xr.open_dataset(tmp_path / "x.nc", engine="h5netcdf")
    assert back["TMQ"].attrs["units"] == "kg m-2" and back["LABELS"].dtype == np.uint8
    assert str(back["time"].values[1]) == "2000-01-01 06:00:00"


def test_ivt_is_derived_where_the_data_lacks_it(tmp_path):
    ds = climatenet_like().assign(V850=lambda d: d["U850"] * 0 + 3.0)
    ds.to_netcdf(tmp_path / "a.nc", engine="h5netcdf")
    r = ClimateReader(str(tmp_path / "a.nc"), ("IVT", "TMQ"))
    x = r.fields(r.pieces()[0])[0]
    expected = ds["TMQ"].values[:8] * np.hypot(ds["U850"].values[:8], 3.0)
    assert np.allclose(x[:, 0], expected, rtol=1e-6) and np.array_equal(x[:, 1], ds["TMQ"].values[:8])


def test_zarr_output_holds_the_same_steps_as_the_netcdf_files():
    """`--out X.zarr` writes every piece into its region of one store (resumable by the manifest beside
    it), with the values of the NetCDF files otherwise written, readable by xarray alone."""
    from physml.platform.data.local import write_in_process
    from physml.platform.data.shards import DatasetWriter
    from physml.tasks.climate.source import ClimateSource

    source = ClimateSource(ClimateParams(grid="32x64", steps=12, chunk=5, seed=4))
    for out in ("memory://zarr-out/nc", "memory://zarr-out/sim.zarr"):
        write_in_process(source, DatasetWriter(out, "climate", source.manifest_params(), 4, "test"))
    store = xr.open_zarr("memory://zarr-out/sim.zarr", consolidated=False)
    files = [
        xr.open_dataset(f, engine="h5netcdf") for f in sorted(ClimateReader("memory://zarr-out/nc", ("TMQ",)).sources)
    ]
    nc = xr.concat([f.load() for f in files], "time")
    assert store.sizes["time"] == 12 and store["TMQ"].encoding["chunks"] == (1, 32, 64)
    for v in ("TMQ", "PSL", "LABELS", "TRUTH", "tc_lat"):
        assert np.array_equal(store[v].values, nc[v].values, equal_nan=v.startswith("tc"))
    assert list(store["time"].values) == list(nc["time"].values)
