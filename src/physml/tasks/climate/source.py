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
from physml.tasks.sources import Estimate, ItemSource

from .background import derived_fields, primary_fields
from .cf import CHANNELS, cf_dataset, labels_variable, netcdf_bytes
from .detect import DetectParams, detect_step
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

    def __post_init__(self):
        parse_grid(self.grid)
        if self.steps < 1 or self.chunk < 1:
            raise ValueError(f"steps = {self.steps}, chunk = {self.chunk}: both must be >= 1")
        if not 0 < self.hours <= 24 or self.cyclones < 0 or self.rivers < 0:
            raise ValueError(f"hours = {self.hours}, cyclones = {self.cyclones}, rivers = {self.rivers}: "
                             "need 0 < hours <= 24 and means >= 0")  # fmt: skip


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


class ClimateSource(ItemSource):
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
    summary_columns = ["tc_truth", "tc_found", "tc_matched", "ar_pixels", "ar_intersection", "ar_union"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": "stochastic-cam5"}

    def estimate(self) -> Estimate:
        nlat, nlon = parse_grid(self.p.grid)
        return Estimate(float(self.p.steps * nlat * nlon * (4 * len(CHANNELS) + 2)), float(self.p.steps), "time steps")

    def items(self) -> list[dict]:
        c = self.p.chunk
        return [
            {"path": f"climate-{k:05d}.nc", "chunk": k, "rows": min(c, self.p.steps - k * c)}
            for k in range(-(-self.p.steps // c))
        ]

    def make(self, item: dict) -> bytes:
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

    def summary_table(self, uri: str) -> pa.Table:
        """Per time step: placed and found cyclones, matched within 5 deg, AR pixels of both labellings."""
        from .files import open_fields, list_sources

        rows = []
        for src in list_sources(uri):
            with open_fields(src) as ds:
                rows += score_steps(ds)
        return pa.Table.from_pylist(rows)

    def analyse(self, table: pa.Table) -> dict:
        """The heuristic against the placed truth: TC recall and precision, AR IoU."""
        s = {c: float(np.sum(table.column(c).to_numpy())) for c in self.summary_columns}
        recall = s["tc_matched"] / max(s["tc_truth"], 1)
        precision = s["tc_matched"] / max(s["tc_found"], 1)
        iou = s["ar_intersection"] / max(s["ar_union"], 1)
        text = (f"{table.num_rows} time steps: {int(s['tc_truth'])} placed cyclones, heuristic found {int(s['tc_found'])}: "
                f"recall {recall:.3f}, precision {precision:.3f}; AR IoU (heuristic vs placed) {iou:.3f}")  # fmt: skip
        metrics = {"sim/tc_recall": recall, "sim/tc_precision": precision, "sim/ar_iou": iou}
        return {"rows": [], "metrics": metrics, "series": {}, "text": text, "brief": text}


def score_steps(ds) -> list[dict]:
    """Per time step of an open dataset holding LABELS, TRUTH and tc_*: the heuristic's cyclone centres
    (label-1 regions' lowest PSL) matched to placed ones within 5 deg, and AR pixel overlaps."""
    from .detect import _components, _dist

    out = []
    lat, lon = ds["lat"].values, ds["lon"].values
    for t in range(ds.sizes["time"]):
        labels, truth, psl = (np.asarray(ds[v][t].values) for v in ("LABELS", "TRUTH", "PSL"))
        placed = [(a, b) for a, b in zip(ds["tc_lat"][t].values, ds["tc_lon"][t].values) if np.isfinite(a)]
        lab, n = _components(np.ascontiguousarray(labels == 1))
        found = []
        for k in range(1, n + 1):
            i, j = np.unravel_index(np.argmin(np.where(lab == k, psl, np.inf)), psl.shape)
            found.append((lat[i], lon[j]))
        matched = sum(any(_dist(a, b, c, d) < 5.0 for c, d in found) for a, b in placed)
        ar, tr = labels == 2, truth == 2
        out.append({"tc_truth": len(placed), "tc_found": len(found), "tc_matched": matched,
                    "ar_pixels": int(tr.sum()), "ar_intersection": int((ar & tr).sum()), "ar_union": int((ar | tr).sum())})  # fmt: skip
    return out


def open_bytes(data: bytes):
    """An xarray Dataset of NetCDF bytes (tests, the simulator's own checks)."""
    import xarray as xr

    return xr.open_dataset(io.BytesIO(data), engine="h5netcdf")
