"""Data-source contracts: what a generator of a dataset provides, and how the platform runs it.

Every dataset physml writes is a directory of Parquet shards plus ``manifest.json`` (see the docs'
"Datasets" page). It is written by a *data source*, one of two capabilities:

* :class:`ChainSampler`: Markov chains. The platform's chain actors (``physml.platform.data.ensemble``)
  advance deterministic *units* of chains step by step, and write each step's rows as one shard. A
  unit's rows depend on the root seed and the unit only, never on how units are spread over actors,
  so a killed run resumes from the saved chain states without losing or duplicating a row.
* :class:`ItemSource`: independent items (an MRI case, a chunk of jets, a batch of lens images). The
  platform makes each item in a Ray task (``physml.platform.data.items``) and writes one shard per item.

Both share :class:`DataSource`: a kind, the manifest parameters that define the data, a constructor
from plain values, and the analysis and figures shown at the end of `physml simulate`.

A task that can also write data with a trained model (e.g. a generative network writing Ising
configurations in the simulator's schema) implements :class:`Generator` beside :class:`Task`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Estimate:
    """What making a dataset costs, known before it starts."""

    bytes: float  # written to the target (uncompressed rows: an upper bound of the Parquet size)
    work: float  # elementary updates or items made
    unit: str  # what ``work`` counts: "spin updates", "images", ...


def human_bytes(n: float) -> str:
    """``n`` bytes as 1.23 kB, MB, GB, ... (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"


class DataSource(ABC):
    """A generator of one dataset ``kind``, defined by its parameters ``p`` (a frozen dataclass).

    Subclasses set ``kind`` (the manifest's kind, e.g. "ising"), ``task`` (the MLflow experiment of
    `physml simulate`) and ``summary_columns`` (the columns :meth:`analyse` reads back).
    """

    kind: ClassVar[str]
    summary_columns: ClassVar[list[str]]
    params_type: ClassVar[type]  #: the parameter dataclass; its ``option()`` fields are command-line options
    summary: ClassVar[str] = ""  #: one line in `physml simulate --help`
    description: ClassVar[str] = ""  #: the text of `physml simulate KIND --help`
    example: ClassVar[str] = ""  #: a command line shown under `physml simulate KIND --help`
    convert_summary: ClassVar[str] = ""  #: set when the source also reads real files (`physml convert KIND`)
    convert_description: ClassVar[str] = ""
    convert_example: ClassVar[str] = ""
    detect_summary: ClassVar[str] = ""  #: set when the source also labels data (`physml detect KIND`)
    detect_description: ClassVar[str] = ""
    detect_example: ClassVar[str] = ""
    #: bump when the source's rows change for the same parameters (a fixed or improved generator): a
    #: task's cached simulation is keyed by it too, so an old cache is not reused (0: never bumped)
    revision: ClassVar[int] = 0
    p: Any

    def __init__(self, params: Any):
        self.p = params

    @property
    def task(self) -> str:
        """The MLflow experiment of `physml simulate` (default: ``kind``)."""
        return self.kind

    @classmethod
    def from_dict(cls, d: dict) -> DataSource:
        """The source from plain values (a TOML table, a manifest's params; lists for tuples, dicts for
        nested dataclasses); a missing key keeps its default."""
        from physml.tasks.options import from_plain

        return cls(from_plain(cls.params_type, d))

    @classmethod
    def of(cls, params: Any) -> DataSource:
        """The source of ``params``: an instance of ``params_type`` or a dict of plain values."""
        return cls(params) if isinstance(params, cls.params_type) else cls.from_dict(params)

    @abstractmethod
    def manifest_params(self) -> dict:
        """JSON-able parameters that define the dataset: resuming a directory requires equality."""

    @abstractmethod
    def analyse(self, table: pa.Table) -> dict:
        """Summary of the finished dataset (``summary_columns`` only): ``{"rows": list, "metrics":
        {name: float}, "series": {name: list[float]}, "text": str}`` and optionally ``"brief"``: a few
        lines for `physml simulate --brief`; metrics are logged to MLflow (namespaced ``sim/...``), the
        text printed."""

    def report(self, analysis: dict, out_dir: str | Path) -> list[Path]:
        """Figures and tables of :meth:`analyse`'s result under ``out_dir`` (default: none)."""
        return []

    def dataset_uri(self, out: str) -> str:
        """Where the dataset (its manifest and shards) is kept for ``--out``: ``out`` itself (default),
        or a directory beside it when ``out`` names one file that :meth:`finish` writes at the end."""
        return out

    def finish(self, out: str, dataset: str) -> None:
        """Called once the dataset at ``dataset`` is complete (e.g. to gather its shards into the one
        file ``out`` names). Default: nothing."""
        return None

    def summary_table(self, uri: str) -> pa.Table | None:
        """The ``summary_columns`` of the finished dataset at ``uri`` when its shards are files in a
        field's own format (:meth:`ItemSource.make` gave bytes); None (default): read from the Parquet
        shards by the platform."""
        return None

    def estimate(self) -> Estimate | None:
        """The size of the dataset before it is made (bytes written, work done), shown before a
        simulation starts and checked against the free space of its target. Default: unknown."""
        return None


class Unit(Protocol):
    """A group of chains advanced together; ``index`` is unique and deterministic."""

    index: int


class ChainSampler(DataSource):
    """Markov chains in units, each unit advanced along a fixed plan of steps.

    A step is ``(burn, nrec)``: ``burn`` sweeps discarded, then ``nrec`` records per chain (each
    ``every`` sweeps apart, as the sampler defines). The chain state is a dict of numpy arrays that
    holds everything the next step needs, the RNG state included, so a step re-run from a saved state
    returns the same rows.
    """

    work_unit: ClassVar[str] = "update"  #: what :meth:`work` counts (progress bars: "flip" for spins)

    @abstractmethod
    def units(self) -> list[Unit]:
        """All units of the dataset, in a deterministic order."""

    @abstractmethod
    def plan(self, unit: Unit) -> list[tuple[int, int]]:
        """The unit's steps: ``[(burn sweeps, records per chain), ...]``; one shard per recording step."""

    @abstractmethod
    def init_state(self, unit: Unit) -> dict[str, np.ndarray]:
        """The unit's starting state (configurations and RNG state), from the root seed alone."""

    @abstractmethod
    def step(self, unit: Unit, state: dict[str, np.ndarray], burn: int, nrec: int) -> tuple[dict, pa.Table | None]:
        """Advance ``unit`` from ``state`` by ``burn`` sweeps, then record ``nrec`` rows per chain:
        (new state, the rows or None when ``nrec`` is 0). ``state`` is not modified."""

    @abstractmethod
    def work(self, unit: Unit, burn: int, nrec: int) -> float:
        """Elementary updates (``work_unit``) that one step of ``unit`` performs (progress, rates)."""

    def resources(self) -> dict[str, float]:
        """What one chain actor asks of Ray (e.g. ``{"num_cpus": 1, "num_gpus": 1}`` for GPU chains).
        Default: one CPU."""
        return {"num_cpus": 1}

    def shard_group(self, unit: Unit) -> dict[str, int | str]:
        """Manifest fields of the unit's shards, also their directory (e.g. ``{"L": 32}`` -> ``L32/``);
        readers select shards by them (``DatasetSpec.where``). Default: none."""
        return {}


def chunk_items(n: int, size: int) -> list[dict]:
    """Items of ``n`` things in chunks of ``size``: ``{"path": "chunk-KKKKK.parquet", "chunk": k, "n": ...}``."""
    return [{"path": f"chunk-{k:05d}.parquet", "chunk": k, "n": min(size, n - k * size)} for k in range(-(-n // size))]


class ItemSource(DataSource):
    """Independent items, one shard each."""

    @abstractmethod
    def items(self) -> list[dict]:
        """Every item: ``{"path": shard path, ...what make needs}``; scalar str/int/float fields are
        copied into the manifest's shard entry (so readers can select by them). Checking a source's
        input (e.g. a directory's layout) happens here, before Ray starts."""

    @abstractmethod
    def make(self, item: dict) -> pa.Table | bytes:
        """The rows of one item (deterministic: from the root seed and the item alone): a table, written
        as a Parquet shard, or the bytes of a file in the field's own format (e.g. CF NetCDF), written
        as it is; then the item has ``"rows"``, its row count for the manifest."""


class StoreWriter(ABC):
    """An :class:`ItemSource` capability: writing each made item into one store of the field's own format
    (e.g. a region of a Zarr store) instead of a shard file of its own."""

    @abstractmethod
    def put(self, out: str, item: dict, made: pa.Table | bytes) -> int | None:
        """Write ``made`` (what :meth:`ItemSource.make` returned for ``item``) into ``out`` and return its
        rows; None: ``out`` is not such a store, the platform writes a shard. Called in the driver, the
        single writer, once per item; the platform records the item in the manifest after it."""


class FileReader(ABC):
    """Files in a field's own format (the top-tagging HDF5 table, Delphes ROOT trees, ...) read in place
    as rows of ``kind``, piece by piece: a piece is a file or a range of its rows, read in one Ray Data
    read task (or in the driver), so no file is ever held whole and no copy is needed to train.

    The platform lists the pieces once, selects them by their fields like shards (``DatasetSpec.where``;
    a ``where`` key a piece lacks filters rows by that column), and reads each with :meth:`read`. `physml
    convert` writes the same pieces as shards, so a converted dataset holds the same rows."""

    kind: ClassVar[str]  #: the manifest kind of the rows, e.g. "jets"

    @abstractmethod
    def pieces(self) -> list[dict]:
        """Every piece: ``{"path": a shard name unique in the dataset, "rows": rows or an upper bound,
        ...scalar fields readers select by}``; files are opened here (metadata only) so a missing,
        truncated or foreign file fails before anything starts."""

    @abstractmethod
    def read(self, piece: dict, columns: list[str] | None = None) -> pa.Table:
        """The rows of one piece (``columns``: those the caller needs; a reader may leave out costly
        ones it was not asked for)."""

    @abstractmethod
    def manifest_params(self) -> dict:
        """What defines the rows, as a dataset's manifest params (with ``"model"``: the format)."""

    def describe(self) -> str:
        """One line for `physml run --dry-run`: the files and their format."""
        return f"{len(self.pieces())} piece(s) of {self.kind} files"


class Generator(ABC):
    """A task whose trained model writes a dataset of kind ``generates`` (`physml generate KIND`),
    in the schema of that kind's simulator so that the simulator's analysis reads it unchanged."""

    generates: ClassVar[str]  #: the manifest kind it writes, e.g. "ising"
    generated_columns: ClassVar[list[str]]  #: the columns :meth:`describe_generated` reads back

    @abstractmethod
    def generation_plan(self, cfg: Any, request: dict) -> tuple[dict, list[dict]]:
        """(manifest params, shards) of a request (task-specific keys, e.g. L, temperatures, n); each
        shard ``{"path": ..., ...}``. A ValueError names the bad request value."""

    @abstractmethod
    def generate_shard(self, model: Any, cfg: Any, part: dict, seed: int) -> pa.Table:
        """The rows of one planned shard, reproducible from ``seed``."""

    @abstractmethod
    def describe_generated(self, table: pa.Table) -> str:
        """A terminal summary of the generated dataset (its ``generated_columns``)."""


__all__ = [
    "DataSource", "ChainSampler", "ItemSource", "StoreWriter", "chunk_items", "FileReader", "Generator", "Unit",
    "Estimate",
]  # fmt: skip
