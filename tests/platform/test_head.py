"""`physml up` starts one local Ray head that a later command joins; `physml down` stops it and only
it; with no head, a command starts a private Ray even when another cluster on the machine is where
Ray itself would look (its temp directory's ray_current_cluster), and says which it uses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from physml.platform.head import _pids_of

CONNECT = "from physml.platform import cluster; import json; print(json.dumps(cluster.connect()))"


def _physml(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "physml", *args], env=env, capture_output=True, text=True, timeout=300)


def _connect(env: dict) -> tuple[dict, str]:
    res = subprocess.run([sys.executable, "-c", CONNECT], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1]), res.stderr


def test_up_is_joined_down_stops_only_it(tmp_path):
    env = {**os.environ, "PHYSML_STATE": str(tmp_path / "state")}
    env.pop("RAY_ADDRESS", None)
    up = _physml(env, "up", "--num-cpus", "1")
    assert up.returncode == 0, up.stderr[-2000:]
    state = json.loads((tmp_path / "state" / "ray-head.json").read_text())
    try:
        assert _pids_of(state["temp_dir"])
        assert "already running" in _physml(env, "up").stdout  # a second `up` starts nothing
        info, err = _connect(env)
        assert info["cpus"] == 1 and info["ray"].startswith("the local head of `physml up`")
        assert f"physml: Ray: the local head of `physml up` at {state['address']}" in err
    finally:
        down = _physml(env, "down")
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not _pids_of(state["temp_dir"]) and not (tmp_path / "state" / "ray-head.json").exists()
    assert "no local Ray head" in _physml(env, "down").stdout


def test_another_cluster_on_the_machine_is_not_joined_silently(tmp_path):
    """A `ray start` cluster recorded where Ray's own ray.init() would find it (RAY_TMPDIR): a physml
    command with no address still starts its own private instance, and says so."""
    raytmp = Path(tempfile.mkdtemp(prefix="pmlray-"))  # short: Ray's socket paths must fit in 107 bytes
    env = {**os.environ, "PHYSML_STATE": str(tmp_path / "state"), "RAY_TMPDIR": str(raytmp)}
    env.pop("RAY_ADDRESS", None)
    ray = Path(sys.executable).with_name("ray")
    other = subprocess.run(
        [str(ray), "start", "--head", "--num-cpus=1", "--disable-usage-stats", "--include-dashboard=false"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert other.returncode == 0, other.stderr[-2000:]
    try:
        recorded = next(raytmp.rglob("ray_current_cluster")).read_text().strip()
        info, err = _connect(env)
        assert info["ray"] == "a private local instance" and "physml: Ray: a private local instance" in err
        assert info["address"].rsplit(":", 1)[1] != recorded.rsplit(":", 1)[1]
    finally:
        for pid in _pids_of(str(raytmp)):
            os.kill(pid, 9)
        shutil.rmtree(raytmp, ignore_errors=True)
