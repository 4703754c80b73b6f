"""The jets dataset generator: chunks of ``CHUNK`` jets of one process each (one Ray task and one
shard per chunk). Each chunk runs its own Pythia (seeded from the root seed, process and chunk),
passes the visible final state through the calorimeter, clusters the towers with anti-kT and keeps the
two hardest jets with pT in the window and |eta| < eta_max; top jets must contain the b and both W
quarks of a hadronic top (dR < R). The rows are those of :mod:`.rows` (the towers are the
constituents). `physml convert jets FILES` writes the same rows from the top-tagging HDF5 files or
Delphes ROOT trees (:mod:`.reader`), one shard per piece."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa

from physml.tasks.options import BOTH, CONVERT, option
from physml.tasks.sources import Estimate, ItemSource

from .calorimeter import Calorimeter, deposit, eta_phi
from .events import PROCESSES, final_state, hadronic_tops, make_pythia, seed_of
from .files import JetFiles
from .images import wrap
from .rows import CONSTITUENTS, jets_table, pad  # noqa: F401  (CONSTITUENTS: the tasks' columns)
from .substructure import antikt_jets

CHUNK = 500  # jets per shard
MAX_EVENTS = 50  # events tried per jet wanted before a chunk gives up


@dataclass(frozen=True)
class JetParams:
    n: int = option(10000, "jets per process")
    seed: int = option(0, "root seed")
    processes: tuple[str, ...] = option(PROCESSES, "processes: qcd (label 0), top (label 1)", metavar="NAME")
    pt_min: float = option(
        500.0,
        "jet pT window, GeV (converting: Delphes jets)",
        flag="--pt",
        pair="pt_max",
        metavar=("LOW", "HIGH"),
        modes=BOTH,
    )
    pt_max: float = 600.0
    eta_max: float = option(2.0, "jets' |eta| below this", modes=BOTH)
    radius: float = option(0.8, "anti-kT R (converting: constituents within R of a Delphes jet)", modes=BOTH)
    ecm: float = option(14000.0, "sqrt(s), GeV")
    pixels: int = option(40, "image pixels per side", modes=BOTH)
    width: float = option(1.6, "image side in eta and phi (2R)", modes=BOTH)
    calo: Calorimeter = field(default_factory=Calorimeter)
    src: str = option(
        "",
        "jet files: a .h5/.hdf5 or .root file, a directory or a glob (any fsspec URI)",
        modes=CONVERT,
        positional=True,
    )
    files: JetFiles = field(default_factory=JetFiles)

    def __post_init__(self):
        bad = [p for p in self.processes if p not in PROCESSES]
        if bad or not self.processes:
            raise ValueError(f"processes = {' '.join(bad) or '(none)'}: choose from {', '.join(PROCESSES)}")
        if self.n < 1:
            raise ValueError(f"n = {self.n}: must be >= 1")
        if not 0 < self.ecm < 1e6:
            raise ValueError(f"ecm = {self.ecm}: sqrt(s) must be in (0, 1e6) GeV")
        if self.pixels > 1024:
            raise ValueError(f"pixels = {self.pixels}: at most 1024 per side")
        if not 0 <= self.pt_min < self.pt_max:
            raise ValueError(f"pt = {self.pt_min} {self.pt_max}: the pT window is empty (need 0 <= low < high, GeV)")
        if self.pt_max > self.ecm / 2:
            raise ValueError(f"pt = {self.pt_min} {self.pt_max}: above sqrt(s)/2 = {self.ecm / 2} GeV")
        if self.pixels < 1:
            raise ValueError(f"pixels = {self.pixels}: the image needs >= 1 pixel per side")
        if not 0 < self.radius <= 2 or not self.width > 0 or not 0 < self.eta_max <= self.calo.eta_max:
            raise ValueError(
                f"radius = {self.radius}, width = {self.width}, eta_max = {self.eta_max}: need 0 < R "
                f"<= 2, width > 0, 0 < eta_max <= the calorimeter's {self.calo.eta_max}"
            )

    @property
    def pt_hat(self) -> tuple[float, float]:
        """The hard process' pT range (GeV): a margin around the jets' window for radiation."""
        return (0.85 * self.pt_min, 1.15 * self.pt_max)


def contains_top(jet_eta: float, jet_phi: float, tops: list[np.ndarray], radius: float) -> bool:
    """Whether the b and both W quarks of one of ``tops`` lie within ``radius`` of the jet axis."""
    for t in tops:
        _, eta, phi = eta_phi(t[1:])
        if (np.hypot(eta - jet_eta, wrap(phi - jet_phi)) < radius).all():
            return True
    return False


def event_jets(py, p: JetParams, process: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The towers float[k, 4] of each of the (up to two) hardest jets of the current event that pass
    the selection."""
    towers = deposit(final_state(py), p.calo, rng)
    tops = hadronic_tops(py) if process == "top" else []
    jets = []
    for idx in antikt_jets(towers, p.radius, 0.5 * p.pt_min)[:2]:
        pt, eta, phi = (float(v[0]) for v in eta_phi(towers[idx].sum(0)[None]))
        if not (p.pt_min <= pt <= p.pt_max and abs(eta) < p.eta_max):
            continue
        if process == "top" and not contains_top(eta, phi, tops, p.radius):
            continue
        jets.append(towers[idx])
    return jets


