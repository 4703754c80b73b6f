"""Climate archives read in place (no copy): pieces of ``PIECE`` time steps of CF NetCDF files or
Zarr stores, each read in one Ray Data read task, as rows ``id``, ``x`` (the channels, float32
[C * nlat * nlon]), ``labels`` and ``truth`` (uint8 [nlat * nlon], when the data has them) or, for
the patch task, as patches (:mod:`.patches`). Labels may come from another dataset (`physml detect
climate --out`), matched by time."""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

import numpy as np
import pyarrow as pa

from physml.tasks.sources import FileReader

from .files import absolute, check_structure, list_sources, open_fields, time_values

PIECE = 8  #: time steps per piece (one read task)
STATS_STEPS = 64  #: time steps the normalisation statistics are computed from, spread over the files
NAN_POLICIES = ("error", "mean")


DERIVED = {"IVT": ("TMQ", "U850", "V850")}  #: channels computed when the data lacks them


def needed(ds, channels) -> list[str]:
    """The variables ``channels`` read from ``ds``: a derived channel's inputs where ``ds`` lacks it."""
    out = []
    for c in channels:
        out += list(DERIVED[c]) if c in DERIVED and c not in ds.variables else [c]
    return list(dict.fromkeys(out))


def channel(part, name: str) -> np.ndarray:
    """float32[time, lat, lon] of one channel; IVT, where the data lacks it, as the proxy TMQ |V850|
    (kg m^-1 s^-1; the quantity the atmospheric-river heuristic thresholds)."""
    if name == "IVT" and "IVT" not in part.variables:
        t, u, v = (np.asarray(part[c].values, np.float32) for c in DERIVED["IVT"])
        return t * np.hypot(u, v)
    return np.asarray(part[name].values, np.float32)


def split_of(k: int, n: int) -> str:
    """The split of piece ``k`` of ``n`` (in file and time order): one in 8 each for 'val' and 'test'
    (pieces 3, 11, ... and 6, 14, ...; pieces 1 and 2 when there are fewer than 8), else 'train'.
    Whole pieces, so neighbouring, correlated time steps stay in one split."""
    if n < 8:
        return {1: "val", 2: "test"}.get(k, "train")
    return {3: "val", 6: "test"}.get(k % 8, "train")


@functools.lru_cache(maxsize=8)
def reader_of(src: str, channels: tuple[str, ...], labels: str = "", nan: str = "error", patches: tuple = ()):
    """One reader per (data, settings) in a process: files are listed and opened once."""
    return ClimateReader(src, channels, labels, nan, patches)


