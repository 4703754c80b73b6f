"""The stargalaxy dataset generator: simulated SDSS-like cutouts in chunks (one Ray task and one shard
each), or a directory of real FITS cutouts. Rows (image tasks, the docs' Concepts page): ``id``, ``set``
("A" labelled, "B" unlabelled, as the source's two sets), ``label`` (0 star, 1 galaxy; -1 unknown;
kept for set B only to score it), ``magnitude``, ``r50`` (arcsec, NaN for stars), ``g``, ``seeing``
(arcsec), ``snr`` and ``image`` fixed_size_list<float32>[size*size] (ADU, sky subtracted)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from physml.tasks.options import CONVERT, option
from physml.tasks.sources import Estimate, ItemSource

from .cutouts import CutoutParams, draw, draw_truth

CHUNK = 2000  # cutouts per shard


@dataclass(frozen=True)
class StarGalaxyParams:
    n: int = option(20000, "cutouts")
    star_fraction: float = option(0.5, "fraction of stars")
    labelled_fraction: float = option(0.2, "fraction in set A (labelled); the rest is set B")
    seed: int = option(0, "root seed")
    cutout: CutoutParams = field(default_factory=CutoutParams)
    src: str = option("", "directory of .fits files", modes=CONVERT, positional=True)
    labels: str = option(
        "", "CSV with columns id (file name without extension), label (0 star, 1 galaxy)", modes=CONVERT
    )

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n = {self.n}: must be >= 1")
        for name in ("star_fraction", "labelled_fraction"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} = {getattr(self, name)}: must be in 0..1")
        if self.labels and not self.src:
            raise ValueError("labels: only with src (a directory of FITS cutouts)")


def schema(size: int) -> pa.Schema:
    fields = [
        ("id", pa.string()),
        ("set", pa.string()),
        ("label", pa.int8()),
        ("magnitude", pa.float64()),
        ("r50", pa.float64()),
        ("g", pa.float64()),
        ("seeing", pa.float64()),
        ("snr", pa.float64()),
        ("image", pa.list_(pa.float32(), size * size)),
    ]
    return pa.schema(fields, metadata={"image_shape": json.dumps([size, size])})


def optimal_snr(image: np.ndarray, noise_sd: float) -> float:
    """S/N of a matched filter on the noiseless image: sqrt(sum s^2) / sigma (sky-limited)."""
    return float(np.sqrt((image.astype(np.float64) ** 2).sum()) / noise_sd)


class StarGalaxySource(ItemSource):
    kind = "stargalaxy"
    params_type = StarGalaxyParams
    summary = "SDSS-like r-band star and galaxy cutouts (GalSim), Ray tasks"
    description = (
        'Simulate cutouts at 0.396"/px: stars = the Moffat PSF (seeing around 1.4"), galaxies = bulge + disk '
        "convolved with it, magnitudes uniform in 14..22, sky and CCD noise; set A labelled, set B unlabelled. "
        "Resumable."
    )
    convert_summary = "a directory of FITS cutouts (+ a CSV of labels)"
    example = "physml simulate stargalaxy --n 20000 --out data/stargalaxy"
    convert_example = "physml convert stargalaxy path/to/fits/ --labels labels.csv --out data/sdss"
    convert_description = (
        "FITS cutouts of one size (the first 2D image HDU of each file); labelled ones form set A, the others set B."
    )
    task = "stargalaxy"
    summary_columns = ["set", "label", "magnitude", "r50", "seeing", "snr"]

    def manifest_params(self) -> dict:
        d = asdict(self.p)
        d["model"] = "sdss-r"
        if self.p.src:
            d = {"model": "sdss-r", "src": str(Path(self.p.src).resolve()), "labels": self.p.labels}
        return d

    def estimate(self) -> Estimate | None:
        """A float32 cutout of size^2 pixels per object (simulated; unknown for a directory)."""
        if self.p.src:
            return None
        return Estimate(float(self.p.n * (4 * self.p.cutout.size**2 + 100)), float(self.p.n), "cutouts")

    def items(self) -> list[dict]:
        if self.p.src:
            from .fits import find_cutouts, read_labels

            ids = [s for s, _ in find_cutouts(self.p.src)]
            if self.p.labels:
                read_labels(self.p.labels, ids)
            return [{"path": "cutouts/real.parquet"}]
        return [
            {"path": f"cutouts/chunk-{k:05d}.parquet", "chunk": k, "n": min(CHUNK, self.p.n - k * CHUNK)}
            for k in range(-(-self.p.n // CHUNK))
        ]

    def make(self, item: dict) -> pa.Table:
        if self.p.src:
            return self._real()
        rng = np.random.default_rng(np.random.SeedSequence([self.p.seed, item["chunk"]]))
        c, rows = self.p.cutout, []
        for i in range(item["n"]):
            t = draw_truth(rng, c, galaxy=bool(rng.uniform() >= self.p.star_fraction))
            labelled = rng.uniform() < self.p.labelled_fraction
            clean = draw(t, c, None)
            image = draw(t, c, int(rng.integers(1, 2**62)))
            rows.append(
                (
                    f"s{self.p.seed}-{item['chunk'] * CHUNK + i:07d}",
                    "A" if labelled else "B",
                    int(t["galaxy"]),
                    t["magnitude"],
                    t.get("r50", np.nan),
                    t.get("g", 0.0),
                    t["seeing"],
                    optimal_snr(clean, c.noise_sd()),
                    image,
                )
            )
        return self._table(rows, c.size)

    def _real(self) -> pa.Table:
        from .fits import read_directory

        ids, images, labels = read_directory(self.p.src, self.p.labels or None)
        nan = float("nan")
        rows = [
            (i, "A" if lab >= 0 else "B", int(lab), nan, nan, nan, nan, nan, im)
            for i, im, lab in zip(ids, images, labels)
        ]
        return self._table(rows, images.shape[1])

    @staticmethod
    def _table(rows: list[tuple], size: int) -> pa.Table:
        cols = list(zip(*rows))
        images = np.stack(cols[-1]).astype(np.float32).reshape(-1)
        arrays = [pa.array(cols[0]), pa.array(cols[1]), pa.array(np.array(cols[2], np.int8))]
        arrays += [pa.array(np.array(c, np.float64)) for c in cols[3:8]]
        arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(images), size * size))
        return pa.Table.from_arrays(arrays, schema=schema(size))

    def analyse(self, table: pa.Table) -> dict:
        """Counts per set and class, and the magnitude range; MLflow metrics and terminal text."""
        d = {c: table.column(c).to_numpy(zero_copy_only=False) for c in self.summary_columns}
        lines, metrics = [f"{'set':<5}{'stars':>8}{'galaxies':>10}{'unlabelled':>12}"], {}
        for s in ("A", "B"):
            sel = d["set"] == s
            counts = [int((sel & (d["label"] == k)).sum()) for k in (0, 1, -1)]
            lines.append(f"{s:<5}{counts[0]:>8}{counts[1]:>10}{counts[2]:>12}")
            metrics[f"sim/set_{s}"] = float(sel.sum())
        if np.isfinite(d["snr"]).any():
            faint = d["magnitude"] > d["magnitude"].max() - 1
            lines.append(f"median S/N of the faintest magnitude: {np.nanmedian(d['snr'][faint]):.1f}")
        return {"rows": [], "metrics": metrics, "series": {}, "text": "\n".join(lines)}

    def report(self, analysis: dict, out_dir) -> list:
        return []
