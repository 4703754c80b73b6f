"""Reading and writing MRI cases: the PROMISE12 layout (MetaImage, SimpleITK) and NIfTI (nibabel).

A directory holds cases ``<id>.mhd`` (+ ``<id>.raw``) or ``<id>.nii[.gz]``, each with its label
``<id>_segmentation.<same extension>`` (PROMISE12: ``Case00.mhd`` and ``Case00_segmentation.mhd``).
Every volume is returned as a numpy array indexed [z, y, x] in LPS orientation (x towards the
patient's left, y posterior, z superior; ITK's physical frame), with spacing (x, y, z) in mm, so
MetaImage and NIfTI files of the same scan give the same arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from physml.errors import CaseError

LABEL_SUFFIX = "_segmentation"
EXTENSIONS = (".mhd", ".nii.gz", ".nii")


@dataclass
class Case:
    """One volume: image float32[z, y, x], mask uint8[z, y, x] (0/1) or None, spacing (x, y, z) mm."""

    case_id: str
    image: np.ndarray
    mask: np.ndarray | None
    spacing: tuple[float, float, float]


def _ext(path: Path) -> str | None:
    return next((e for e in EXTENSIONS if path.name.endswith(e)), None)


def find_cases(directory: str | Path, labels: bool = True) -> list[tuple[str, Path, Path | None]]:
    """(case id, image path, label path) of every case in ``directory``, sorted by id.

    With ``labels`` a case without its ``_segmentation`` file is an error (PROMISE12's 30 unlabelled
    test volumes are read with ``labels=False``)."""
    d = Path(directory)
    if not d.is_dir():
        raise CaseError(f"{d}: not a directory")
    found = []
    for p in sorted(d.iterdir()):
        ext = _ext(p)
        if ext is None or p.name[: -len(ext)].endswith(LABEL_SUFFIX):
            continue
        case_id = p.name[: -len(ext)]
        label = p.with_name(case_id + LABEL_SUFFIX + ext)
        if labels and not label.exists():
            raise CaseError(f"{p}: no segmentation file {label.name} beside it")
        shape = header_shape(p)
        if label.exists() and header_shape(label) != shape:
            raise CaseError(f"{label}: label shape {header_shape(label)} differs from image shape {shape}")
        found.append((case_id, p, label if label.exists() else None))
    if not found:
        raise CaseError(f"{d}: no cases (expected <id>.mhd or <id>.nii.gz with <id>{LABEL_SUFFIX}.* labels)")
    return found


MET_BYTES = {
    "MET_UCHAR": 1,
    "MET_CHAR": 1,
    "MET_USHORT": 2,
    "MET_SHORT": 2,
    "MET_UINT": 4,
    "MET_INT": 4,
    "MET_FLOAT": 4,
    "MET_ULONG": 8,
    "MET_LONG": 8,
    "MET_DOUBLE": 8,
}


def header_shape(path: Path) -> tuple[int, ...]:
    """Volume shape (x, y, z) from the header alone; for MetaImage also checks that the data file
    exists and holds all the bytes the header promises (a truncated .raw is caught here)."""
    if _ext(path) != ".mhd":
        import nibabel as nib

        try:
            return tuple(int(n) for n in nib.load(str(path)).shape[:3])
        except Exception as err:
            raise CaseError(f"{path}: not a readable NIfTI header ({err})") from None
    head = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            head[key.strip()] = value.strip()
    try:
        shape = tuple(int(n) for n in head["DimSize"].split())
        data = path.parent / head["ElementDataFile"]
        need = int(np.prod(shape)) * MET_BYTES[head["ElementType"]] * int(head.get("ElementNumberOfChannels", 1))
    except (KeyError, ValueError) as err:
        raise CaseError(f"{path}: not a MetaImage header (missing or bad {err})") from None
    if head.get("CompressedData", "False") != "True":
        if not data.exists():
            raise CaseError(f"{path}: its data file {data.name} is missing")
        if data.stat().st_size < need:
            raise CaseError(f"{data}: truncated ({data.stat().st_size} bytes, the header needs {need})")
    return shape


def read_volume(path: str | Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """(array[z, y, x] in LPS, spacing (x, y, z) mm) of a MetaImage or NIfTI file."""
    path = Path(path)
    try:
        if _ext(path) == ".mhd":
            return _read_itk(path)
        return _read_nifti(path)
    except CaseError:
        raise
    except Exception as err:
        first = str(err).strip().splitlines()
        raise CaseError(f"{path}: cannot read ({first[-1] if first else type(err).__name__})") from None


def _read_itk(path: Path):
    import SimpleITK as sitk

    img = sitk.DICOMOrient(sitk.ReadImage(str(path)), "LPS")
    return sitk.GetArrayFromImage(img), tuple(float(s) for s in img.GetSpacing())


def _read_nifti(path: Path):
    import nibabel as nib

    img = nib.as_closest_canonical(nib.load(str(path)))  # RAS+: flip x, y to LPS
    data = np.asarray(img.dataobj)
    if data.ndim != 3:
        raise CaseError(f"{path}: expected a 3D volume, got shape {data.shape}")
    lps = data[::-1, ::-1, :]
    return np.ascontiguousarray(lps.transpose(2, 1, 0)), tuple(float(s) for s in img.header.get_zooms()[:3])


def read_case(case_id: str, image_path: Path, label_path: Path | None) -> Case:
    """A case with its label checked: same shape and spacing as the image, values 0/1 only."""
    image, spacing = read_volume(image_path)
    mask = None
    if label_path is not None:
        label, lspacing = read_volume(label_path)
        if label.shape != image.shape:
            raise CaseError(f"{label_path}: label shape {label.shape} differs from image shape {image.shape}")
        if not np.allclose(lspacing, spacing, rtol=1e-3):
            raise CaseError(f"{label_path}: label spacing {lspacing} differs from image spacing {spacing}")
        values = np.unique(label)
        if not np.isin(values, (0, 1)).all():
            raise CaseError(f"{label_path}: label is not binary (values {values[:8].tolist()}); expected 0 and 1")
        mask = label.astype(np.uint8)
    return Case(case_id, image.astype(np.float32), mask, spacing)


def write_mhd(path: str | Path, array: np.ndarray, spacing: tuple[float, float, float]) -> Path:
    """``array[z, y, x]`` as MetaImage ``path`` (.mhd header + .raw data), LPS, identity direction."""
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(array)
    img.SetSpacing(tuple(float(s) for s in spacing))
    sitk.WriteImage(img, str(path), useCompression=False)
    return Path(path)


def write_nifti(path: str | Path, array: np.ndarray, spacing: tuple[float, float, float]) -> Path:
    """``array[z, y, x]`` (LPS) as NIfTI ``path`` with the RAS affine of the same physical grid."""
    import nibabel as nib

    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    nib.save(nib.Nifti1Image(np.ascontiguousarray(array.transpose(2, 1, 0)), affine), str(path))
    return Path(path)


def case_number(case_id: str) -> int:
    """The integer in a case id ("Case07" -> 7); -1 when there is none."""
    m = re.search(r"(\d+)(?!.*\d)", case_id)
    return int(m.group(1)) if m else -1
