"""The prostate dataset generator: simulated PROMISE12-format cases, or a directory of real ones.

Both paths go through the same reader: a simulated case is written as ``CaseNN.mhd`` +
``CaseNN_segmentation.mhd`` (to ``raw`` when given, else a temporary directory) and read back by
:func:`volumes.read_case` before it becomes rows. The platform runs ``make(item)`` for every item in
parallel (``items()`` are independent: one case each) and writes one shard per case.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from physml.tasks.options import BOTH, CONVERT, option
from physml.tasks.sources import Estimate, ItemSource

from .phantom import SITES, Z_EXTENT, phantom
from .slices import case_rows
from .volumes import CaseError, find_cases, read_case, write_mhd


@dataclass(frozen=True)
class ProstateParams:
    """What defines a prostate dataset (its manifest params)."""

    cases: int = option(50, "simulated cases (PROMISE12's labelled set has 50)")
    sites: str = option("ABCD", "sites dealt to cases in turn, letters of ABCD")
    size: int = option(64, "pixels per side of a slice after resampling and centre crop", modes=BOTH)
    spacing: float = option(2.0, "in-plane pixel size after resampling, mm", modes=BOTH)
    seed: int = option(0, "root seed of the simulated cases")
    depth: int = option(0, "0 = one row per slice (2D); D >= 2 = one row per slab of D slices (3D patches)", modes=BOTH)
    src: str = option("", "directory of cases (PROMISE12 layout or NIfTI)", modes=CONVERT, positional=True)
    raw: str = option("", "also keep the simulated PROMISE12 files in this local directory")

    def __post_init__(self):
        if self.cases < 1:
            raise ValueError(f"cases = {self.cases}: must be >= 1")
        bad = [s for s in self.sites if s not in SITES]
        if bad or not self.sites:
            raise ValueError(f"sites = {self.sites!r}: use letters of {''.join(SITES)}")
        if self.size < 8:
            raise ValueError(f"size = {self.size}: must be >= 8 pixels")
        if not 0.1 <= self.spacing <= 10:
            raise ValueError(f"spacing = {self.spacing}: must be in 0.1..10 mm")
        if self.depth == 1 or self.depth < 0:
            raise ValueError(f"depth = {self.depth}: 0 (2D slices) or >= 2 (3D slabs)")
        if self.seed < 0:
            raise ValueError(f"seed = {self.seed}: must be >= 0")


class ProstateSource(ItemSource):
    """Items = cases; ``make`` turns one into the rows of :mod:`slices`."""

    kind = "prostate"
    params_type = ProstateParams
    summary = "simulated PROMISE12-format T2w prostate MRI cases, one Ray task each"
    description = (
        "Simulate prostate MRI cases from several sites (resolution, contrast, noise, endorectal coil), write "
        "each as PROMISE12 CaseNN.mhd + CaseNN_segmentation.mhd, read it back with the PROMISE12 reader, "
        "resample and slice it into shards at --out. Resumable."
    )
    convert_summary = "<id>.mhd or <id>.nii.gz cases with <id>_segmentation.* labels"
    convert_description = "Resample cases to a common in-plane grid, one shard per case."
    example = "physml simulate prostate --cases 50 --out data/prostate"
    convert_example = "physml convert prostate path/to/PROMISE12/TrainingData --out data/promise12"
    task = "prostate"  # MLflow experiment of `physml simulate prostate`
    summary_columns = ["case", "site", "slice", "foreground", "spacing_x", "spacing_y", "spacing_z", "labelled"]

    def manifest_params(self) -> dict:
        d = asdict(self.p)
        d["model"] = "t2w"
        d.pop("raw")  # where copies went does not define the data
        if self.p.src:
            d["src"] = str(Path(self.p.src).resolve())
            d.pop("cases"), d.pop("seed"), d.pop("sites")
        return d

    def estimate(self) -> Estimate | None:
        """Simulated cases: each site's slices (Z_EXTENT / thickness) of size^2 float32 image +
        uint8 label pixels (+ about 100 bytes of columns); unknown for a directory of real cases."""
        if self.p.src:
            return None
        sites = [SITES[self.p.sites[i % len(self.p.sites)]] for i in range(self.p.cases)]
        slices = sum(round(Z_EXTENT / s.thickness) for s in sites)
        return Estimate(float(slices * (5 * self.p.size**2 + 100)), float(self.p.cases), "cases")

    def items(self) -> list[dict]:
        """One per case: {"path": shard name, "case": id, ...}. Reading a directory checks its layout."""
        if self.p.src:
            return [
                {
                    "path": f"cases/{cid}.parquet",
                    "case": cid,
                    "image": str(img),
                    "label": str(lab) if lab else "",
                    "site": "real",
                }
                for cid, img, lab in find_cases(self.p.src)
            ]
        return [
            {
                "path": f"cases/Case{i:02d}.parquet",
                "case": f"Case{i:02d}",
                "index": i,
                "site": self.p.sites[i % len(self.p.sites)],
            }
            for i in range(self.p.cases)
        ]

    def make(self, item: dict) -> pa.Table:
        """Rows of one case (simulated cases are written as PROMISE12 files and read back)."""
        if self.p.src:
            case = read_case(item["case"], Path(item["image"]), Path(item["label"]) if item["label"] else None)
            return case_rows(case, item["site"], self.p.size, self.p.spacing, self.p.depth)
        image, mask, spacing = phantom(self.p.seed, item["index"], item["site"])
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(self.p.raw) if self.p.raw else Path(tmp)
            d.mkdir(parents=True, exist_ok=True)
            img = write_mhd(d / f"{item['case']}.mhd", image, spacing)
            lab = write_mhd(d / f"{item['case']}_segmentation.mhd", mask, spacing)
            case = read_case(item["case"], img, lab)
        return case_rows(case, item["site"], self.p.size, self.p.spacing, self.p.depth)

    def analyse(self, table: pa.Table) -> dict:
        """Cases, slices and gland volume (cc) per site; metrics for MLflow; terminal text."""
        d = {c: table.column(c).to_numpy(zero_copy_only=False) for c in self.summary_columns}
        voxel = d["spacing_x"] * d["spacing_y"] * d["spacing_z"] / 1000.0
        rows, lines = [], [f"{'site':<6}{'cases':>6}{'slices':>8}{'gland cc':>12}{'gland rows':>14}"]
        for site in sorted(set(d["site"])):
            sel = d["site"] == site
            cases = sorted(set(d["case"][sel]))
            cc = np.array([(d["foreground"] * voxel)[sel & (d["case"] == c)].sum() for c in cases])
            fg = np.mean(d["foreground"][sel] > 0)  # of rows (slices or slabs) holding gland
            rows.append(
                {
                    "site": site,
                    "cases": len(cases),
                    "slices": int(sel.sum()),
                    "gland_cc": float(cc.mean()),
                    "gland_cc_sd": float(cc.std()),
                    "gland_row_fraction": float(fg),
                }
            )
            lines.append(f"{site:<6}{len(cases):>6}{int(sel.sum()):>8}{cc.mean():>7.1f} +-{cc.std():>4.1f}{fg:>14.2f}")
        n_cases = len(set(d["case"]))
        metrics = {
            "sim/cases": float(n_cases),
            "sim/slices": float(len(d["case"])),
            "sim/labelled_cases": float(len(set(d["case"][d["labelled"]]))),
        }
        return {"rows": rows, "metrics": metrics, "series": {}, "text": "\n".join(lines)}

    def report(self, analysis: dict, out_dir) -> list:
        """tables/summary.csv under ``out_dir``."""
        from physml.tasks.figures import write_rows_csv

        return [write_rows_csv(analysis["rows"], Path(out_dir) / "tables" / "summary.csv")]


__all__ = ["ProstateParams", "ProstateSource", "CaseError"]
