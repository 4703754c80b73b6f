"""The climate dataset: CF NetCDF files of CAM5's 16 variables, one file per chunk of time steps,
with tropical cyclones and atmospheric rivers placed in a stochastic background (:mod:`.background`,
:mod:`.storms`). Each file also holds TRUTH (the placed masks, 0/1/2), LABELS (the heuristic's,
:mod:`.detect`, as ClimateNet's files hold their labels) and the placed cyclone centres
(``tc_lat``, ``tc_lon``, ``tc_dp``; NaN-padded to ``MAX_STORMS``)."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource, StoreWriter

from .background import derived_fields, primary_fields
from .cf import CHANNELS, cf_dataset, labels_variable, netcdf_bytes
from .detect import DetectParams, detect_step
from .files import absolute, time_values
from .grid import Grid
from .storms import draw_cyclones, draw_rivers, moved_cyclone, moved_river, place_cyclone, place_river

MAX_STORMS = 8  #: cyclone slots per time step in the tc_* variables


def parse_grid(text: str) -> tuple[int, int]:
    """'192x288' -> (192, 288); ValueError naming the text otherwise."""
    try:
        nlat, nlon = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"grid = {text!r}: expected NLATxNLON, e.g. 192x288 or 768x1152") from None
    if nlat < 16 or nlon < 32:
        raise ValueError(f"grid = {text!r}: need at least 16 latitudes and 32 longitudes")
    return nlat, nlon


@dataclass(frozen=True)
class ClimateParams:
    grid: str = option("192x288", "NLATxNLON: 192x288 (CAM5 1 deg) or 768x1152 (0.25 deg), any regular grid")
    steps: int = option(64, "time steps")
    chunk: int = option(8, "time steps per file (one Ray task each)")
    hours: float = option(6.0, "hours between time steps")
    cyclones: float = option(3.0, "mean tropical cyclones per file (Poisson; they move from step to step)")
    rivers: float = option(2.0, "mean atmospheric rivers per file (Poisson)")
    seed: int = option(0, "root seed")
    data: str = option("", "the CF NetCDF/Zarr data to label: file, directory, glob or store, any fsspec URI",
                       modes=("detect",))  # fmt: skip

    def __post_init__(self):
        object.__setattr__(self, "data", absolute(self.data))  # the Ray tasks that read it run elsewhere
        parse_grid(self.grid)
        if self.steps < 1 or self.chunk < 1:
            raise ValueError(f"steps = {self.steps}, chunk = {self.chunk}: both must be >= 1")
        if not 0 < self.hours <= 24:
            raise ValueError(f"hours = {self.hours}: must be in (0, 24]")
        if self.cyclones < 0 or self.rivers < 0:
            raise ValueError(f"cyclones = {self.cyclones}, rivers = {self.rivers}: Poisson means must be >= 0")


def simulate_chunk(p: ClimateParams, k: int, n: int) -> tuple[dict, dict, np.ndarray, Grid]:
    """File ``k``'s ``n`` steps: (fields float32[n, nlat, nlon] by name, storm tables float32[n,
    MAX_STORMS] (tc_lat, tc_lon, tc_dp), TRUTH uint8[n, nlat, nlon], grid); from (seed, k) alone."""
    grid = Grid.regular(*parse_grid(p.grid))
    rng = np.random.default_rng([p.seed, k])
    f = primary_fields(rng, grid, n, p.hours)
    cyclones, rivers = draw_cyclones(rng, p.cyclones)[:MAX_STORMS], draw_rivers(rng, p.rivers)
    truth = np.zeros((n, *grid.shape), np.uint8)
    tables = {c: np.full((n, MAX_STORMS), np.nan, np.float32) for c in ("tc_lat", "tc_lon", "tc_dp")}
    for t in range(n):
        for rv in rivers:
            truth[t][place_river(f, t, grid, moved_river(rv, p.hours, t))] = 2
        for s, c in enumerate(cyclones):
            c = moved_cyclone(c, p.hours, t)
            truth[t][place_cyclone(f, t, grid, c)] = 1
            tables["tc_lat"][t, s], tables["tc_lon"][t, s], tables["tc_dp"][t, s] = c.lat, c.lon, c.dp
    return derived_fields(f), tables, truth, grid


class ClimateSource(ItemSource, StoreWriter):
    kind = "climate"
    params_type = ClimateParams
    summary = "CAM5-like fields (CF NetCDF) with placed tropical cyclones and atmospheric rivers"
    description = (
        "Simulate CAM5's 16 variables on a regular lat-lon grid: a stochastic background (spectral AR(1) "
        "fields, geostrophic winds, hydrostatic heights) with Holland-profile tropical cyclones and "
        "atmospheric-river plumes placed in it; one CF NetCDF file per chunk of time steps with TRUTH "
        "(the placed masks) and LABELS (the TECA-style heuristic). Deterministic by seed, resumable."
    )
    example = "physml simulate climate --steps 256 --grid 192x288 --out data/climate"
    summary_columns = ["tc_truth", "tc_found", "tc_matched", "ar_pixels", "ar_intersection", "ar_union", "text"]
    detect_summary = "tropical cyclones and atmospheric rivers in CF fields (TECA-style heuristics, numba)"
    detect_description = (
        "Label every time step of --data, any CF dataset with PSL, U850, V850, T200, T500 and TMQ on a "
        "regular lat-lon grid: LABELS 1 where a tropical cyclone's criteria hold (closed +200 Pa pressure "
        "contour within 5.5 deg, cyclonic 850 hPa vorticity, warm core), 2 for atmospheric rivers (TMQ "
        "|V850| above threshold, >= 2000 km long, length/width >= 2, outside the tropics). One CF NetCDF "
        "label file per piece of 8 time steps; where the data has TRUTH, recall and precision against it."
    )
    detect_example = "physml detect climate --data 'data/climate/*.nc' --out data/climate-labels"

    def manifest_params(self) -> dict:
        if self.p.data:
            return {"data": self.p.data, "seed": 0, "model": "heuristic-labels", "detect": asdict(DetectParams())}
        return {**asdict(self.p), "model": "stochastic-cam5"}

    def estimate(self) -> Estimate | None:
        if self.p.data:
            return None
        nlat, nlon = parse_grid(self.p.grid)
        return Estimate(float(self.p.steps * nlat * nlon * (4 * len(CHANNELS) + 2)), float(self.p.steps), "time steps")

    def items(self) -> list[dict]:
        """One per file of ``chunk`` steps (simulate) or per piece of the data (detect); ``offset`` and
        ``total``: the item's place on the time axis of a Zarr output."""
        if self.p.data:
            pieces = detect_reader(self.p.data).pieces()
            starts, total = np.cumsum([0] + [p["rows"] for p in pieces]), sum(p["rows"] for p in pieces)
            return [
                {**p, "path": f"{p['path']}.nc", "offset": int(s), "total": int(total)} for p, s in zip(pieces, starts)
            ]
        c, n = self.p.chunk, self.p.steps
        return [
            {"path": f"climate-{k:05d}.nc", "chunk": k, "rows": min(c, n - k * c), "offset": k * c, "total": n}
            for k in range(-(-n // c))
        ]

    def make(self, item: dict) -> bytes:
        if self.p.data:
            return detect_piece(self.p.data, item)
        p, k, n = self.p, item["chunk"], item["rows"]
        fields, tables, truth, grid = simulate_chunk(p, k, n)
        labels = np.stack(
            [detect_step({c: v[t] for c, v in fields.items()}, grid, DetectParams())[0] for t in range(n)]
        )
        days = (k * p.chunk + np.arange(n)) * p.hours / 24.0
        extra = {
            "TRUTH": labels_variable(truth, "placed by the simulator"),
            "LABELS": labels_variable(labels, "TECA-style heuristic (physml detect climate)"),
            **{c: (("time", "storm"), v, {"long_name": f"placed cyclone {c[3:]}"}) for c, v in tables.items()},
        }
        ds = cf_dataset(fields, grid.lat, grid.lon, days, extra, {"source": "physml simulate climate", "seed": p.seed})
        return netcdf_bytes(ds)

    def dataset_uri(self, out: str) -> str:
        """`detect --out X.nc`: the pieces' label files are kept in ``X.nc.parts`` (resumable), then
        gathered into the one file X.nc (:meth:`finish`)."""
        return f"{out}.parts" if self.p.data and out.endswith(".nc") else out

    def finish(self, out: str, dataset: str) -> None:
        if dataset == out:
            return
        import fsspec
        import xarray as xr

        from .files import list_sources, open_fields

        parts = []
        for src in list_sources(dataset):
            with open_fields(src) as ds:  # decoded: pieces of files with other time units line up
                parts.append(ds.load())
        whole = xr.concat(parts, "time", data_vars="all")
        whole.attrs.update(parts[0].attrs)
        with fsspec.open(out, "wb") as f:
            f.write(netcdf_bytes(whole))

    def put(self, out: str, item: dict, made: bytes) -> int | None:
        """Into one Zarr store when ``out`` ends in .zarr (the item's region of its time axis)."""
        from .zarrstore import is_zarr, write_region

        if not is_zarr(out):
            return None
        with open_bytes(made, decode_times=False) as ds:
            write_region(out, ds, item["offset"], item["total"])
        return item["rows"]

    def summary_table(self, uri: str) -> pa.Table:
        """Per time step: placed and found cyclones, matched within 5 deg, AR pixels of both labellings."""
        from .files import list_sources, open_fields

        rows = []
        for src in list_sources(uri):
            with open_fields(src) as ds:
                rows += score_steps(ds)
        return pa.Table.from_pylist(rows)

    def analyse(self, table: pa.Table) -> dict:
        """What the heuristic found per time step; against the placed truth (where the data has it): TC
        recall and precision, AR IoU."""
        s = {c: float(np.sum(table.column(c).to_numpy())) for c in self.summary_columns if c != "text"}
        steps = table.column("text").to_pylist()
        lines = steps[:40] + ([f"... ({len(steps) - 40} more time steps)"] if len(steps) > 40 else [])
        brief = f"{table.num_rows} time steps: {int(s['tc_found'])} tropical cyclones found"
        metrics = {"sim/tc_found": s["tc_found"]}
        if s["tc_truth"] or s["ar_pixels"]:
            recall, precision = s["tc_matched"] / max(s["tc_truth"], 1), s["tc_matched"] / max(s["tc_found"], 1)
            iou = s["ar_intersection"] / max(s["ar_union"], 1)
            brief += (f" of {int(s['tc_truth'])} placed: recall {recall:.3f}, precision {precision:.3f}; "
                      f"AR IoU (heuristic vs placed) {iou:.3f}")  # fmt: skip
            metrics.update({"sim/tc_recall": recall, "sim/tc_precision": precision, "sim/ar_iou": iou})
        return {"rows": [], "metrics": metrics, "series": {}, "text": "\n".join([*lines, brief]), "brief": brief}


def score_steps(ds) -> list[dict]:
    """Per time step of an open dataset holding LABELS, TRUTH and tc_*: the heuristic's cyclone centres
    (label-1 regions' lowest PSL) matched to placed ones within 5 deg, and AR pixel overlaps."""
    from .detect import _components, _dist

    out = []
    lat, lon, times = ds["lat"].values, ds["lon"].values, time_values(ds)
    for t in range(ds.sizes["time"]):
        labels = np.asarray(ds["LABELS"][t].values)
        truth = np.asarray(ds["TRUTH"][t].values) if "TRUTH" in ds.variables else np.zeros_like(labels)
        placed = [(a, b) for a, b in zip(*(_row(ds, v, t) for v in ("tc_lat", "tc_lon"))) if np.isfinite(a)]
        if "det_lat" in ds.variables:
            found = [
                (a, b, c)
                for a, b, c in zip(*(_row(ds, v, t) for v in ("det_lat", "det_lon", "det_psl")))
                if np.isfinite(a)
            ]
        else:
            psl = np.asarray(ds["PSL"][t].values)
            lab, n = _components(np.ascontiguousarray(labels == 1))
            ij = [np.unravel_index(np.argmin(np.where(lab == k, psl, np.inf)), psl.shape) for k in range(1, n + 1)]
            found = [(lat[i], lon[j], psl[i, j]) for i, j in ij]
        matched = sum(any(_dist(a, b, c, d) < 5.0 for c, d, _ in found) for a, b in placed)
        rivers = [(a, b) for a, b in zip(*(_row(ds, v, t) for v in ("ar_length_km", "ar_area_km2"))) if np.isfinite(a)]
        text = f"{times[t]}: TC " + (", ".join(f"({a:.1f}, {b:.1f}) {c / 100:.0f} hPa" for a, b, c in found) or "none")
        text += "; AR " + (", ".join(f"{a:.0f} km / {b / 1e6:.2f} Mkm2" for a, b in rivers) or "none")
        ar, tr = labels == 2, truth == 2
        out.append({"tc_truth": len(placed), "tc_found": len(found), "tc_matched": matched,
                    "ar_pixels": int(tr.sum()), "ar_intersection": int((ar & tr).sum()),
                    "ar_union": int((ar | tr).sum()),
                    "text": text})  # fmt: skip
    return out


def _row(ds, name: str, t: int) -> np.ndarray:
    return np.asarray(ds[name][t].values, np.float64) if name in ds.variables else np.zeros(0)


DETECT_VARIABLES = ("PSL", "U850", "V850", "T200", "T500", "TMQ")


def detect_reader(uri: str):
    from .reader import reader_of

    return reader_of(uri, DETECT_VARIABLES)


def padded(rows: list[list[float]], width: int) -> np.ndarray:
    """float32[len(rows), width], NaN after each row's values."""
    out = np.full((len(rows), width), np.nan, np.float32)
    for t, r in enumerate(rows):
        out[t, : min(len(r), width)] = r[:width]
    return out


def detect_piece(uri: str, piece: dict) -> bytes:
    """The label file of one piece of ``uri``: LABELS, the cyclones (det_lat, det_lon, det_psl) and rivers
    (ar_length_km, ar_area_km2) found, and the data's TRUTH and tc_* where it has them; its time axis."""
    from .files import open_fields

    reader = detect_reader(uri)
    x, extra = reader.fields(piece)
    grid = Grid(*reader.grid)
    found = [detect_step(dict(zip(DETECT_VARIABLES, x[t])), grid, DetectParams()) for t in range(len(x))]
    tcs, ars = [f[1] for f in found], [f[2] for f in found]
    more = {"LABELS": labels_variable(np.stack([f[0] for f in found]), "TECA-style heuristic (physml detect climate)")}
    for name, key, rows in (("det_lat", "lat", tcs), ("det_lon", "lon", tcs), ("det_psl", "psl", tcs),
                            ("ar_length_km", "length_km", ars), ("ar_area_km2", "area_km2", ars)):  # fmt: skip
        more[name] = (("time", "storm"), padded([[e[key] for e in r] for r in rows], MAX_STORMS), {})
    if extra["truth"] is not None:
        more["TRUTH"] = labels_variable(extra["truth"], "placed by the simulator")
    with open_fields(piece["file"], decode_times=False) as ds:
        part = ds.isel(time=slice(piece["start"], piece["stop"]))
        for c in ("tc_lat", "tc_lon", "tc_dp"):
            if c in part.variables:
                more[c] = (("time", "storm"), np.asarray(part[c].values, np.float32), {})
        days, attrs = np.asarray(part["time"].values, np.float64), dict(part["time"].attrs)
    ds = cf_dataset({}, grid.lat, grid.lon, days, more, {"source": f"physml detect climate --data {uri}"})
    ds["time"].attrs.update(attrs)
    return netcdf_bytes(ds)


def open_bytes(data: bytes, decode_times: bool = True):
    """An xarray Dataset of NetCDF bytes."""
    import xarray as xr

    return xr.open_dataset(io.BytesIO(data), engine="h5netcdf", decode_times=decode_times)
