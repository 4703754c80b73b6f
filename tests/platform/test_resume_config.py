"""--resume checks the resumed run's [model] against the config in force (no Ray: a real MLflow store)."""

import mlflow
import pytest

from physml.config import ConfigError, dump_toml, from_dict, to_dict
from physml.platform.plan import check_resumable
from physml.tasks.lensing.task import LensingConfig


def _logged_run(config: dict) -> str:
    """A run in the working directory's store whose config.toml is ``config``."""
    with mlflow.start_run() as run:
        mlflow.log_text(dump_toml(config), "config.toml")
    return run.info.run_id


def test_a_model_key_added_since_the_run_counts_at_its_default(workdir):
    """A run logged before model.stem_pool existed resumes under today's default (True) and is
    refused, naming the key, when -c asks for another value."""
    cfg = from_dict(LensingConfig, {"model": {"kind": "resnet"}})
    older = to_dict(cfg)
    del older["model"]["stem_pool"]
    rid = _logged_run(older)
    check_resumable("lensing", rid, cfg)
    finer = from_dict(LensingConfig, {"model": {"kind": "resnet", "stem_pool": False}})
    with pytest.raises(ConfigError, match=r"model.stem_pool = False \(the run: True\)"):
        check_resumable("lensing", rid, finer)
