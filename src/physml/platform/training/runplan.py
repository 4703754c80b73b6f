"""What one training run needs, in one typed object: the task, its resolved config, the data, where
it logs and where its checkpoints go. Built once by `physml run` or a sweep trial, serialised once
where it crosses a process boundary (Ray Train's workers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from physml.config import from_dict, to_dict
from physml.tasks import TASKS, load


@dataclass(frozen=True)
class RunPlan:
    task: str  # registry name (physml.tasks.TASKS)
    cfg: Any  # the task's resolved, typed config
    data_uri: str = ""  # the dataset the splits read
    storage: str = ""  # parent directory (or URI) of this run's checkpoints ("": none kept)
    name: str = ""  # the run's checkpoint directory under ``storage`` (the MLflow run id, a trial id)
    run_id: str = ""  # MLflow run the loop's rank 0 logs to; "" = none (a sweep logs from its driver)
    tracking_uri: str = ""
    init_state: dict | None = None  # starting weights (train.init_from); a checkpoint of the run wins
    shuffle_rows: int = 20000  # rows of the training split's local shuffle buffer (fewer for large rows)
    keep_train: bool = True  # a single worker may keep the training split after its first pass (it fits)

    def to_dict(self) -> dict:
        """Plain values (the config as a dict) for Ray Train's ``train_loop_config``."""
        return {**self.__dict__, "cfg": to_dict(self.cfg)}

    @classmethod
    def from_dict(cls, d: dict) -> RunPlan:
        """The plan back from :meth:`to_dict`, its config typed again by the task's ``Config``."""
        return cls(**{**d, "cfg": from_dict(load(TASKS[d["task"]]).Config, d["cfg"])})