class ClimateReader(FileReader):
    kind = "climate"

    def __init__(self, src: str, channels: tuple[str, ...], labels: str = "", nan: str = "error", patches: tuple = ()):
        if nan not in NAN_POLICIES:
            raise ValueError(f"data.nan = {nan!r}: choose {' or '.join(NAN_POLICIES)}")
        self.src, self.labels_src = absolute(src), absolute(labels)
        self.channels, self.nan, self.patches = tuple(channels), nan, patches

    @cached_property
    def sources(self) -> list[str]:
        return list_sources(self.src)

    @cached_property
    def _layout(self) -> tuple[list[dict], np.ndarray, np.ndarray, bool, bool]:
        pieces, grid, has_labels, has_truth = [], None, True, True
        for index, src in enumerate(self.sources):
            with open_fields(src) as ds:
                lat, lon, n = check_structure(ds, src, needed(ds, self.channels))
                has_labels &= "LABELS" in ds.variables
                has_truth &= "TRUTH" in ds.variables
            if grid is None:
                grid = (lat, lon, src)
            elif (
                lat.shape != grid[0].shape
                or lon.shape != grid[1].shape
                or not (np.allclose(lat, grid[0]) and np.allclose(lon, grid[1]))
            ):
                raise ValueError(
                    f"{src}: grid {len(lat)} x {len(lon)} differs from {grid[2]}'s {len(grid[0])} x {len(grid[1])}"
                )
            stem = src.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
            for start in range(0, n, PIECE):
                path = f"{stem}-t{start:06d}"
                stop = min(n, start + PIECE)
                pieces.append(
                    {
                        "path": path,
                        "file": src,
                        "file_index": index,
                        "start": start,
                        "stop": stop,
                        "rows": stop - start,
                    }
                )
        pieces = [{**p, "split": split_of(k, len(pieces))} for k, p in enumerate(pieces)]
        return pieces, grid[0], grid[1], has_labels or bool(self.labels_src), has_truth

    def pieces(self) -> list[dict]:
        if self.labels_src:
            self._label_index  # noqa: B018  (label files checked before anything starts)
        return self._layout[0]

    @property
    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        return self._layout[1], self._layout[2]

    @property
    def has_labels(self) -> bool:
        return self._layout[3]

    @property
    def has_truth(self) -> bool:
        """Every file holds TRUTH (the simulator's placed masks)."""
        return self._layout[4]

    @cached_property
    def _label_index(self) -> dict[str, tuple[str, int]]:
        index = {}
        for src in list_sources(self.labels_src):
            with open_fields(src) as ds:
                check_structure(ds, src, ["LABELS"])
                index.update({t: (src, i) for i, t in enumerate(time_values(ds))})
        return index

    def _labels(self, ds, piece: dict, src: str) -> np.ndarray | None:
        if not self.labels_src:
            return (
                np.asarray(ds["LABELS"][piece["start"] : piece["stop"]].values, np.uint8)
                if "LABELS" in ds.variables
                else None
            )
        out = []
        for t in time_values(ds.isel(time=slice(piece["start"], piece["stop"]))):
            if t not in self._label_index:
                raise ValueError(f"{src}: time {t} has no LABELS in {self.labels_src} (data.labels; "
                                 'to use the LABELS of the data itself: --set data.labels=""')  # fmt: skip
            lsrc, i = self._label_index[t]
            with open_fields(lsrc) as lds:
                out.append(np.asarray(lds["LABELS"][i].values, np.uint8))
        return np.stack(out)

    def fields(self, piece: dict) -> tuple[np.ndarray, dict[str, np.ndarray | None]]:
        """(x float32[n, C, nlat, nlon] with NaNs and fill values per ``nan``, {"labels", "truth", "psl"})."""
        src = piece["file"]
        with open_fields(src) as ds:
            part = ds.isel(time=slice(piece["start"], piece["stop"]))
            x = np.stack([channel(part, c) for c in self.channels], axis=1)
            extra = {"labels": self._labels(ds, piece, src)}
            extra["truth"] = np.asarray(part["TRUTH"].values, np.uint8) if "TRUTH" in part.variables else None
        bad = ~np.isfinite(x)
        if bad.any():
            counts = {c: int(bad[:, k].sum()) for k, c in enumerate(self.channels) if bad[:, k].any()}
            if self.nan == "error":
                steps = f"time steps {piece['start']}-{piece['stop'] - 1}"
                raise ValueError(f"{src}: {sum(counts.values())} NaN or fill values in {steps} ({counts}); "
                                 "set data.nan = \"mean\" to replace them by the channel's mean")  # fmt: skip
            # data.nan = "mean": left as NaN here; the preprocess puts the channel's mean there
        return x, extra

    def read(self, piece: dict, columns: list[str] | None = None) -> pa.Table:
        x, extra = self.fields(piece)
        if self.patches:
            from .patches import patch_table

            return patch_table(x, extra["labels"], self.grid, piece, self.patches, self.channels)
        n = x.shape[0]
        cols = {"id": [f"{piece['path']}-{i}" for i in range(n)], "x": _flat(x)}
        cols["file_index"] = np.full(n, piece["file_index"], np.int32)
        cols["step"] = np.arange(piece["start"], piece["stop"], dtype=np.int32)
        for k in ("labels", "truth"):
            if extra[k] is not None:
                cols[k] = _flat(extra[k])
        return pa.table(cols)

    def stats(self) -> tuple[list[float], list[float]]:
        """Per-channel (mean, std) over up to ``STATS_STEPS`` time steps spread over the training pieces,
        read in parallel threads (one piece each)."""
        train = [p for p in self.pieces() if p["split"] == "train"] or self.pieces()
        chosen = [train[i] for i in np.unique(np.linspace(0, len(train) - 1, min(len(train), STATS_STEPS)).astype(int))]
        per = -(-STATS_STEPS // len(chosen))  # steps read from each chosen piece
        chosen = [{**p, "stop": min(p["stop"], p["start"] + per), "rows": min(p["rows"], per)} for p in chosen]
        with ThreadPoolExecutor(max_workers=4) as pool:
            xs = list(pool.map(lambda p: self.fields(p)[0].astype(np.float64), chosen))
        x = np.concatenate(xs)
        return np.nanmean(x, (0, 2, 3)).tolist(), np.maximum(np.nanstd(x, (0, 2, 3)), 1e-12).tolist()

    def manifest_params(self) -> dict:
        lat, lon = self.grid
        mean, std = self.stats()
        return {"model": "cf", "channels": list(self.channels), "grid": [len(lat), len(lon)], "mean": mean, "std": std}

    def describe(self) -> str:
        lat, lon = self.grid
        return (f"{len(self.sources)} CF file(s)/store(s), {sum(p['rows'] for p in self.pieces())} time steps on a "
                f"{len(lat)} x {len(lon)} grid, channels {', '.join(self.channels)}")  # fmt: skip


def _flat(a: np.ndarray) -> pa.FixedSizeListArray:
    n = a.shape[0]
    return pa.FixedSizeListArray.from_arrays(pa.array(a.reshape(-1)), int(a.size // max(n, 1)))
