"""The lensing dataset generator: chunks of one substructure class each (one Ray task and one shard
per chunk, so a task reading only ``none`` images selects shards, not rows). Rows: ``id``, ``label``
(0 none, 1 vortex, 2 spherical), ``substructure``, the physical parameters (``z_lens``, ``z_source``,
``sigma_v`` km/s, ``theta_e`` arcsec, ``q``, ``gamma``, ``n_sub``, ``m_sub`` total and ``m_sub_max``
M_sun, ``vortex_mass`` M_sun, ``vortex_length`` arcsec, ``snr``) and ``image``
fixed_size_list<float32>[size*size] in background sigmas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource

from .lenses import CLASSES, LensParams, draw_image

CHUNK = 250  # images per shard
FLOATS = [
    "z_lens",
    "z_source",
    "sigma_v",
    "theta_e",
    "q",
    "gamma",
    "m_sub",
    "m_sub_max",
    "vortex_mass",
    "vortex_length",
    "snr",
]


@dataclass(frozen=True)
class LensingParams:
    n: int = option(2500, "images per substructure class")
    n_none: int = option(0, "images without substructure (0 = --n; the source trains on 25000)")
    seed: int = option(0, "root seed")
    lens: LensParams = field(default_factory=LensParams)

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n = {self.n}: must be >= 1")
        if self.n_none < 0:
            raise ValueError(f"n_none = {self.n_none}: must be >= 0 (0 = n)")

    def count(self, kind: str) -> int:
        return (self.n_none or self.n) if kind == "none" else self.n


def schema(size: int) -> pa.Schema:
    fields = [("id", pa.string()), ("label", pa.int8()), ("substructure", pa.string()), ("n_sub", pa.int32())]
    fields += [(f, pa.float64()) for f in FLOATS] + [("image", pa.list_(pa.float32(), size * size))]
    return pa.schema(fields, metadata={"image_shape": json.dumps([size, size])})


class LensingSource(ItemSource):
    kind = "lensing"
    params_type = LensingParams
    example = "physml simulate lensing --n 2500 --n-none 10000 --out data/lens-A"
    summary = "strong-lensing images with no / vortex / CDM-subhalo substructure (lenstronomy), Ray tasks"
    description = (
        "Ray-trace SIE + shear lenses of a Sersic source with lenstronomy, with no substructure, a vortex (line "
        "mass) or CDM subhalos (point masses, dN/dm ~ m^-1.9), Gaussian PSF, source Poisson and background "
        "noise. Model A: z_lens 0.5, z_source 1.0, SNR 20; model B: redshifts and SNR (10-30) vary. Resumable."
    )
    task = "lensing"
    summary_columns = ["substructure", "theta_e", "n_sub", "m_sub", "snr", "z_lens", "z_source"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": "sie-lens"}  # Model A or B: params.lens.model

    def estimate(self) -> Estimate:
        """float32 images of size^2 pixels (+ about 200 bytes of parameters) per image."""
        n = sum(self.p.count(kind) for kind in CLASSES)
        return Estimate(float(n * (4 * self.p.lens.size**2 + 200)), float(n), "images")

    def items(self) -> list[dict]:
        out = []
        for label, kind in enumerate(CLASSES):
            n = self.p.count(kind)
            out += [
                {
                    "path": f"{kind}/chunk-{k:05d}.parquet",
                    "substructure": kind,
                    "label": label,
                    "chunk": k,
                    "n": min(CHUNK, n - k * CHUNK),
                }
                for k in range(-(-n // CHUNK))
            ]
        return out

    def draws(self, item: dict) -> Iterator[tuple[str, dict, np.ndarray, np.ndarray]]:
        """(row id, system, noiseless, noisy image) of each image of ``item`` (one chunk of one class),
        in order; the same draws on every call (the chunk's own seed), so a dataset can be replayed
        from its manifest (e.g. for what the shards do not store: subhalo positions, noiseless images)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.p.seed, item["label"], item["chunk"]]))
        for i in range(item["n"]):
            s, clean, noisy = draw_image(rng, self.p.lens, item["substructure"])
            yield f"{item['substructure']}-{self.p.seed}-{item['chunk'] * CHUNK + i:06d}", s, clean, noisy

    def make(self, item: dict) -> pa.Table:
        rows, images = [], []
        for row_id, s, _, noisy in self.draws(item):
            m = s["sub_m"]
            rows.append(
                [
                    row_id,
                    item["label"],
                    item["substructure"],
                    int(len(m) if item["substructure"] == "spherical" else 0),
                    s["z_lens"],
                    s["z_source"],
                    s["sigma_v"],
                    s["theta_e"],
                    s["q"],
                    s["gamma"],
                    float(m.sum()),
                    float(m.max()) if len(m) else 0.0,
                    s["vortex_mass"],
                    s["vortex_length"],
                    s["snr"],
                ]
            )
            images.append(noisy.reshape(-1))
        return self._table(rows, np.stack(images), self.p.lens.size)

    @staticmethod
    def _table(rows: list[list], images: np.ndarray, size: int) -> pa.Table:
        cols = list(zip(*rows))
        arrays = [
            pa.array(cols[0]),
            pa.array(np.array(cols[1], np.int8)),
            pa.array(cols[2]),
            pa.array(np.array(cols[3], np.int32)),
        ]
        arrays += [pa.array(np.array(c, np.float64)) for c in cols[4:]]
        arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(images.astype(np.float32).reshape(-1)), size * size))
        return pa.Table.from_arrays(arrays, schema=schema(size))

    def analyse(self, table: pa.Table) -> dict:
        """Counts and parameter ranges per class (MLflow metrics and terminal text)."""
        d = {c: table.column(c).to_numpy(zero_copy_only=False) for c in self.summary_columns}
        lines = [f"{'class':<11}{'images':>8}{'theta_E':>14}{'SNR':>12}{'subhalos':>10}{'M_sub':>10}"]
        metrics = {}
        for kind in CLASSES:
            sel = d["substructure"] == kind
            if not sel.any():
                continue
            te, snr = d["theta_e"][sel], d["snr"][sel]
            lines.append(
                f'{kind:<11}{int(sel.sum()):>8}{te.min():>7.2f}-{te.max():.2f}"{snr.min():>6.1f}-{snr.max():<5.1f}'
                f"{d['n_sub'][sel].mean():>10.1f}{np.median(d['m_sub'][sel]):>10.2g}"
            )
            metrics[f"sim/{kind}"] = float(sel.sum())
        return {"rows": [], "metrics": metrics, "series": {}, "text": "\n".join(lines)}

    def report(self, analysis: dict, out_dir) -> list:
        return []
