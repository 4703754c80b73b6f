"""One local Ray instance per test session (Ray takes ~10 s to start here)."""
import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    from physml.platform import cluster

    info = cluster.connect(num_cpus=2)
    yield info
    cluster.shutdown()
