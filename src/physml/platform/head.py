"""`physml up` / `physml down`: one local Ray head for this user, in the background, joined by every
physml command that is given no other address (a private Ray instance costs seconds per command).

The head runs with its own temp directory, its dashboard on 127.0.0.1 and Ray's token
authentication; its address and temp directory are kept in ``$PHYSML_STATE/ray-head.json``
(default ``~/.physml``). `physml down` ends the processes of that head only (those whose command
line names its temp directory), never another Ray on the machine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from physml.errors import CliError


def state_file() -> Path:
    return Path(os.environ.get("PHYSML_STATE") or "~/.physml").expanduser() / "ray-head.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def running() -> dict | None:
    """The head `physml up` started, when it is still there: {"address", "temp_dir", "cpus"}."""
    path = state_file()
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    return info if _listening(info["address"]) else None


def up(num_cpus: int | None = None) -> tuple[dict, bool]:
    """Start the head unless it runs; (its info, whether it was started now)."""
    info = running()
    if info:
        return info, False
    port, temp_dir = _free_port(), tempfile.mkdtemp(prefix="physml-ray-")
    ray = Path(sys.executable).with_name("ray")
    cmd = [
        str(ray),
        "start",
        "--head",
        f"--port={port}",
        f"--temp-dir={temp_dir}",
        "--dashboard-host=127.0.0.1",
        "--disable-usage-stats",
    ]
    if num_cpus:
        cmd.append(f"--num-cpus={num_cpus}")
    env = {**os.environ, "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.5", "RAY_AUTH_MODE": "token"}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()
        raise CliError(f"physml up: ray start failed ({last[-1] if last else done.returncode})")
    info = {"address": f"127.0.0.1:{port}", "temp_dir": temp_dir, "cpus": num_cpus or os.cpu_count()}
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_text(json.dumps(info))
    return info, True


def _pids_of(temp_dir: str) -> list[int]:
    """Processes whose command line names ``temp_dir`` (the head's raylet, GCS, dashboard, ...)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if temp_dir.encode() in (entry / "cmdline").read_bytes():
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


def down(timeout: float = 15.0) -> bool:
    """End the head `physml up` started (and only it); False when none was recorded."""
    path = state_file()
    if not path.exists():
        return False
    info = json.loads(path.read_text())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _pids_of(info["temp_dir"]):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        end = time.monotonic() + timeout
        while _pids_of(info["temp_dir"]) and time.monotonic() < end:
            time.sleep(0.2)
        if not _pids_of(info["temp_dir"]):
            break
    path.unlink(missing_ok=True)
    return True
