"""Pythia 8 events (pythia8mc; Bierlich et al., arXiv 2203.11601) at the LHC: hadronic top pairs
(signal: pp -> t tbar, both W -> q q') and QCD dijets (background), each at a hard-process pT window
around the jets' (``pt_hat``), with multiparton interactions, showers and hadronisation. An event gives
its visible final-state particles and, for tops, the partons of each hadronic top decay (for truth
matching)."""

from __future__ import annotations

import numpy as np

PROCESSES = ("qcd", "top")  # label 0, 1
SETTINGS = {
    "qcd": ["HardQCD:all = on"],
    "top": ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "24:onMode = off", "24:onIfAny = 1 2 3 4 5"],
}
QUIET = ["Print:quiet = on", "Next:numberCount = 0"]


def seed_of(seq: np.random.SeedSequence) -> int:
    """A Pythia seed (1 .. 900,000,000) from a numpy seed sequence."""
    return int(seq.generate_state(1, np.uint64)[0] % 899_999_999) + 1


def make_pythia(process: str, ecm: float, pt_hat: tuple[float, float], seed: int):
    """An initialised Pythia for ``process`` (qcd | top) at sqrt(s) = ``ecm`` GeV."""
    import pythia8mc

    if process not in SETTINGS:
        raise ValueError(f"process = {process!r}: choose one of {', '.join(PROCESSES)}")
    py = pythia8mc.Pythia("", False)
    for s in (
        QUIET
        + SETTINGS[process]
        + [
            f"Beams:eCM = {ecm}",
            f"PhaseSpace:pTHatMin = {pt_hat[0]}",
            f"PhaseSpace:pTHatMax = {pt_hat[1]}",
            "Random:setSeed = on",
            f"Random:seed = {seed}",
        ]
    ):
        if not py.readString(s):
            raise RuntimeError(f"Pythia rejected the setting {s!r}")
    if not py.init():
        raise RuntimeError(f"Pythia failed to initialise for process {process}")
    return py


def final_state(py) -> np.ndarray:
    """float[n, 4] (px, py, pz, E; GeV) of the visible final-state particles (no neutrinos)."""
    rows = [(p.px(), p.py(), p.pz(), p.e()) for p in py.event if p.isFinal() and p.isVisible()]
    return np.array(rows, np.float64).reshape(-1, 4)


def hadronic_tops(py) -> list[np.ndarray]:
    """For each top of the hard process: float[4, 4] of (top, b, q, q') 4-vectors, when its W decays
    to quarks (forced for the signal); the empty list for QCD."""
    proc = py.process
    out = []
    for i in range(proc.size()):
        t = proc[i]
        if t.idAbs() != 6:
            continue
        kids = [proc[k] for k in t.daughterList()]
        b = [k for k in kids if k.idAbs() == 5]
        w = [k for k in kids if k.idAbs() == 24]
        if not b or not w:
            continue
        qs = [proc[k] for k in w[0].daughterList() if proc[k].idAbs() <= 5]
        if len(qs) == 2:
            out.append(np.array([[p.px(), p.py(), p.pz(), p.e()] for p in (t, b[0], *qs)]))
    return out
