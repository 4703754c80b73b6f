"""Where jets come from when physml did not simulate them: the top-tagging reference data (a pandas
HDF5 table, Kasieczka et al., SciPost Phys. 7, 014 (2019)) and Delphes ROOT trees. The reading
parameters, and the files a URI names (one file, a directory, a glob; any fsspec filesystem). No
h5py or uproot here: `physml config` and input errors stay fast."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import fsspec

from physml.tasks.options import CONVERT, option

SUFFIXES = {".h5": "toptagging", ".hdf5": "toptagging", ".root": "delphes"}
FORMATS = ("auto", "toptagging", "delphes")
PARTICLES = ("EFlowTrack", "EFlowPhoton", "EFlowNeutralHadron")


@dataclass(frozen=True)
class JetFiles:
    """How jet files are read (`physml convert jets`, or ``[data.files]`` of a jets config)."""

    format: str = option(
        "auto", "the files' format: auto (by suffix), toptagging (pandas HDF5), delphes (ROOT)", modes=CONVERT
    )
    constituents: int = option(200, "constituents kept per jet, hardest first (more are cut)", modes=CONVERT)
    signal: str = option(
        "*top*,*ttbar*", "delphes: file names matching these patterns hold top jets (label 1)", modes=CONVERT
    )
    tree: str = option("Delphes", "delphes: the tree", modes=CONVERT)
    jet: str = option("Jet", "delphes: the jet branch (PT, Eta, Phi); the two hardest in the window", modes=CONVERT)
    particles: tuple[str, ...] = option(
        PARTICLES, "delphes: constituent branches (PT or ET, Eta, Phi; E for Tower)", modes=CONVERT, metavar="BRANCH"
    )
    key: str = option("table", "toptagging: the pandas key", modes=CONVERT)

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"format = {self.format!r}: choose one of {', '.join(FORMATS)}")
        if self.constituents < 1:
            raise ValueError(f"constituents = {self.constituents}: must be >= 1")
        if not self.particles:
            raise ValueError("particles: name at least one constituent branch (e.g. EFlowTrack or Tower)")

    def is_signal(self, path: str) -> bool:
        """Whether a Delphes file holds top jets: its name matches one of ``signal``'s patterns."""
        name = path.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatch(name, pat.strip()) for pat in self.signal.split(",") if pat.strip())


def looks_like_files(uri: str) -> bool:
    """Whether ``uri`` names jet files rather than a physml dataset: a file or glob with a known
    suffix, or a directory without ``manifest.json`` that holds such files."""
    if not uri:
        return False
    if any(uri.lower().endswith(s) for s in SUFFIXES):
        return True
    try:
        fs, path = fsspec.core.url_to_fs(uri)
        if fs.exists(f"{path.rstrip('/')}/manifest.json"):
            return False
    except (ImportError, ValueError, OSError):
        return False
    return any(f.lower().endswith(tuple(SUFFIXES)) for f in _listing(fs, path))


def _listing(fs, path: str) -> list[str]:
    if any(c in path for c in "*?["):
        return sorted(fs.glob(path))
    if fs.isdir(path):
        return sorted(f for f in fs.find(path) if not f.rsplit("/", 1)[-1].startswith("."))
    return [path] if fs.exists(path) else []


def list_files(uri: str, fmt: str = "auto") -> tuple[fsspec.AbstractFileSystem, list[str], str]:
    """(filesystem, files, format) of a file, directory or glob; ValueError for nothing found, a
    format the suffix does not tell, or several formats mixed."""
    fs, path = fsspec.core.url_to_fs(uri)
    files = [f for f in _listing(fs, path) if f.lower().endswith(tuple(SUFFIXES))]
    if not files:
        raise ValueError(f"{uri}: no jet files (suffixes {', '.join(SUFFIXES)})")
    kinds = {SUFFIXES[s]: f for f in files for s in SUFFIXES if f.lower().endswith(s)}
    if len(kinds) > 1:
        both = ", ".join(f"{f.rsplit('/', 1)[-1]} ({k})" for k, f in sorted(kinds.items()))
        raise ValueError(f"{uri}: mixed formats in one place ({both}); point at one format at a time")
    found = next(iter(kinds))
    if fmt != "auto" and fmt != found:
        raise ValueError(f"{uri}: format = {fmt!r}, but the files are {found} files ({files[0].rsplit('/', 1)[-1]})")
    return fs, files, found
