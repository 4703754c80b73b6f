"""A throwaway PostgreSQL server on loopback for the MLflow tracking-server test: Debian's
postgresql binaries (`make postgres` installs them), a fresh cluster in a temporary directory, run as
the ``postgres`` user when the tests run as root (the server refuses root). ``backend_store()``
yields its SQLAlchemy URI, or a SQLite file where PostgreSQL is not installed (issue #9)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def bindir() -> str | None:
    """The directory of initdb/pg_ctl, or None without a PostgreSQL server."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return str(Path(found[-1]).parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server(bins: str):
    """Yields ``postgresql://mlflow@127.0.0.1:PORT/mlflow`` of a new cluster; stops and removes it."""
    root = tempfile.mkdtemp(prefix="physml-pg-", dir="/tmp")
    os.chmod(root, 0o755)
    data, port = f"{root}/data", _port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    run = lambda cmd: subprocess.run(_as_server_user(cmd), check=True, capture_output=True, text=True)
    run([f"{bins}/initdb", "-D", data, "-U", "mlflow", "--auth=trust", "-E", "UTF8"])
    run(
        [
            f"{bins}/pg_ctl",
            "-D",
            data,
            "-l",
            f"{root}/log",
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {root}",
            "start",
        ]
    )
    try:
        run([f"{bins}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "mlflow", "mlflow"])
        yield f"postgresql://mlflow@127.0.0.1:{port}/mlflow"
    finally:
        subprocess.run(_as_server_user([f"{bins}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]), capture_output=True)
        time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def backend_store(tmp_path: Path):
    """An MLflow backend store URI: PostgreSQL when installed, else SQLite in ``tmp_path``."""
    bins = bindir()
    if bins is None:
        yield f"sqlite:///{tmp_path / 'server.db'}"
        return
    with postgres_server(bins) as uri:
        yield uri
