"""The stargalaxy-fields dataset generator: chunks of multi-object fields (one Ray task and one
shard each). Rows: ``id``, ``n_objects``, ``n_stars``, ``foreground`` (the mask's fraction), ``image``
fixed_size_list<float32>[S*S] (ADU, sky subtracted) and ``mask`` fixed_size_list<uint8>[S*S]."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource

from .fields import FieldParams, draw_field

CHUNK = 250  # fields per shard


@dataclass(frozen=True)
class FieldsParams:
    n: int = option(2000, "fields")
    seed: int = option(0, "root seed")
    field: FieldParams = field(default_factory=FieldParams)

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n = {self.n}: must be >= 1")


class FieldSource(ItemSource):
    kind = "stargalaxy-fields"
    params_type = FieldsParams
    example = "physml simulate stargalaxy-fields --n 2000 --out data/fields"
    summary = "SDSS-like fields of several stars and galaxies with truth masks (GalSim), Ray tasks"
    description = (
        'Simulate fields at 0.396"/px holding 1 + Poisson(objects - 1) stars and galaxies (as `simulate '
        "stargalaxy`, r 16-21), with truth masks (noiseless flux above 1 sky sigma) for "
        "stargalaxy-segmentation. Resumable."
    )
    task = "stargalaxy-segmentation"
    summary_columns = ["n_objects", "n_stars", "foreground"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": "sdss-r-fields"}

    def estimate(self) -> Estimate:
        """A float32 image and a uint8 mask of size^2 pixels per field."""
        n, s = self.p.n, self.p.field.size
        return Estimate(float(n * (5 * s * s + 100)), float(n), "fields")

    def items(self) -> list[dict]:
        return [
            {"path": f"fields/chunk-{k:05d}.parquet", "chunk": k, "n": min(CHUNK, self.p.n - k * CHUNK)}
            for k in range(-(-self.p.n // CHUNK))
        ]

    def make(self, item: dict) -> pa.Table:
        rng = np.random.default_rng(np.random.SeedSequence([self.p.seed, item["chunk"]]))
        s = self.p.field.size
        rows = [draw_field(rng, self.p.field) for _ in range(item["n"])]
        ids = [f"field-{self.p.seed}-{item['chunk'] * CHUNK + i:06d}" for i in range(len(rows))]
        image = np.concatenate([r["image"].ravel() for r in rows])
        mask = np.concatenate([r["mask"].ravel() for r in rows])
        return pa.Table.from_pydict(
            {
                "id": ids,
                "n_objects": np.array([r["n_objects"] for r in rows], np.int32),
                "n_stars": np.array([r["n_stars"] for r in rows], np.int32),
                "foreground": np.array([r["mask"].mean() for r in rows], np.float64),
                "image": pa.FixedSizeListArray.from_arrays(pa.array(image), s * s),
                "mask": pa.FixedSizeListArray.from_arrays(pa.array(mask), s * s),
            },
            schema=pa.schema(
                [
                    ("id", pa.string()),
                    ("n_objects", pa.int32()),
                    ("n_stars", pa.int32()),
                    ("foreground", pa.float64()),
                    ("image", pa.list_(pa.float32(), s * s)),
                    ("mask", pa.list_(pa.uint8(), s * s)),
                ],
                metadata={"image_shape": json.dumps([s, s])},
            ),
        )

    def analyse(self, table: pa.Table) -> dict:
        d = {c: table.column(c).to_numpy() for c in self.summary_columns}
        text = (
            f"{len(d['n_objects'])} fields, {d['n_objects'].mean():.2f} objects per field "
            f"({d['n_stars'].sum() / max(d['n_objects'].sum(), 1):.0%} stars), foreground {d['foreground'].mean():.1%} "
            "of the pixels"
        )
        return {
            "rows": [],
            "metrics": {"sim/fields": float(len(d["n_objects"])), "sim/foreground": float(d["foreground"].mean())},
            "series": {},
            "text": text,
        }

    def report(self, analysis: dict, out_dir) -> list:
        return []
