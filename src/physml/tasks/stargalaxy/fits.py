"""Real cutouts: a directory of FITS files (one image each, e.g. SDSS r-band cutouts) and an optional
CSV of labels (columns ``id``, ``label`` with 0 = star, 1 = galaxy; ``id`` = the file name without
its extension). Read with astropy; every problem is a one-line :class:`CutoutError`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from physml.errors import CutoutError

SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz")


def _stem(p: Path) -> str | None:
    return next((p.name[: -len(s)] for s in SUFFIXES if p.name.lower().endswith(s)), None)


def find_cutouts(directory: str | Path) -> list[tuple[str, Path]]:
    """(id, path) of every FITS file in ``directory``, sorted by id."""
    d = Path(directory)
    if not d.is_dir():
        raise CutoutError(f"{d}: not a directory")
    found = sorted((s, p) for p in d.iterdir() if (s := _stem(p)) is not None)
    if not found:
        raise CutoutError(f"{d}: no FITS files ({', '.join(SUFFIXES)})")
    return found


def read_cutout(path: Path) -> np.ndarray:
    """float32[H, W] of the first HDU with 2D image data."""
    from astropy.io import fits

    try:
        with fits.open(path) as hdus:
            for hdu in hdus:
                if hdu.data is not None and getattr(hdu, "is_image", False) and np.ndim(hdu.data) == 2:
                    return np.asarray(hdu.data, dtype=np.float32)
    except OSError as err:
        raise CutoutError(f"{path}: not a readable FITS file ({err})") from None
    raise CutoutError(f"{path}: no 2D image data in any HDU")


def read_labels(path: str | Path, ids: list[str]) -> dict[str, int]:
    """{id: 0 star | 1 galaxy} from a CSV with columns id, label; ids must be among ``ids``."""
    known = set(ids)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"id", "label"} <= set(rows[0]):
        raise CutoutError(f"{path}: needs columns id, label (has {', '.join(rows[0])})")
    out = {}
    for i, r in enumerate(rows, start=2):
        if r["id"] not in known:
            raise CutoutError(f"{path} line {i}: id {r['id']!r} has no FITS file")
        if r["label"].strip() not in ("0", "1"):
            raise CutoutError(f"{path} line {i}: label {r['label']!r}; use 0 (star) or 1 (galaxy)")
        out[r["id"]] = int(r["label"])
    return out


def read_directory(directory: str | Path, labels: str | Path | None = None):
    """(ids, images float32[n, H, W], labels int8[n], -1 = unlabelled); all cutouts one size."""
    found = find_cutouts(directory)
    ids = [s for s, _ in found]
    images = [read_cutout(p) for _, p in found]
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        first = images[0].shape
        odd = next(p for (_, p), im in zip(found, images) if im.shape != first)
        raise CutoutError(
            f"{odd}: shape {read_cutout(odd).shape} differs from {found[0][1].name}'s {first}; "
            "cutouts must share one size"
        )
    lab = read_labels(labels, ids) if labels else {}
    return ids, np.stack(images), np.array([lab.get(i, -1) for i in ids], dtype=np.int8)
