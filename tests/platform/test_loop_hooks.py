"""The loop's hooks (Task.param_groups, training_step, on_step_end, before_evaluate) on a toy task,
in this process (no Ray): groups stepped in order, each by its own optimizer, the step counted over
the whole run, the callbacks called where documented, and every group's optimizer state kept in the
checkpoint and restored on resume."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from physml.config import from_dict, to_dict
from physml.errors import ConfigError, NonFiniteLoss
from physml.platform.training.inline import InlineSession, NoLog
from physml.platform.training.loop import STATE, run_loop
from physml.platform.training.runplan import RunPlan
from physml.tasks.base import Task, TrainConfig


@dataclass(frozen=True)
class Section:
    uri: str = ""


@dataclass(frozen=True)
class ToyConfig:
    data: Section = field(default_factory=Section)
    model: Section = field(default_factory=Section)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=2, batch_size=4, lr=0.05))


class Toy(Task):
    """Two linear maps a, b: group "a" pulls a(x) to +1, group "b" pulls b(x) to -1."""

    name, Config = "toy", ToyConfig

    def __init__(self, nan_at: int | None = None):
        self.calls: list[tuple] = []
        self.nan_at = nan_at

    def data_kind(self, cfg):
        return ("toy", "toy")

    # The loop-hook tests hand the loop in-memory batches: this toy task has no data to make or read, so
    # the two abstract members below are never called (a call would be a failure of the test itself).
    def simulation(self, cfg):
        raise NotImplementedError("the toy task has no simulated data")

    def datasets(self, cfg, uri):
        raise NotImplementedError("the toy task reads no dataset")

    def model(self, cfg):
        return torch.nn.ModuleDict({"a": torch.nn.Linear(3, 1), "b": torch.nn.Linear(3, 1)})

    def param_groups(self, model, cfg):
        return {"a": list(model["a"].parameters()), "b": list(model["b"].parameters())}

    def training_step(self, model, batch, cfg, group, step):
        self.calls.append(("step", group, step, model["a"].weight.detach().clone()))
        target = 1.0 if group == "a" else -1.0
        loss = ((model[group](batch["x"]) - target) ** 2).mean()
        if self.nan_at is not None and step == self.nan_at and group == "b":
            loss = loss * float("nan")
        return {"loss": loss}

    def loss(self, model, batch, cfg):
        return self.training_step(model, batch, cfg, "a", 0)

    def on_step_end(self, model, step, cfg):
        self.calls.append(("end", step))

    def before_evaluate(self, model, cfg):
        self.calls.append(("eval",))

    def evaluate(self, model, batches, cfg):
        x = torch.cat([b["x"] for b in batches])
        return {"a": float(model["a"](x).mean()), "b": float(model["b"](x).mean())}

    def report(self, results, out_dir):
        return []


def _splits(n: int = 12) -> dict:
    x = np.random.default_rng(0).normal(size=(n, 3)).astype(np.float32)
    return {"train": {"x": x}, "val": {"x": x}}


class _Store:
    """A session's report/get_checkpoint pair keeping the last checkpoint's state."""

    def __init__(self):
        self.dir = tempfile.mkdtemp()

    def report(self, metrics, checkpoint=None):
        if checkpoint is not None:
            shutil.copy(Path(checkpoint.path) / STATE, Path(self.dir) / STATE)

    def get(self):
        from ray.train import Checkpoint

        return Checkpoint.from_directory(self.dir) if (Path(self.dir) / STATE).exists() else None


def _run(task, cfg, store=None):
    store = store or _Store()
    session = InlineSession(_splits(), torch.device("cpu"), store.report, store.get)
    return run_loop(task, RunPlan("toy", cfg), session, NoLog()), store


def test_groups_in_order_each_by_its_own_optimizer_and_callbacks():
    task, cfg = Toy(), ToyConfig()
    (model, metrics), store = _run(task, cfg)
    steps = [c for c in task.calls if c[0] == "step"]
    assert [c[1] for c in steps] == ["a", "b"] * 6  # 12 rows / batch 4 = 3 steps per epoch, 2 epochs
    assert [c[2] for c in steps] == [k for k in range(6) for _ in "ab"]
    assert [c[1] for c in task.calls if c[0] == "end"] == list(range(6))
    # group b's loss is computed after group a's optimizer stepped
    assert all(not torch.equal(a[3], b[3]) for a, b in zip(steps[::2], steps[1::2]))
    assert sum(c[0] == "eval" for c in task.calls) == 2  # once per validation
    torch.manual_seed(cfg.train.seed)  # the loop's initial weights (seed + rank 0)
    start = task.evaluate(task.model(cfg), [{"x": torch.as_tensor(_splits()["val"]["x"])}], cfg)
    assert metrics["val/a"] > start["a"] + 0.1 and metrics["val/b"] < start["b"] - 0.1  # towards +1 and -1
    assert {"train/epoch_a/loss", "train/epoch_b/loss"} <= set(metrics)
    state = torch.load(Path(store.dir) / STATE, weights_only=True)
    assert set(state["optimizer"]) == {"a", "b"}
    assert all(s["state"][0]["step"] == 6 for s in state["optimizer"].values())  # Adam's own step count


def test_resume_restores_every_group_and_the_step_count():
    cfg = ToyConfig()
    (_, _), store = _run(Toy(), cfg)
    longer = from_dict(ToyConfig, {**to_dict(cfg), "train": {**to_dict(cfg)["train"], "epochs": 3}})
    task = Toy()
    _run(task, longer, store)
    steps = [c[2] for c in task.calls if c[0] == "step"]
    assert steps == [k for k in range(6, 9) for _ in "ab"]  # one more epoch, counted on
    state = torch.load(Path(store.dir) / STATE, weights_only=True)
    assert all(s["state"][0]["step"] == 9 for s in state["optimizer"].values())


def test_a_non_finite_loss_names_its_group():
    with pytest.raises(NonFiniteLoss, match="loss of b = nan at epoch 0, step 1"):
        _run(Toy(nan_at=1), ToyConfig())


def test_overlapping_groups_are_refused():
    class Overlap(Toy):
        def param_groups(self, model, cfg):
            return {"a": list(model.parameters()), "b": list(model["b"].parameters())}

    with pytest.raises(ConfigError, match="both 'a' and 'b'"):
        _run(Overlap(), ToyConfig())


def test_val_every_validates_the_first_every_kth_and_the_last_epoch():
    cfg = from_dict(ToyConfig, {"train": {"epochs": 7, "batch_size": 4, "lr": 0.05, "val_every": 3}})
    task = Toy()
    (_, metrics), store = _run(task, cfg)
    assert sum(c[0] == "eval" for c in task.calls) == 4  # epochs 1, 3, 6 and 7 (1-based)
    assert "val/a" in metrics and metrics["epoch"] == 7
    with pytest.raises(ValueError, match="val_every"):
        TrainConfig(select="best", early_stop_metric="val/loss", val_every=2)


def test_a_kept_training_split_is_replayed_as_a_seeded_permutation():
    from physml.platform.training.loop import permuted

    kept = {"x": torch.arange(12).float(), "y": torch.arange(12) * 10}
    epochs = [list(permuted(kept, 5, seed)) for seed in (1, 1, 2)]
    rows = [torch.cat([b["x"] for b in e]) for e in epochs]
    assert [len(b["x"]) for b in epochs[0]] == [5, 5, 2]
    assert sorted(rows[0].tolist()) == list(range(12))  # every row once
    assert all(torch.equal(b["y"], b["x"].long() * 10) for b in epochs[0])  # columns stay aligned
    assert torch.equal(rows[0], rows[1]) and not torch.equal(rows[0], rows[2])  # the seed decides
