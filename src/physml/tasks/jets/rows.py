"""One jet row from its constituents, whatever their source (physml's Pythia towers, the top-tagging
HDF5 files, Delphes ROOT files): observables, the jet image and the constituents, hardest first.

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
from .images import jet_image
from .substructure import mass, ratio, tau_n

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


def jet_row(p4: np.ndarray, pixels: int, width: float, radius: float, keep: int = 0, substructure: bool = True) -> dict:
    """The observables, image and constituents of one jet from its constituents float[k, 4] (px, py,
    pz, E; GeV), the ``keep`` hardest only when ``keep`` > 0. ``substructure = False`` leaves the
    N-subjettiness (FastJet, about 0.5 ms a jet) at NaN for readers that do not ask for it."""
    pt, eta, phi = eta_phi(p4)
    order = np.argsort(-pt, kind="stable")[: keep or None]
    p4, pt, eta, phi = p4[order], pt[order], eta[order], phi[order]
    j = p4.sum(0)[None]
    jpt, jeta, jphi = (float(v[0]) for v in eta_phi(j))
    taus = [tau_n(p4, k, radius) for k in (1, 2, 3)] if substructure else [np.nan] * 3
    return {
        "pt": jpt,
        "eta": jeta,
        "phi": jphi,
        "mass": mass(p4),
        "tau1": taus[0],
        "tau2": taus[1],
        "tau3": taus[2],
        "tau21": ratio(taus[1], taus[0]) if substructure else np.nan,
        "tau32": ratio(taus[2], taus[1]) if substructure else np.nan,
        "n_constituents": len(p4),
        "image": jet_image(pt, eta, phi, jeta, jphi, pixels, width).ravel(),
        "c_pt": pt,
        "c_eta": eta,
        "c_phi": phi,
        "c_e": p4[:, 3],
    }


def jets_table(rows: list[dict], ids: list[str], labels, events, pixels: int) -> pa.Table:
    """The rows (from :func:`jet_row`) as one table of :func:`schema`; ``labels`` int[n] (0 qcd, 1
    top), ``events`` int[n]: the event (or file row) each jet came from."""
    labels = np.asarray(labels, np.int8)
    cols = {
        "id": list(ids),
        "label": labels,
        "process": [PROCESSES[k] for k in labels],
        "event": np.asarray(events, np.int64),
        "n_constituents": np.array([r["n_constituents"] for r in rows], np.int32),
    }
    cols.update({f: np.array([r[f] for r in rows], np.float64) for f in FLOATS})
    flat = np.concatenate([r["image"] for r in rows]) if rows else np.zeros(0, np.float32)
    cols["image"] = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), pixels * pixels)
    cols.update({c: pa.array([r[c].astype(np.float32) for r in rows], pa.list_(pa.float32())) for c in CONSTITUENTS})
    return pa.Table.from_pydict(cols, schema=schema(pixels))


def massless(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """float[k, 4] (px, py, pz, E) of massless particles of pT (GeV), pseudorapidity and azimuth."""
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], 1)
