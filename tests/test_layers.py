"""The layers import-linter cannot state (its contracts in pyproject.toml run as `lint-imports`): the
platform names no task, and the platform's import graph, function-local imports included, has no
cycle. Also: importing any task leaves ray and mlflow unimported (a fresh interpreter checks)."""

from __future__ import annotations

import subprocess
import sys

import grimp
import pytest

from physml.tasks import TASKS

CONTRACTS = {"physml.tasks", "physml.tasks.base", "physml.tasks.sources"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("physml", cache_dir=None)


def test_platform_imports_no_task_by_name(graph):
    named = {
        (m, imported)
        for m in graph.find_descendants("physml.platform") | {"physml.platform"}
        for imported in graph.find_modules_directly_imported_by(m)
        if imported.startswith("physml.tasks") and imported not in CONTRACTS
    }
    assert not named, f"the platform imports tasks by name: {sorted(named)}"


def test_platform_import_graph_is_acyclic(graph):
    platform = sorted(graph.find_descendants("physml.platform"))
    edges = {m: {i for i in graph.find_modules_directly_imported_by(m) if i in platform} for m in platform}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                return path + [m, n]
            if n not in state and (cycle := visit(n, path + [m])):
                return cycle
        state[m] = 2
        return None

    for m in platform:
        if m not in state:
            cycle = visit(m, [])
            assert cycle is None, "import cycle: " + " -> ".join(cycle[cycle.index(cycle[-1]) :])


def test_tasks_import_without_ray_or_mlflow():
    mods = sorted({path.partition(":")[0] for path in TASKS.values()})
    code = f"import sys, {', '.join(mods)}; print([m for m in ('ray', 'mlflow') if m in sys.modules])"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-500:]
    assert res.stdout.strip() == "[]", f"importing the tasks pulls in {res.stdout.strip()}"
