"""Jet rows from constituents, whatever their source (physml's Pythia towers, the top-tagging HDF5
files, Delphes ROOT files): one function, :func:`jets_table`, computes the observables, the jet image
and the constituent lists of a batch of jets at once (numpy over the batch; FastJet per jet for the
N-subjettiness).

Rows: ``id``, ``label`` (0 qcd, 1 top), ``process``, ``event``, ``n_constituents``, ``pt`` GeV,
``eta``, ``phi``, ``mass`` GeV, ``tau1``..``tau3``, ``tau21``, ``tau32``, ``image``
fixed_size_list<float32>[pixels^2] (unit sum) and ``c_pt``, ``c_eta``, ``c_phi``, ``c_e``
(list<float32>, hardest first)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from .calorimeter import eta_phi
from .events import PROCESSES
from .images import jet_images
from .substructure import ratio, tau_n

FLOATS = ["pt", "eta", "phi", "mass", "tau1", "tau2", "tau3", "tau21", "tau32"]
CONSTITUENTS = ["c_pt", "c_eta", "c_phi", "c_e"]
TAUS = ["tau1", "tau2", "tau3", "tau21", "tau32"]


def schema(pixels: int) -> pa.Schema:
    fields = [
        ("id", pa.string()),
        ("label", pa.int8()),
        ("process", pa.string()),
        ("event", pa.int64()),
        ("n_constituents", pa.int32()),
    ]
    fields += [(f, pa.float64()) for f in FLOATS] + [("image", pa.list_(pa.float32(), pixels * pixels))]
    fields += [(c, pa.list_(pa.float32())) for c in CONSTITUENTS]
    return pa.schema(fields, metadata={"image_shape": json.dumps([pixels, pixels])})


def pad(jets: list[np.ndarray]) -> np.ndarray:
    """float[n, max k, 4]: jets' constituents float[k, 4] zero-padded (E = 0 marks padding)."""
    out = np.zeros((len(jets), max((len(j) for j in jets), default=0), 4))
    for i, j in enumerate(jets):
        out[i, : len(j)] = j
    return out


def hardest_first(p4: np.ndarray, keep: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(p4 float[n, k', 4] ordered by falling pT with padding last, the ``keep`` hardest only when
    ``keep`` > 0, no column of padding only; counts int[n] of real constituents (E > 0))."""
    pt = np.hypot(p4[..., 0], p4[..., 1])
    order = np.argsort(np.where(p4[..., 3] > 0, -pt, np.inf), axis=1, kind="stable")[:, : keep or None]
    p4 = np.take_along_axis(p4, order[..., None], axis=1)
    counts = (p4[..., 3] > 0).sum(1)
    return p4[:, : counts.max(initial=0)], counts


def _taus(p4: np.ndarray, counts: np.ndarray, radius: float) -> dict[str, np.ndarray]:
    t = np.array([[tau_n(p4[i, :c], k, radius) for k in (1, 2, 3)] for i, c in enumerate(counts)]).reshape(-1, 3)
    return {
        "tau1": t[:, 0],
        "tau2": t[:, 1],
        "tau3": t[:, 2],
        "tau21": np.array([ratio(b, a) for a, b in t[:, :2]]),
        "tau32": np.array([ratio(c, b) for b, c in t[:, 1:]]),
    }


def _lists(values: np.ndarray, real: np.ndarray, counts: np.ndarray) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values[real].astype(np.float32)))


def jets_table(
    p4: np.ndarray,
    ids: list[str],
    labels,
    events,
    pixels: int,
    width: float,
    radius: float,
    keep: int = 0,
    columns: list[str] | None = None,
) -> pa.Table:
    """The rows of jets float[n, k, 4] (px, py, pz, E in GeV; zero-padded) as a table of
    :func:`schema`: the ``keep`` hardest constituents (all when 0); ``labels`` int[n] (0 qcd, 1 top),
    ``events`` int[n] (the event or file row of each). With ``columns``, only those are computed
    (the image, or the N-subjettiness (FastJet, about 0.5 ms a jet), when asked; otherwise zeros and
    NaN)."""
    p4, counts = hardest_first(p4, keep)
    n, want = len(p4), set(columns or FLOATS + ["image"])
    real = p4[..., 3] > 0
    p4 = p4 * real[..., None]
    pt, eta, phi = eta_phi(p4)
    jpt, jeta, jphi = eta_phi(p4.sum(1))
    s = p4.sum(1)
    cols = {"pt": jpt, "eta": jeta, "phi": jphi, "mass": np.sqrt(np.maximum(s[:, 3] ** 2 - (s[:, :3] ** 2).sum(1), 0))}
    cols.update(_taus(p4, counts, radius) if want & set(TAUS) else {t: np.full(n, np.nan) for t in TAUS})
    image = (
        jet_images(np.where(real, pt, 0.0), eta, phi, jeta, jphi, pixels, width)
        if "image" in want
        else np.zeros((n, pixels, pixels), np.float32)
    )
    labels = np.asarray(labels, np.int8)
    table = {
        "id": list(ids),
        "label": labels,
        "process": [PROCESSES[k] for k in labels],
        "event": np.asarray(events, np.int64),
        "n_constituents": counts.astype(np.int32),
        **{f: np.asarray(cols[f], np.float64) for f in FLOATS},
        "image": pa.FixedSizeListArray.from_arrays(pa.array(image.ravel()), pixels * pixels),
    }
    for name, v in zip(CONSTITUENTS, (pt, eta, phi, p4[..., 3])):
        table[name] = _lists(v, real, counts)
    return pa.Table.from_pydict(table, schema=schema(pixels))


def massless(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """float[k, 4] (px, py, pz, E) of massless particles of pT (GeV), pseudorapidity and azimuth."""
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], 1)
