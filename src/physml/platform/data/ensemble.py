"""Ray actors that advance Markov chains of any sampler and stream their rows to Parquet shards.

A sampler (a :class:`physml.tasks.sources.ChainSampler`, e.g. the Ising one) defines deterministic
*units* of chains and their *plan* of steps. Units are dealt round-robin to ``actors`` Ray actors (one per CPU by
default); each actor advances its batch, one step per call, and returns the new chain state and the
rows. The driver is the single writer: shard (atomic) -> chain state (atomic) -> manifest (atomic),
so a run killed at any point resumes from the saved states without losing or duplicating a row.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import ray
from tqdm.auto import tqdm

from physml.platform.data.local import shard_name
from physml.platform.data.shards import DatasetWriter
from physml.tasks import load as _load
from physml.tasks.sources import ChainSampler


@ray.remote(num_cpus=1)
class ChainActor:
    """Holds one sampler (kernels compiled once) and advances the units it is handed."""

    def __init__(self, sampler_path: str, sampler_args: tuple):
        self.sampler = _load(sampler_path)(*sampler_args)
        self.units = {u.index: u for u in self.sampler.units()}

    def node(self) -> str:
        """Id of the Ray node this actor runs on."""
        return ray.get_runtime_context().get_node_id()

    @ray.method(num_returns=2)
    def step(self, unit: int, state: dict, burn: int, nrec: int):
        """(new state, rows or None) of one step of ``unit``."""
        return self.sampler.step(self.units[unit], state, burn, nrec)


@dataclass
class EnsembleStats:
    seconds: float
    steps: int
    shards: int
    spin_updates: float  # the sampler's elementary updates (``work``): spin updates for Ising
    actors: int
    resumed_steps: int
    nodes: int = 1  # distinct Ray nodes the actors ran on
    actor_failures: int = 0  # actors lost (e.g. their node died) and whose units were restarted


def _state_name(unit) -> str:
    return f"u{unit.index:05d}"


def _resume(writer: DatasetWriter, sampler, unit, names: set[str] | None = None) -> tuple[dict, int]:
    """Saved state and next step of ``unit``; adopts a shard written just before a crash. ``names``:
    the saved states, when already listed."""
    name = _state_name(unit)
    saved = writer.get_state(name) if names is None or name in names else None
    if saved is None:
        return sampler.init_state(unit), 0
    done = int(saved.pop("step")[0])
    known = {s["path"] for s in writer.shards}
    plan = sampler.plan(unit)
    lost = [
        writer.adopt_shard(shard_name(sampler, unit, k), unit=unit.index, step=k, **sampler.shard_group(unit))
        for k in range(done)
        if plan[k][1] and shard_name(sampler, unit, k) not in known
    ]
    if lost:
        writer.commit([e for e in lost if e])
    return saved, done


def run_ensemble(
    sampler_path: str, sampler_args: tuple, writer: DatasetWriter, actors: int | None = None, progress: bool = True
) -> EnsembleStats:
    """Run every unit of the sampler (a :class:`ChainSampler`) to the end of its plan, writing shards
    through ``writer``."""
    sampler = _load(sampler_path)(*sampler_args)
    if not isinstance(sampler, ChainSampler):
        raise TypeError(f"{sampler_path} is not a ChainSampler")
    units = sampler.units()
    todo, resumed = {}, 0
    names = writer.saved_states()
    for u in units:
        state, k = _resume(writer, sampler, u, names)
        resumed += k
        if k < len(sampler.plan(u)):
            todo[u.index] = (u, state, k)
    need = sampler.resources()
    fit = int(ray.available_resources().get("CPU", 1)) or 1
    if need.get("num_gpus"):  # one actor per GPU
        fit = int(ray.available_resources().get("GPU", 0))
        if not fit:
            raise RuntimeError(f"{sampler.kind}: the chains need a GPU per actor and the Ray cluster has none")
    n_act = max(1, min(actors or fit, len(todo) or 1))
    per = sampler.work
    total = sum(per(u, b, n) for u in units for b, n in sampler.plan(u))
    done0 = sum(per(u, b, n) for u in units for (b, n) in sampler.plan(u)[: _steps_done(u, todo, sampler)])
    t0, steps, shards = time.perf_counter(), 0, 0
    bar = tqdm(
        total=total,
        initial=done0,
        unit=sampler.work_unit,
        unit_scale=True,
        disable=not progress,
        desc=f"{sampler.kind} x{n_act} actors",
        smoothing=0.1,
    )
    nodes, failures = set(), 0
    saver = _Saver(writer)
    if todo:
        pool = {a: ChainActor.options(**need).remote(sampler_path, sampler_args) for a in range(n_act)}
        queues = {a: deque() for a in pool}
        for i, (u, state, k) in enumerate(todo.values()):
            queues[i % n_act].append((u, state, k))
        inflight: dict = {}
        nodes = _nodes(pool)
        for a in pool:
            _submit(pool, a, queues, inflight, sampler)
            _submit(pool, a, queues, inflight, sampler)
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1)
            a, u, k, state_ref = inflight[ready[0]]
            try:
                table, state = ray.get(ready[0]), ray.get(state_ref)
            except (ray.exceptions.RayActorError, ray.exceptions.ObjectLostError):
                failures += 1
                saver.flush()
                _reassign(a, pool, queues, inflight, writer, sampler, sampler_path, sampler_args)
                continue
            del inflight[ready[0]]
            entries = []
            if table is not None:
                entries.append(
                    writer.put_shard(shard_name(sampler, u, k), table, unit=u.index, step=k, **sampler.shard_group(u))
                )
                shards += 1
            saver.add(u, state, k, entries)
            steps += 1
            bar.update(per(u, *sampler.plan(u)[k]))
            _submit(pool, a, queues, inflight, sampler)
        nodes |= _nodes(pool)
        for actor in pool.values():
            ray.kill(actor)
    saver.flush()
    writer.commit([], complete=True)
    bar.close()
    return EnsembleStats(
        time.perf_counter() - t0, steps, shards, total - done0, n_act, resumed, max(1, len(nodes)), failures
    )


class _Saver:
    """Finished steps' unit states and shard entries, saved together at most every ``every`` seconds:
    each save costs a few requests on an object store (one per step made a small simulation on S3
    take minutes). A crash loses at most that much work and resumes exactly: a unit restarts from its
    last saved state, shards written after it are adopted or written again with the same rows."""

    def __init__(self, writer: DatasetWriter, every: float = 1.0):
        self.writer, self.every, self.last = writer, every, -float("inf")  # the first step is saved at once
        self.states: dict[str, dict] = {}
        self.entries: list[dict] = []

    def add(self, unit, state: dict, k: int, entries: list[dict]) -> None:
        self.states[_state_name(unit)] = {**state, "step": [k + 1]}
        self.entries += entries
        if time.monotonic() - self.last >= self.every:
            self.flush()

    def flush(self) -> None:
        for name, state in self.states.items():  # states after their shards, the manifest last
            self.writer.put_state(name, state)
        if self.states or self.entries:
            self.writer.commit(self.entries)
        self.states, self.entries, self.last = {}, [], time.monotonic()


def _steps_done(u, todo, sampler) -> int:
    return todo[u.index][2] if u.index in todo else len(sampler.plan(u))


def _nodes(pool: dict) -> set:
    try:
        return set(ray.get([actor.node.remote() for actor in pool.values()], timeout=30))
    except ray.exceptions.RayError:
        return set()


def _reassign(
    a: int, pool: dict, queues: dict, inflight: dict, writer, sampler, sampler_path: str, sampler_args: tuple
) -> None:
    """Actor ``a`` died (its node was lost): drop its steps in flight, restart each of its units from
    the last state the driver saved (nothing of theirs was written after it), on the surviving actors
    (a new actor when none survive). Rows are neither lost nor duplicated: a unit's RNG state is saved
    with its chain state, so a step re-run gives the same rows."""
    units = {u.index: u for (b, u, _, _) in inflight.values() if b == a}
    units.update({u.index: u for (u, _, _) in queues.pop(a)})
    for ref in [r for r, v in inflight.items() if v[0] == a]:
        del inflight[ref]
    ray.kill(pool.pop(a), no_restart=True)
    if not pool:
        pool[a], queues[a] = ChainActor.options(**sampler.resources()).remote(sampler_path, sampler_args), deque()
    alive = sorted(pool)
    for i, u in enumerate(sorted(units.values(), key=lambda u: u.index)):
        state, k = _resume(writer, sampler, u)
        if k < len(sampler.plan(u)):
            target = alive[i % len(alive)]
            queues[target].append((u, state, k))
            if sum(v[0] == target for v in inflight.values()) < 2:
                _submit(pool, target, queues, inflight, sampler)


def _submit(pool, a: int, queues, inflight: dict, sampler) -> None:
    """Send actor ``a`` its next step; a unit's next step consumes the previous step's state ref."""
    q = queues[a]
    if not q:
        return
    u, state, k = q.popleft()
    burn, nrec = sampler.plan(u)[k]
    state_ref, table_ref = pool[a].step.remote(u.index, state, burn, nrec)
    inflight[table_ref] = (a, u, k, state_ref)
    if k + 1 < len(sampler.plan(u)):
        q.appendleft((u, state_ref, k + 1))
