"""Small jet files in the layouts physml reads: the top-tagging reference data (pandas HDF5, key
``table``, columns E_i, PX_i, PY_i, PZ_i, truthE.., ttv, is_signal_new) and Delphes-like ROOT trees
written with uproot. The jets are toys with the right topology (three prongs for tops, one for QCD)
so that a tagger can learn something; the tests check reading, not physics."""

from __future__ import annotations

import numpy as np
import pandas as pd


def toy_jets(
    n: int, rng: np.random.Generator, size: int = 30, top: bool | None = None, most: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(float[n, size, 4] (px, py, pz, E) zero-padded and pT-ordered, labels int[n]): tops (three
    prongs about 0.3 apart) and QCD jets (one prong), alternating (``top`` None) or all of one kind;
    jet pT about 600 GeV, |eta| < 1; between ``most``/2 and ``most`` (default ``size``) constituents."""
    labels = np.arange(n) % 2 if top is None else np.full(n, int(top))
    out = np.zeros((n, size, 4))
    for j in range(n):
        most_ = most or size
        k = int(rng.integers(most_ // 2, most_ + 1))
        prongs = 3 if labels[j] else 1
        centres = rng.normal(0, 0.3, (prongs, 2)) if prongs > 1 else np.zeros((1, 2))
        which = rng.integers(0, prongs, k)
        deta, dphi = (centres[which] + rng.normal(0, 0.05, (k, 2))).T
        pt = rng.exponential(1.0, k) + 0.01
        pt *= 600 / pt.sum()
        eta, phi = rng.uniform(-1, 1) + deta, rng.uniform(-np.pi, np.pi) + dphi
        p4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], 1)
        out[j, :k] = p4[np.argsort(-pt)]
    return out, labels


def toptagging_frame(n: int, seed: int = 0, size: int = 30, most: int = 0) -> pd.DataFrame:
    """A DataFrame with the top-tagging data's columns (``size`` constituents instead of 200)."""
    p4, labels = toy_jets(n, np.random.default_rng(seed), size, most=most)
    cols = {}
    for name, k in (("E", 3), ("PX", 0), ("PY", 1), ("PZ", 2)):
        cols.update({f"{name}_{i}": p4[:, i, k].astype(np.float32) for i in range(size)})
    truth = p4.sum(1)
    cols.update({"truthE": truth[:, 3], "truthPX": truth[:, 0], "truthPY": truth[:, 1], "truthPZ": truth[:, 2]})
    cols["ttv"] = np.zeros(n, np.int64)
    cols["is_signal_new"] = labels.astype(np.int64)
    return pd.DataFrame(cols)


def write_toptagging(path, n: int, seed: int = 0, size: int = 30, layout: str = "fixed", most: int = 0) -> pd.DataFrame:
    """The file at ``path`` (``layout``: pandas' "fixed" or "table"); returns the frame written."""
    df = toptagging_frame(n, seed, size, most)
    df.to_hdf(path, key="table", format=layout)
    return df


def write_delphes(path, events: int, top: bool, seed: int = 0, tower: bool = False, most: int = 30) -> list[dict]:
    """A Delphes-like ROOT file: tree ``Delphes`` with ``Jet.PT/Eta/Phi`` and ``EFlowTrack.PT``,
    ``EFlowPhoton.ET``, ``EFlowNeutralHadron.ET`` (+ Eta, Phi), or ``Tower.ET/E/Eta/Phi``; one toy jet
    per event (a top or a QCD jet; its particles split between the collections) plus a soft one
    outside the window.
    Returns per event {"jet": (pt, eta, phi), "particles": float[k, 3] (pt, eta, phi)}."""
    import awkward as ak
    import uproot

    rng = np.random.default_rng(seed)
    p4, _ = toy_jets(events, rng, size=most, top=top)
    truth, coll = [], {}
    names = ("Tower",) if tower else ("EFlowTrack", "EFlowPhoton", "EFlowNeutralHadron")
    parts = {c: [] for c in names}
    jets = []
    for e in range(events):
        q = p4[e][p4[e, :, 3] > 0]
        pt = np.hypot(q[:, 0], q[:, 1])
        eta = np.arcsinh(q[:, 2] / pt)
        phi = np.arctan2(q[:, 1], q[:, 0])
        s = q.sum(0)
        jpt = float(np.hypot(s[0], s[1]))
        jets.append(([jpt, 40.0], [float(np.arcsinh(s[2] / jpt)), 0.0], [float(np.arctan2(s[1], s[0])), 3.0]))
        which = rng.integers(0, len(names), len(q))
        for i, c in enumerate(names):
            m = which == i
            parts[c].append((pt[m], eta[m], phi[m], q[m, 3]))
        truth.append({"jet": (jpt, jets[-1][1][0], jets[-1][2][0]), "particles": np.stack([pt, eta, phi], 1)})
    coll["Jet"] = ak.zip({"PT": [j[0] for j in jets], "Eta": [j[1] for j in jets], "Phi": [j[2] for j in jets]})
    for c in names:
        key = "PT" if c == "EFlowTrack" else "ET"
        fields = {key: [p[0] for p in parts[c]], "Eta": [p[1] for p in parts[c]], "Phi": [p[2] for p in parts[c]]}
        if c == "Tower":
            fields["E"] = [p[3] for p in parts[c]]
        coll[c] = ak.zip({k: ak.values_astype(ak.Array(v), np.float32) for k, v in fields.items()})
    with uproot.recreate(path) as f:
        f.mktree(
            "Delphes",
            {k: v.type for k, v in coll.items()},
            counter_name=lambda counted: f"{counted}_size",
            field_name=lambda outer, inner: f"{outer}.{inner}",
        )
        f["Delphes"].extend(coll)
    return truth
