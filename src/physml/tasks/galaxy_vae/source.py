"""Galaxy stamps from GalSim (Rowe et al., Astron. Comput. 10, 121 (2015)): a de Vaucouleurs bulge plus
an exponential disk, sheared, offset by up to half a pixel, convolved with a Moffat PSF (beta 3.5),
drawn on ``stamp`` x ``stamp`` pixels of ``scale`` arcsec, with Gaussian pixel noise of ``noise``.
Distributions: flux log-uniform in ``flux``; disk half-light radius log-normal (median 0.5", 0.3 dex);
bulge radius 0.3-0.7 of it; bulge fraction uniform in [0, 1]; shear |g| Rayleigh(0.2) below 0.7, random
angle. Rows: ``id``, ``flux``, ``hlr`` (disk, arcsec), ``bulge``, ``g1``, ``g2``, ``image``
fixed_size_list<float32>[stamp^2] (counts, noisy), shape in the schema's metadata."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from physml.tasks.options import option
from physml.tasks.sources import Estimate, ItemSource, chunk_items

CHUNK = 1000


@dataclass(frozen=True)
class GalaxyParams:
    n: int = option(20000, "galaxies")
    stamp: int = option(32, "pixels per side")
    scale: float = option(0.2, "pixel size, arcsec")
    psf_fwhm: float = option(0.7, "Moffat PSF FWHM, arcsec")
    noise: float = option(10.0, "Gaussian pixel noise, counts")
    flux: tuple[float, float] = option(
        (10000.0, 100000.0), "flux range, counts (log-uniform; S/N 100-1000)", metavar=("LOW", "HIGH")
    )
    seed: int = option(0, "root seed")

    def __post_init__(self):
        if self.n < 1 or self.stamp < 8:
            raise ValueError(f"n = {self.n}, stamp = {self.stamp}: need n >= 1 and stamp >= 8")
        if not (self.scale > 0 and self.psf_fwhm > 0 and self.noise > 0):
            raise ValueError(f"scale, psf_fwhm, noise = {self.scale}, {self.psf_fwhm}, {self.noise}: must be > 0")
        if not 0 < self.flux[0] < self.flux[1]:
            raise ValueError(f"flux = {list(self.flux)}: need 0 < low < high")


def draw(p: GalaxyParams, flux, hlr, bulge, g1, g2, dx, dy) -> np.ndarray:
    """The noiseless stamp float[stamp, stamp] (counts) of one galaxy."""
    import galsim

    disk = galsim.Exponential(half_light_radius=hlr, flux=flux * (1 - bulge))
    gal = disk + galsim.DeVaucouleurs(half_light_radius=0.5 * hlr, flux=flux * bulge) if bulge > 0 else disk
    gal = gal.shear(g1=g1, g2=g2).shift(dx * p.scale, dy * p.scale)
    psf = galsim.Moffat(beta=3.5, fwhm=p.psf_fwhm)
    return galsim.Convolve([gal, psf]).drawImage(nx=p.stamp, ny=p.stamp, scale=p.scale).array


def schema(stamp: int) -> pa.Schema:
    fields = [("id", pa.string())] + [(c, pa.float64()) for c in ("flux", "hlr", "bulge", "g1", "g2")]
    fields += [("image", pa.list_(pa.float32(), stamp * stamp))]
    return pa.schema(fields, metadata={"image_shape": json.dumps([stamp, stamp])})


class GalaxySource(ItemSource):
    kind = "galaxies"
    params_type = GalaxyParams
    summary = "bulge + disk galaxy stamps (GalSim), PSF and pixel noise"
    description = "Sheared de Vaucouleurs + exponential galaxies convolved with a Moffat PSF, Gaussian noise."
    example = "physml simulate galaxies --n 20000 --out data/galaxies"
    summary_columns = ["flux", "hlr"]

    def manifest_params(self) -> dict:
        return {**asdict(self.p), "model": "bulge-disk"}

    def estimate(self) -> Estimate:
        return Estimate(float(self.p.n * (4 * self.p.stamp**2 + 60)), float(self.p.n), "galaxies")

    def items(self) -> list[dict]:
        return chunk_items(self.p.n, CHUNK)

    def make(self, item: dict) -> pa.Table:
        rng, n, p = np.random.default_rng([self.p.seed, item["chunk"]]), item["n"], self.p
        flux = np.exp(rng.uniform(*np.log(p.flux), n))
        hlr = 0.5 * 10 ** rng.normal(0, 0.3, n)
        bulge = rng.uniform(0, 1, n)
        g = np.minimum(rng.rayleigh(0.2, n), 0.7)
        angle = rng.uniform(0, np.pi, n)
        g1, g2 = g * np.cos(2 * angle), g * np.sin(2 * angle)
        dx, dy = rng.uniform(-0.5, 0.5, (2, n))
        imgs = np.stack([draw(p, *a) for a in zip(flux, hlr, bulge, g1, g2, dx, dy)])
        imgs = imgs + rng.normal(0, p.noise, imgs.shape)
        ids = [f"gal-{p.seed}-{item['chunk'] * CHUNK + i:07d}" for i in range(n)]
        flat = pa.FixedSizeListArray.from_arrays(pa.array(imgs.astype(np.float32).ravel()), p.stamp**2)
        cols = [pa.array(ids)] + [pa.array(v) for v in (flux, hlr, bulge, g1, g2)] + [flat]
        return pa.Table.from_arrays(cols, schema=schema(p.stamp))

    def analyse(self, table: pa.Table) -> dict:
        f = table.column("flux").to_numpy()
        text = f"{len(f)} galaxies, flux {f.min():.0f}..{f.max():.0f} counts (noise {self.p.noise} per pixel)"
        return {"rows": [], "metrics": {"sim/galaxies": float(len(f))}, "series": {}, "text": text}
