"""One local Ray instance per test session (Ray takes ~10 s to start here)."""
import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    from physml.platform import cluster

    info = cluster.connect(num_cpus=2)
    yield info
    cluster.shutdown()


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh working directory with its own PHYSML_HOME and local MLflow store."""
    import mlflow

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("PHYSML_HOME", str(tmp_path / "home"))
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path
