"""One local Ray instance per test session (Ray takes ~10 s to start here). The GPU kernels run on
numba's CUDA simulator (set before anything imports numba, inherited by Ray's workers)."""

import os

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    from physml.platform import cluster

    info = cluster.connect(num_cpus=2)
    yield info
    cluster.shutdown()


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory):
    """An empty MLflow SQLite store, created once: MLflow's schema migrations take ~2 s per new file,
    so each test's store starts as a copy of this one (the same file MLflow itself would create)."""
    import mlflow

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    mlflow.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def store_uri(tmp_path, empty_store) -> str:
    """A fresh, empty MLflow SQLite store in ``tmp_path`` (a copy of ``empty_store``)."""
    import shutil

    shutil.copyfile(empty_store, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def workdir(tmp_path, monkeypatch, store_uri):
    """A fresh working directory with its own PHYSML_HOME and local MLflow store (./mlflow.db, the
    default store of a working directory, fresh and empty)."""
    import mlflow

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("PHYSML_HOME", str(tmp_path / "home"))
    mlflow.set_tracking_uri(store_uri)
    return tmp_path
