"""The dayabay dataset: chunks of events of every class (:mod:`.events`) seen by the toy detector.
Rows: ``id``, ``label`` (index in ``CLASSES``), ``kind``, ``energy`` (visible MeV), ``x``, ``y``,
``z`` (m; a muon's entry point, a flasher's PMT), ``charge`` (total p.e.) and ``image``
fixed_size_list<float32>[8 * 24] (p.e. per PMT, ring-major), its shape in the schema's metadata."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource, chunk_items

from .detector import COLUMNS, RINGS, Detector
from .events import CLASSES, MAKERS

CHUNK = 200  #: events per class per shard


@dataclass(frozen=True)
class DayaBayParams:
    n: int = option(4000, "events per class (ibd, delayed, muon, flasher, background)")
    seed: int = option(0, "root seed")

    def __post_init__(self):
        if self.n < 1:
            raise ValueError(f"n = {self.n}: must be >= 1")
        if self.seed < 0:
            raise ValueError(f"seed = {self.seed}: must be >= 0")


def schema() -> pa.Schema:
    fields = [("id", pa.string()), ("label", pa.int8()), ("kind", pa.string())]
    fields += [(c, pa.float64()) for c in ("energy", "x", "y", "z", "charge")]
    fields += [("image", pa.list_(pa.float32(), RINGS * COLUMNS))]
    return pa.schema(fields, metadata={"image_shape": json.dumps([RINGS, COLUMNS])})


class DayaBaySource(ItemSource):
    kind = "dayabay"
    params_type = DayaBayParams
    summary = "reactor-antineutrino detector events (IBD, Gd capture, muons, flashers, background) as PMT images"
    description = (
        "Simulate events in a toy Daya Bay antineutrino detector: 192 PMTs on 8 rings x 24 columns, expected "
        "charges from solid angle, angular acceptance, attenuation and mirror reflectors, Poisson "
        "photoelectrons with single-p.e. smearing (165 p.e./MeV at the centre). Resumable."
    )
    example = "physml simulate dayabay --n 4000 --out data/dayabay"
    summary_columns = ["kind", "energy", "charge"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": "toy-ad"}

    def estimate(self) -> Estimate:
        """192 float32 charges and ~60 bytes of columns per event."""
        n = len(CLASSES) * self.p.n
        return Estimate(float(n * (4 * RINGS * COLUMNS + 60)), float(n), "events")

    def items(self) -> list[dict]:
        return chunk_items(self.p.n, CHUNK)

    def make(self, item: dict) -> pa.Table:
        det, n = Detector(), item["n"]
        parts = []
        for label, kind in enumerate(CLASSES):
            rng = np.random.default_rng([self.p.seed, item["chunk"], label])
            mu, energy, x = MAKERS[kind](det, n, rng)
            parts.append((label, kind, det.observe(mu, rng).reshape(n, -1), energy, x))
        ids, cols = [], {k: [] for k in ("label", "kind", "energy", "x", "y", "z", "charge", "image")}
        for label, kind, q, energy, x in parts:
            ids += [f"{kind}-{self.p.seed}-{item['chunk']:05d}-{i:04d}" for i in range(n)]
            cols["label"].append(np.full(n, label, np.int8))
            cols["kind"] += [kind] * n
            cols["energy"].append(energy)
            for k, c in enumerate("xyz"):
                cols[c].append(x[:, k])
            cols["charge"].append(q.sum(1).astype(np.float64))
            cols["image"].append(q.ravel())
        table = {"id": ids, "kind": cols["kind"]}
        table.update({k: np.concatenate(cols[k]) for k in ("label", "energy", "x", "y", "z", "charge")})
        table["image"] = pa.FixedSizeListArray.from_arrays(pa.array(np.concatenate(cols["image"])), RINGS * COLUMNS)
        return pa.Table.from_pydict(table, schema=schema())

    def analyse(self, table: pa.Table) -> dict:
        """Events and median total charge per class."""
        kind = np.asarray(table.column("kind").to_pylist())
        q, e = table.column("charge").to_numpy(), table.column("energy").to_numpy()
        lines = [f"{'class':<12}{'events':>8}{'median MeV':>12}{'median p.e.':>13}"]
        metrics = {}
        for k in CLASSES:
            sel = kind == k
            if sel.any():
                lines.append(f"{k:<12}{int(sel.sum()):>8}{np.median(e[sel]):>12.2f}{np.median(q[sel]):>13.0f}")
                metrics[f"sim/{k}_median_charge"] = float(np.median(q[sel]))
        return {"rows": [], "metrics": metrics, "series": {}, "text": "\n".join(lines)}
