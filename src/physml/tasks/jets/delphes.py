"""Delphes ROOT trees (de Favereau et al., JHEP 02 (2014) 057) read with uproot in entry ranges: per
event the jets (``Jet.PT``, ``Jet.Eta``, ``Jet.Phi``, hardest first) and the particle-flow objects
(``EFlowTrack.PT``, ``EFlowPhoton.ET``, ``EFlowNeutralHadron.ET``, with Eta and Phi; or ``Tower.ET``,
``.E``). A jet's constituents are the objects within R of its axis (Delphes' own ``Jet.Constituents``
are ROOT references that uproot does not follow), as massless four-vectors except towers, whose E is
read."""

from __future__ import annotations

import numpy as np

from .images import wrap
from .rows import massless


def branch(tree, collection: str, fields: tuple[str, ...], name: str) -> str:
    """The branch of ``collection``'s first present field among ``fields``: Delphes' own names
    (``Jet.PT``) or uproot's flat ones (``Jet_PT``); ValueError naming what is missing."""
    keys = set(tree.keys(full_paths=False)) | set(tree.keys())
    for field in fields:
        for candidate in (f"{collection}.{field}", f"{collection}_{field}", f"{collection}/{collection}.{field}"):
            if candidate in keys:
                return candidate
    tried = " or ".join(f"{collection}.{f}" for f in fields)
    raise ValueError(f"{name}: tree {tree.name!r} has no branch {tried}")


def collections(tree, jet: str, particles: tuple[str, ...], name: str) -> dict[str, str]:
    """{"jet_pt", "jet_eta", "jet_phi", "<particle>_pt", "_eta", "_phi" (and "_e" for towers)}: branch
    names, checked."""
    out = {f"jet_{k}": branch(tree, jet, (f,), name) for k, f in (("pt", "PT"), ("eta", "Eta"), ("phi", "Phi"))}
    for p in particles:
        out[f"{p}_pt"] = branch(tree, p, ("PT", "ET"), name)
        out[f"{p}_eta"] = branch(tree, p, ("Eta",), name)
        out[f"{p}_phi"] = branch(tree, p, ("Phi",), name)
        if p == "Tower":
            out[f"{p}_e"] = branch(tree, p, ("E",), name)
    return out


def event_arrays(tree, names: dict[str, str], start: int, stop: int) -> dict[str, list]:
    """{key: per-event float64 arrays (views of one flat array)} of entries [start, stop)."""
    import awkward as ak

    got = tree.arrays(list(names.values()), entry_start=start, entry_stop=stop, library="ak")
    out = {}
    for k, b in names.items():
        flat = ak.to_numpy(ak.flatten(got[b], axis=1)).astype(np.float64)
        out[k] = np.split(flat, np.cumsum(ak.to_numpy(ak.num(got[b], axis=1)))[:-1])
    return out


def event_particles(ev: dict[str, list], i: int, particles: tuple[str, ...]) -> np.ndarray:
    """float[k, 4] (px, py, pz, E) of event ``i``'s constituent candidates."""
    parts = []
    for p in particles:
        pt, eta, phi = (np.asarray(ev[f"{p}_{k}"][i]) for k in ("pt", "eta", "phi"))
        p4 = massless(pt, eta, phi)
        if f"{p}_e" in ev:
            p4[:, 3] = np.maximum(np.asarray(ev[f"{p}_e"][i]), np.hypot(np.hypot(p4[:, 0], p4[:, 1]), p4[:, 2]))
        parts.append(p4)
    return np.concatenate(parts) if parts else np.zeros((0, 4))


def selected_jets(ev: dict[str, list], i: int, pt: tuple[float, float], eta_max: float) -> list[tuple[float, float]]:
    """(eta, phi) of the (up to two) hardest jets of event ``i`` with pT in ``pt`` (GeV) and |eta| <
    ``eta_max``."""
    order = np.argsort(-np.asarray(ev["jet_pt"][i]), kind="stable")[:2]
    out = []
    for j in order:
        jpt, jeta, jphi = (float(ev[f"jet_{k}"][i][j]) for k in ("pt", "eta", "phi"))
        if pt[0] <= jpt <= pt[1] and abs(jeta) < eta_max:
            out.append((jeta, jphi))
    return out


def within(p4: np.ndarray, eta: float, phi: float, radius: float) -> np.ndarray:
    """The rows of ``p4`` within ``radius`` of (eta, phi) in (pseudorapidity, azimuth)."""
    if not len(p4):
        return p4
    pt = np.hypot(p4[:, 0], p4[:, 1])
    p = np.maximum(np.hypot(pt, p4[:, 2]), 1e-12)
    peta = np.arctanh(np.clip(p4[:, 2] / p, -1 + 1e-12, 1 - 1e-12))
    dr = np.hypot(peta - eta, wrap(np.arctan2(p4[:, 1], p4[:, 0]) - phi))
    return p4[(dr < radius) & (pt > 0)]
