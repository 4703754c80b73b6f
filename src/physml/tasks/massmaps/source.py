"""The massmaps dataset: convergence patches of several cosmologies (:mod:`.cosmology`, :mod:`.fields`).
Rows: ``id``, ``label`` (index of the cosmology), ``omega_m``, ``sigma8``, ``rms`` and ``skewness`` of
the noiseless map, ``kappa`` (noiseless) and,
when ``ngal`` > 0, ``noisy`` (with shape noise and smoothing), each fixed_size_list<float32>[pixels^2],
row-major, the shape and the pixel size (arcmin) in the schema's metadata."""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource, chunk_items

from .cosmology import convergence_cl, empty_beam_kappa
from .fields import PatchField, noise_sigma, observe

CHUNK = 100  #: maps per cosmology per shard
FIELDS = ("lognormal", "gaussian")


@dataclass(frozen=True)
class MassMapParams:
    n: int = option(2000, "maps per cosmology")
    pixels: int = option(256, "pixels per side")
    size: float = option(3.5, "patch side, degrees")
    cosmologies: tuple[float, ...] = option(
        (0.25, 0.876, 0.35, 0.741),
        "Omega_m sigma_8 of each cosmology, in turn; default: two with S8 = 0.80",
        metavar="X",
    )
    z0: float = option(0.5, "source n(z) ~ z^2 exp(-(z/z0)^1.5)")
    field: str = option("lognormal", "lognormal (shifted by the empty-beam convergence) or gaussian")
    sigma_e: float = option(0.26, "shape noise per shear component")
    ngal: float = option(30.0, "galaxies per arcmin^2 for the noisy maps (0: none)")
    smoothing: float = option(0.0, "Gaussian smoothing of the noisy maps, sigma in arcmin")
    pad: int = option(2, "draw periodic fields this many times larger, then crop")
    seed: int = option(0, "root seed")

    def __post_init__(self):
        if self.n < 1 or self.pixels < 8 or self.pad < 1:
            raise ValueError(f"n = {self.n}, pixels = {self.pixels}, pad = {self.pad}: need >= 1, >= 8, >= 1")
        if not 0 < self.size <= 20:
            raise ValueError(f"size = {self.size}: must be in (0, 20] degrees (flat sky)")
        c = self.cosmologies
        if len(c) < 4 or len(c) % 2 or not all(0.05 < m < 1 and 0.3 < s < 1.5 for m, s in zip(c[::2], c[1::2])):
            raise ValueError(
                f"cosmologies = {list(c)}: give two or more (Omega_m, sigma_8) pairs with 0.05 < Omega_m < 1, "
                "0.3 < sigma_8 < 1.5"
            )
        if self.field not in FIELDS:
            raise ValueError(f"field = {self.field!r}: choose {' or '.join(FIELDS)}")
        if not (self.z0 > 0 and self.sigma_e >= 0 and self.ngal >= 0 and self.smoothing >= 0):
            raise ValueError(f"z0, sigma_e, ngal, smoothing = {self.z0}, {self.sigma_e}, {self.ngal}, "
                             f"{self.smoothing}: need z0 > 0 and the others >= 0")  # fmt: skip

    @property
    def pairs(self) -> list[tuple[float, float]]:
        return list(zip(self.cosmologies[::2], self.cosmologies[1::2]))

    @property
    def pixel_arcmin(self) -> float:
        return self.size * 60 / self.pixels


@functools.lru_cache(maxsize=8)
def patch_field(p: MassMapParams, label: int) -> PatchField:
    """The field of cosmology ``label`` (made once per process: CCL and the spectra take ~0.5 s)."""
    om, s8 = p.pairs[label]
    shift = -empty_beam_kappa(om, s8, p.z0) if p.field == "lognormal" else None
    return PatchField(functools.partial(convergence_cl, om, s8, p.z0), p.pixels, p.size, shift, p.pad)


