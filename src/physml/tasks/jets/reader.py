"""Jet files read in place (no copy): the top-tagging HDF5 table and Delphes ROOT trees as rows of
the ``jets`` schema (:mod:`.rows`), in pieces of ``PIECE`` file rows or events, one read task each.
`physml convert jets` writes the same pieces as shards, so both paths give the same rows."""

from __future__ import annotations

import contextlib
import functools
import warnings
from dataclasses import asdict
from functools import cached_property

import numpy as np
import pyarrow as pa

from physml.tasks.sources import FileReader

from .files import list_files
from .rows import jets_table, pad
from .source import CHUNK, JetParams

PIECE = 2 * CHUNK  #: file rows (top tagging) or events (Delphes) per piece: one chunk of both processes


def stem(path: str) -> str:
    """A file's name without directory and suffix: the prefix of its rows' ids."""
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


@functools.lru_cache(maxsize=8)
def reader_of(src: str, p: JetParams) -> JetFileReader:
    """One reader per (files, settings) in a process: its listing and pieces (every file opened for its
    metadata) are made once, however many splits and checks ask for them."""
    return JetFileReader(src, p)


class JetFileReader(FileReader):
    """The files ``src`` names (a file, directory or glob on any fsspec filesystem), read with the
    image, window and constituent settings of ``p`` (its ``files`` say the format and branches)."""

    kind = "jets"

    def __init__(self, src: str, p: JetParams):
        self.src, self.p = src, p

    @cached_property
    def _listing(self):
        try:
            return list_files(self.src, self.p.files.format)
        except (ImportError, OSError) as err:
            raise ValueError(f"{self.src}: cannot list ({err})") from None

    @property
    def format(self) -> str:
        return self._listing[2]

    @contextlib.contextmanager
    def _open(self, path: str):
        """The file as h5py or uproot opens it: its local path, else an fsspec file object (ranged reads)."""
        fs = self._listing[0]
        protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        if "file" in protocols or "local" in protocols:
            yield path
            return
        with fs.open(path, "rb") as f:
            yield f

    @contextlib.contextmanager
    def _frame(self, path: str):
        import h5py

        from .hdf5 import PandasFrame

        with self._open(path) as src:
            try:
                f = h5py.File(src, "r")
            except (OSError, ValueError) as err:
                raise ValueError(f"{path}: unreadable HDF5 ({err}); truncated or not HDF5?") from None
            with f:
                yield PandasFrame(f, self.p.files.key, path)

    @contextlib.contextmanager
    def _tree(self, path: str):
        import uproot

        with self._open(path) as src:
            try:
                f = uproot.open(src)
            except Exception as err:  # uproot raises many kinds for a truncated or foreign file
                raise ValueError(f"{path}: unreadable ROOT file ({type(err).__name__}: {err}); truncated?") from None
            with f:
                tree = self.p.files.tree
                if tree not in f:
                    have = ", ".join(k.split(";")[0] for k in f.keys()) or "nothing"
                    raise ValueError(f"{path}: no tree {tree!r} (found {have})")
                yield f[tree]

    def _entries(self, path: str) -> int:
        """Rows (top tagging) or events (Delphes) of one file, its structure checked."""
        if self.format == "toptagging":
            from .hdf5 import LABEL, constituents_in

            with self._frame(path) as frame:
                constituents_in(frame)
                frame.read([LABEL], 0, 0)
                return frame.rows
        from .delphes import collections

        with self._tree(path) as tree:
            collections(tree, self.p.files.jet, self.p.files.particles, path)
            return int(tree.num_entries)

    @cached_property
    def _pieces(self) -> list[dict]:
        out = []
        for path in self._listing[1]:
            n = self._entries(path)
            for k, start in enumerate(range(0, n, PIECE)):
                stop = min(n, start + PIECE)
                rows = stop - start if self.format == "toptagging" else 2 * (stop - start)
                out.append(
                    {
                        "path": f"{stem(path)}/rows-{start:09d}.parquet",
                        "file": path,
                        "start": start,
                        "stop": stop,
                        "rows": rows,
                        "chunk": k,
                    }
                )
        return out

    def pieces(self) -> list[dict]:
        return [dict(p) for p in self._pieces]

    def manifest_params(self) -> dict:
        p = self.p
        keep = ("pixels", "width", "radius", "pt_min", "pt_max", "eta_max")
        return {"model": self.format, "src": self.src, **{k: getattr(p, k) for k in keep}, "files": asdict(p.files)}

    def describe(self) -> str:
        files = self._listing[1]
        return f"{len(files)} {self.format} file(s) read in place, {len(self._pieces)} piece(s) of up to {PIECE}"

    def read(self, piece: dict, columns: list[str] | None = None) -> pa.Table:
        """Rows of one piece; with ``columns``, the image and the N-subjettiness only when asked."""
        p4, ids, labels, events = self._toptagging(piece) if self.format == "toptagging" else self._delphes(piece)
        p, keep = self.p, self.p.files.constituents
        return jets_table(p4, ids, labels, events, p.pixels, p.width, p.radius, keep, columns)

    def _cut(self, path: str, counts: np.ndarray) -> None:
        keep = self.p.files.constituents
        if (counts > keep).any():
            warnings.warn(
                f"{path}: jets with up to {counts.max()} constituents; the {keep} hardest of each are kept "
                "(files.constituents)",
                stacklevel=3,
            )

    def _toptagging(self, piece: dict) -> tuple:
        """(constituents float[n, N, 4] zero-padded, ids, labels, file rows) of one row range."""
        from .hdf5 import constituents_in, four_vectors

        path, start, stop = piece["file"], piece["start"], piece["stop"]
        with self._frame(path) as frame:
            p4, labels = four_vectors(frame, start, stop, constituents_in(frame))
        self._cut(path, (p4[:, :, 3] > 0).sum(1))
        rows = np.arange(start, stop)
        return p4, [f"{stem(path)}-{r:08d}" for r in rows], labels, rows

    def _delphes(self, piece: dict) -> tuple:
        """(constituents float[n, k, 4] zero-padded, ids, labels, events): the selected jets of an
        entry range."""
        from .delphes import collections, event_arrays, event_particles, selected_jets, within

        path, start, stop, f = piece["file"], piece["start"], piece["stop"], self.p.files
        with self._tree(path) as tree:
            ev = event_arrays(tree, collections(tree, f.jet, f.particles, path), start, stop)
        label, jets, ids, events = int(f.is_signal(path)), [], [], []
        for i in range(stop - start):
            parts = event_particles(ev, i, f.particles)
            if not np.isfinite(parts).all():
                raise ValueError(f"{path}: event {start + i}: non-finite constituent four-vectors; clean or skip it")
            for j, (eta, phi) in enumerate(selected_jets(ev, i, (self.p.pt_min, self.p.pt_max), self.p.eta_max)):
                c = within(parts, eta, phi, self.p.radius)
                if len(c):
                    jets.append(c)
                    ids.append(f"{stem(path)}-{start + i:08d}-{j}")
                    events.append(start + i)
        self._cut(path, np.array([len(c) for c in jets] or [0]))
        return pad(jets), ids, [label] * len(jets), events
