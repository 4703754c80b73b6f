"""The one place that starts or joins Ray.

Local default: a private Ray instance with this machine's CPUs, dashboard on 127.0.0.1, and an object
store of ``PHYSML_OBJECT_STORE_MB`` MiB when set (Ray's default: 30% of RAM; beyond it Ray spills to
disk, so a streamed dataset runs in a fixed memory budget). ``--address`` or ``RAY_ADDRESS`` joins an
existing cluster instead, without code changes.
"""

from __future__ import annotations

import logging
import os
import sys

import ray

from physml.config import ConfigError
from physml.platform.head import running as head_running

_WHICH = ""  #: which Ray this process uses (said once, when it connects)


def connect(address: str | None = None, num_cpus: int | None = None, quiet: bool = True) -> dict:
    """Start or join Ray once per process; returns {"address", "cpus", "gpus", "nodes", "ray"}.

    In order: ``address``, else ``RAY_ADDRESS``, else the local head of `physml up` when it runs,
    else a private local instance (never a cluster Ray would find on its own in its temp directory).
    Says on stderr which one it uses."""
    if not ray.is_initialized():
        addr = address or os.environ.get("RAY_ADDRESS") or None
        global _WHICH
        _WHICH = f"the cluster at {addr}" if addr else "a private local instance"
        head = head_running() if not addr and num_cpus is None else None
        if head:
            addr, _WHICH = head["address"], f"the local head of `physml up` at {head['address']}"
            _token_auth()  # the head requires this user's token (~/.ray/auth_token)
        os.environ.setdefault("RAY_ACCEPT_CLUSTER_RESOURCE_OVERRIDES", "0")
        quiet = quiet and not verbose()
        # quiet: the workers' own lines (Ray Data's banners, Ray Train's reports) stay in Ray's log
        # directory (named by logs_dir()) instead of the terminal; PHYSML_VERBOSE=1 brings them back
        kwargs = dict(
            logging_level=logging.ERROR if quiet else logging.INFO, log_to_driver=not quiet, configure_logging=True
        )
        if quiet:
            kwargs["logging_config"] = ray.LoggingConfig(encoding="TEXT", log_level="ERROR")
            logging.getLogger("ray").setLevel(logging.ERROR)
        if addr:
            try:
                ray.init(address=addr, **kwargs)
            except (ValueError, ConnectionError, RuntimeError, TimeoutError) as err:
                where = (
                    "--address" if address else "RAY_ADDRESS" if os.environ.get("RAY_ADDRESS") else "physml up's head"
                )
                raise ConfigError(
                    f"{where} {addr}: cannot join a Ray cluster there ({str(err).splitlines()[0]})"
                ) from None
        else:
            # Ray Train's controller polls its workers every 2 s by default: seconds lost at the start
            # and end of every short run. A local instance's processes inherit this environment.
            os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.5")
            store = object_store_bytes()
            if store:
                kwargs["object_store_memory"] = store
            # the dashboard process serves the State API that Ray Train's clean-up relies on
            ray.init(address="local", num_cpus=num_cpus, dashboard_host="127.0.0.1", include_dashboard=True, **kwargs)
        print(f"physml: Ray: {_WHICH}", file=sys.stderr, flush=True)
    res = ray.cluster_resources()
    return {
        "address": ray.get_runtime_context().gcs_address,
        "cpus": int(res.get("CPU", 0)),
        "gpus": int(res.get("GPU", 0)),
        "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
        "ray": _WHICH,
    }


def verbose() -> bool:
    """`physml --verbose` (PHYSML_VERBOSE=1): Ray's own log lines on the terminal too."""
    return os.environ.get("PHYSML_VERBOSE", "") not in ("", "0")


def logs_dir() -> str | None:
    """Where this process's Ray writes its logs (a local instance or head), or None."""
    try:
        return ray._private.worker._global_node.get_logs_dir_path()
    except AttributeError:
        return None


def _token_auth() -> None:
    """Token authentication on for this process, as for the head `physml up` started: Ray reads
    RAY_AUTH_MODE once, at import, so its config is refreshed here (Ray's own switch)."""
    if os.environ.get("RAY_AUTH_MODE"):
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    try:
        from ray._private.authentication.authentication_token_setup import _enable_token_auth
    except ImportError:  # a Ray without token authentication
        return
    _enable_token_auth()


def object_store_bytes() -> int | None:
    """``PHYSML_OBJECT_STORE_MB`` in bytes, or None (Ray's default) when unset."""
    mb = os.environ.get("PHYSML_OBJECT_STORE_MB", "")
    if not mb:
        return None
    try:
        value = int(float(mb) * 2**20)
    except ValueError:
        value = 0
    if value < 100 * 2**20:
        raise ConfigError(f"PHYSML_OBJECT_STORE_MB = {mb!r}: expected a number of MiB >= 100")
    return value


def shutdown() -> None:
    """Leave Ray (stops the local instance if this process started it)."""
    if ray.is_initialized():
        ray.shutdown()


def require_shared(info: dict, **locations: str) -> None:
    """On a cluster of several nodes, refuse node-local storage that workers on other nodes must read
    or write (checkpoints, sweep state, datasets read by workers). A path is accepted when it has a
    remote scheme (s3://, gs://, ...) or when PHYSML_SHARED_FS=1 says local paths are one filesystem
    mounted by every node (NFS, Lustre, EFS; or several Ray nodes on one machine)."""
    if info.get("nodes", 1) <= 1 or os.environ.get("PHYSML_SHARED_FS") == "1":
        return
    for name, where in locations.items():
        text = str(where)
        if "://" not in text or text.startswith("file://"):
            raise ValueError(
                f"{name} = {text} is node-local, but the Ray cluster has {info['nodes']} nodes: "
                "use s3:// or gs://, or a filesystem every node mounts and set PHYSML_SHARED_FS=1"
            )