def schema(pixels: int, pixel_arcmin: float, noisy: bool = True) -> pa.Schema:
    fields = [("id", pa.string()), ("label", pa.int8())]
    fields += [(c, pa.float64()) for c in ("omega_m", "sigma8", "rms", "skewness")]
    fields += [(c, pa.list_(pa.float32(), pixels * pixels)) for c in ("kappa", "noisy")[: 1 + noisy]]
    meta = {"image_shape": json.dumps([pixels, pixels]), "pixel_arcmin": json.dumps(pixel_arcmin)}
    return pa.schema(fields, metadata=meta)


class MassMapSource(ItemSource):
    kind = "massmaps"
    params_type = MassMapParams
    summary = "weak-lensing convergence maps (lognormal, CCL spectra) of cosmologies on the S8 degeneracy"
    description = (
        "Simulate flat-sky convergence patches of two or more flat LCDM cosmologies: C_l from CCL "
        "(Eisenstein-Hu, halofit) for a Smail n(z), shifted-lognormal fields with the empty-beam "
        "convergence as shift, plus shape noise sigma_e / sqrt(n_gal A_pix) and smoothing. Resumable."
    )
    example = "physml simulate massmaps --n 2000 --pixels 128 --out data/massmaps"
    summary_columns = ["label", "rms", "skewness"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": "lognormal-ccl"}

    def estimate(self) -> Estimate:
        n = self.p.n * len(self.p.pairs)
        return Estimate(float(n * (8 * self.p.pixels**2 + 60)), float(n), "maps")

    def items(self) -> list[dict]:
        return chunk_items(self.p.n, CHUNK)

    def make(self, item: dict) -> pa.Table:
        p, n, cols = (
            self.p,
            item["n"],
            {k: [] for k in ("id", "label", "omega_m", "sigma8", "rms", "skewness", "kappa", "noisy")},
        )
        sigma = noise_sigma(p.sigma_e, p.ngal, p.pixel_arcmin)
        for label, (om, s8) in enumerate(p.pairs):
            rng = np.random.default_rng([p.seed, item["chunk"], label])
            kappa = patch_field(p, label).draw(rng, n)
            if sigma > 0:
                cols["noisy"].append(observe(kappa, sigma, p.smoothing, p.pixel_arcmin, rng).ravel())
            cols["kappa"].append(kappa.ravel())
            d = kappa - kappa.mean((1, 2), keepdims=True)
            cols["rms"].append(d.std((1, 2), dtype=np.float64))
            cols["skewness"].append((d.astype(np.float64) ** 3).mean((1, 2)) / cols["rms"][-1] ** 3)
            cols["id"] += [f"map-{p.seed}-{label}-{item['chunk'] * CHUNK + i:06d}" for i in range(n)]
            cols["label"].append(np.full(n, label, np.int8))
            cols["omega_m"].append(np.full(n, om)), cols["sigma8"].append(np.full(n, s8))
        table = {k: (v if k == "id" else np.concatenate(v)) for k, v in cols.items() if v}
        for k in ("kappa", "noisy")[: 1 + (sigma > 0)]:
            table[k] = pa.FixedSizeListArray.from_arrays(pa.array(table[k]), p.pixels**2)
        return pa.Table.from_pydict(table, schema=schema(p.pixels, p.pixel_arcmin, sigma > 0))

    def analyse(self, table: pa.Table) -> dict:
        """Maps, and the mean rms and skewness of the noiseless maps, per cosmology."""
        label, rms, skew = (table.column(c).to_numpy() for c in ("label", "rms", "skewness"))
        lines = [f"{'Omega_m':>8}{'sigma_8':>9}{'maps':>7}{'rms':>10}{'skewness':>10}"]
        metrics = {}
        for k, (om, s8) in enumerate(self.p.pairs):
            sel = label == k
            if sel.any():
                lines.append(
                    f"{om:>8.3f}{s8:>9.3f}{int(sel.sum()):>7}{rms[sel].mean():>10.4f}{skew[sel].mean():>10.3f}"
                )
                metrics[f"sim/rms_{k}"], metrics[f"sim/skewness_{k}"] = float(rms[sel].mean()), float(skew[sel].mean())
        return {"rows": [], "metrics": metrics, "series": {}, "text": "\n".join(lines)}