class JetsSource(ItemSource):
    kind = "jets"
    params_type = JetParams
    example = "physml simulate jets --n 20000 --out data/jets"
    summary = "top and QCD jets at the LHC (Pythia 8, a calorimeter, anti-kT), jet images, Ray tasks"
    description = (
        "Generate pp -> t tbar (hadronic) and QCD dijet events with Pythia 8, deposit the visible final state "
        "in calorimeter towers (sigma_E/E = a/sqrt(E) + b), cluster anti-kT jets with FastJet, keep the two "
        "hardest jets in the pT window (tops: b and both W quarks inside), and write preprocessed jet images "
        "(centred, rotated, flipped, unit sum), pT, mass, tau_N and the constituent towers. Resumable."
    )
    task = "jets"
    summary_columns = ["process", "pt", "mass", "tau32", "n_constituents", "event"]
    convert_summary = "the top-tagging HDF5 files (pandas, key table) or Delphes ROOT trees"
    convert_description = (
        "Read jet files (the top-tagging reference data, a pandas HDF5 table; or Delphes ROOT trees: the two "
        "hardest jets in the pT window, their particle-flow constituents within R) in pieces of 1000 rows or "
        "events, one Ray task and one shard each, in the schema `physml simulate jets` writes. The jets task "
        "also reads such files in place (data.uri = the files); this makes a copy only where wanted. Resumable."
    )
    convert_example = "physml convert jets toptagging/train.h5 --out data/toptagging-train"

    @cached_property
    def reader(self):
        """The files of ``src`` (convert mode)."""
        from .reader import JetFileReader

        return JetFileReader(self.p.src, self.p)

    def manifest_params(self) -> dict:
        if self.p.src:
            return self.reader.manifest_params()
        d = asdict(self.p)
        d.pop("src"), d.pop("files")  # reading files only: the simulated datasets' params stay as they were
        return {**d, "model": "pythia8"}

    def estimate(self) -> Estimate:
        """A float32 image of pixels^2 and up to ~100 constituents (4 floats) per jet."""
        n = sum(p["rows"] for p in self.reader.pieces()) if self.p.src else len(self.p.processes) * self.p.n
        return Estimate(float(n * (4 * self.p.pixels**2 + 1600 + 200)), float(n), "jets")

    def items(self) -> list[dict]:
        """Simulated: one chunk of ``CHUNK`` jets of one process each; converted: one piece of the files
        each (checked here: missing, truncated or mixed files fail before Ray starts)."""
        if self.p.src:
            return [{k: v for k, v in piece.items() if k != "rows"} for piece in self.reader.pieces()]
        out = []
        for proc in self.p.processes:
            label = PROCESSES.index(proc)
            out += [
                {
                    "path": f"{proc}/chunk-{k:05d}.parquet",
                    "process": proc,
                    "label": label,
                    "chunk": k,
                    "n": min(CHUNK, self.p.n - k * CHUNK),
                }
                for k in range(-(-self.p.n // CHUNK))
            ]
        return out

    def make(self, item: dict) -> pa.Table:
        """``item["n"]`` jets of one process: events until the chunk is full (converted: one piece)."""
        if self.p.src:
            return self.reader.read(item)
        seq = np.random.SeedSequence([self.p.seed, item["label"], item["chunk"]])
        pythia_seq, calo_seq = seq.spawn(2)
        py = make_pythia(item["process"], self.p.ecm, self.p.pt_hat, seed_of(pythia_seq))
        rng = np.random.default_rng(calo_seq)
        jets, events, tried, limit = [], [], 0, MAX_EVENTS * item["n"]
        while len(jets) < item["n"]:
            if tried >= limit:
                raise RuntimeError(
                    f"{item['process']}: {len(jets)} jets in pT {self.p.pt_min}-{self.p.pt_max} GeV "
                    f"after {tried} events; widen the window or check the process"
                )
            tried += 1
            if not py.next():
                continue
            for towers in event_jets(py, self.p, item["process"], rng)[: item["n"] - len(jets)]:
                jets.append(towers)
                events.append(tried - 1)
        base = f"{item['process']}-{self.p.seed}-{item['chunk']:05d}"
        ids = [f"{base}-{i:04d}" for i in range(len(jets))]
        p = self.p
        return jets_table(pad(jets), ids, [item["label"]] * len(jets), events, p.pixels, p.width, p.radius)

    def analyse(self, table: pa.Table) -> dict:
        """Jets, events and median observables per process (MLflow metrics and terminal text)."""
        d = {c: table.column(c).to_numpy(zero_copy_only=False) for c in self.summary_columns}
        lines = [f"{'process':<9}{'jets':>8}{'pT GeV':>16}{'mass GeV':>10}{'tau32':>8}{'towers':>8}"]
        metrics = {}
        for proc in PROCESSES:
            sel = d["process"] == proc
            if not sel.any():
                continue
            pt = d["pt"][sel]
            lines.append(
                f"{proc:<9}{int(sel.sum()):>8}{pt.min():>9.0f}-{pt.max():<6.0f}{np.median(d['mass'][sel]):>10.1f}"
                f"{np.median(d['tau32'][sel]):>8.2f}{np.median(d['n_constituents'][sel]):>8.0f}"
            )
            metrics[f"sim/{proc}_jets"] = float(sel.sum())
            metrics[f"sim/{proc}_median_mass"] = float(np.median(d["mass"][sel]))
        return {"rows": [], "metrics": metrics, "series": {}, "text": "\n".join(lines)}

    def report(self, analysis: dict, out_dir) -> list:
        return []
