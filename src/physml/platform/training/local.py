"""``train.runner = "local"``: the training loop in the driver process, without a Ray Train worker group.

One worker, the train and val splits held in memory, the same :func:`physml.platform.training.loop.run_loop`,
MLflow logger and checkpoint format as a Ray Train run. Checkpoints go where Ray Train puts its own
(``<PHYSML_HOME>/runs/TASK/RUN_ID/epoch-NNNN``), so ``--resume`` continues a run of either runner.
A worker group costs about 15 s to start on a 2-core laptop; a smoke run then takes seconds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from ray.train import Checkpoint

from physml.platform.data import storage
from physml.platform.training.inline import InlineSession, inline_splits
from physml.platform.training.loop import STATE, FitResult, _Logger, improved, run_loop
from physml.platform.training.runplan import RunPlan

KEEP = 2  #: latest epoch checkpoints kept (with train.select = "best", the best one as well)
METRICS = "metrics.json"  #: an epoch checkpoint's reported metrics, beside its state


class CheckpointDir:
    """Epoch checkpoints under ``root`` (a local path or a URI): saved, listed, pruned, chosen."""

    def __init__(self, root: str, train_cfg):
        self.root, self.t = root, train_cfg

    def epochs(self) -> list[str]:
        """Checkpoint directories holding a state, oldest epoch first."""
        found = storage.glob(storage.join(self.root, "epoch-*", STATE))
        return sorted((storage.parent(p) for p in found), key=lambda d: d.rsplit("epoch-", 1)[1])

    def latest(self) -> Checkpoint | None:
        dirs = self.epochs()
        return _local(dirs[-1]) if dirs else None

    def save(self, metrics: dict, checkpoint: Checkpoint | None) -> None:
        """Copy the loop's checkpoint directory to ``epoch-NNNN`` and drop the ones no longer kept."""
        if checkpoint is None:
            return
        where = storage.join(self.root, f"epoch-{int(metrics['epoch']):04d}")
        storage.put_dir(checkpoint.path, where)
        storage.write_json(storage.join(where, METRICS), metrics)
        dirs = self.epochs()
        keep = set(dirs[-KEEP:]) | ({self._best()} if self.t.select == "best" else set())
        for d in dirs:
            if d not in keep:
                storage.remove(d)

    def _best(self) -> str:
        best, value = "", None
        for d in self.epochs():
            path = storage.join(d, METRICS)
            v = storage.read_json(path).get(self.t.early_stop_metric) if storage.exists(path) else None
            if v is not None and improved(v, value, self.t.early_stop_mode):
                best, value = d, v
        return best

    def chosen(self) -> Checkpoint | None:
        """The last epoch's checkpoint, or with train.select = "best" the best one."""
        best = self._best() if self.t.select == "best" else ""
        return _local(best) if best else self.latest()


def _local(where: str) -> Checkpoint:
    """A checkpoint directory as a local Checkpoint (copied from an object store when remote)."""
    if not storage.is_remote(where):
        return Checkpoint.from_directory(where)
    d = tempfile.mkdtemp(prefix="physml-ckpt-")
    fs, path = storage.open_uri(where)
    fs.get_file(f"{path}/{STATE}", str(Path(d) / STATE))
    return Checkpoint.from_directory(d)


def fit_local(task, plan: RunPlan, specs: dict) -> FitResult:
    """Train in this process on in-memory splits; checkpoints under ``plan.storage``/``plan.name``;
    rank-0 MLflow logging to ``plan.run_id``. A non-finite loss raises
    :class:`physml.errors.NonFiniteLoss`."""
    t = plan.cfg.train
    device = torch.device("cuda" if t.gpu and torch.cuda.is_available() else "cpu")
    store = CheckpointDir(storage.join(plan.storage, plan.name), t)
    session = InlineSession(inline_splits(plan.cfg, specs), device, store.save, store.latest)
    _, metrics = run_loop(task, plan, session, _Logger(plan.tracking_uri, plan.run_id, 0, echo=True))
    return FitResult(store.chosen(), metrics, None)
