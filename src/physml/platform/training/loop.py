"""One training loop for every task, on Ray Train (``TorchTrainer``).

Workers get the "train" split sharded by Ray Data and the full "val" split; each epoch ends with a
checkpoint (model, optimizer, scheduler, epoch, early-stopping state, resolved config) reported to
Ray Train, which persists it under the run's storage and restores it when the same run is started
again (``--resume``). Rank 0 alone logs metrics to MLflow. A non-finite loss stops the run with
:class:`NonFiniteLoss`; AMP (bf16/fp16 autocast + grad scaling) is used on CUDA only.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray
import ray.train
import torch
from ray.train import (
    Checkpoint,
    CheckpointConfig,
    FailureConfig,
    RunConfig,
    ScalingConfig,
)
from ray.train.torch import TorchTrainer

from physml.config import to_dict
from physml.errors import NonFiniteLoss, TrainingError
from physml.platform.data.streams import KEEP_BYTES, quiet_ray_data
from physml.platform.training.optimizers import Optimizers
from physml.platform.training.runplan import RunPlan
from physml.tasks import TASKS, load

STATE = "state.pt"


@dataclass
class FitResult:
    checkpoint: Checkpoint | None
    metrics: dict
    error: BaseException | None


def improved(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value < best if mode == "min" else value > best)


def epoch_line(metrics: dict, seconds: float) -> str:
    """One terminal line per epoch: the epoch, the training loss and the validation metrics."""
    shown = {k: v for k, v in metrics.items() if k.startswith("val/") or k == "train/epoch_loss"}
    values = "  ".join(f"{k} {v:.4g}" for k, v in list(shown.items())[:6])
    return f"epoch {int(metrics['epoch'])}: {values}  ({seconds:.0f} s)"


class _Logger:
    """Rank-0 MLflow metric logger (no-op elsewhere or without a run). Metrics are buffered and
    written in batches (at each epoch end, or every ``FLUSH`` values), keeping the tracking store's
    latency out of the training steps. Idempotent across restarts: after a worker-group retry from an
    older checkpoint (a node lost between logging an epoch and Ray Train registering its checkpoint),
    epochs and steps the run already logged are not logged a second time."""

    FLUSH = 900

    def __init__(self, tracking_uri: str, run_id: str, rank: int, echo: bool = False):
        self.client, self.buffer, self.done = None, [], {"epoch": 0, "step": 0}
        self.echo, self.started = echo and rank == 0, time.monotonic()
        if rank == 0 and run_id:
            from mlflow import MlflowClient

            self.client, self.run_id = MlflowClient(tracking_uri), run_id
            for kind, key in (("epoch", "epoch"), ("step", "train/loss")):
                self.done[kind] = max((m.step for m in self.client.get_metric_history(run_id, key)), default=0)

    def log(self, metrics: dict, step: int) -> None:
        kind = "epoch" if "epoch" in metrics else "step"
        if self.echo and kind == "epoch":
            print(epoch_line(metrics, time.monotonic() - self.started), file=sys.stderr, flush=True)
        if self.client is None or step <= self.done[kind]:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.buffer += [
            Metric(k, float(v), now, step)
            for k, v in metrics.items()
            if isinstance(v, (int, float, np.floating)) and math.isfinite(float(v))
        ]
        if len(self.buffer) >= self.FLUSH:
            self.flush()

    def flush(self) -> None:
        if self.client is not None and self.buffer:
            self.client.log_batch(self.run_id, metrics=self.buffer)
            self.buffer = []


class RayTrainSession:
    """The loop's view of a Ray Train worker: rank, device, its data shards, checkpoints, reports."""

    def __init__(self):
        ctx = ray.train.get_context()
        self.rank, self.world_size = ctx.get_world_rank(), ctx.get_world_size()
        self.single = self.world_size == 1
        self.device = ray.train.torch.get_device()
        self._kept: dict[tuple, list | dict] = {}

    def prepare(self, model: torch.nn.Module, find_unused: bool = False) -> torch.nn.Module:
        """On this worker's device, wrapped in DDP with several workers (``find_unused``: some
        parameters get no gradient in a backward pass, as with several parameter groups)."""
        kwargs = {"find_unused_parameters": True} if find_unused else None
        return ray.train.torch.prepare_model(model, parallel_strategy_kwargs=kwargs)

    def batches(
        self, split: str, batch_size: int, shuffle_seed: int | None = None, shuffle_rows: int = 20000, keep: bool = True
    ):
        """Torch batches of this worker's part of ``split``; with a seed, shuffled locally and
        reproducibly (shards hold one chain each: unshuffled batches would be one temperature at a time).
        A split of at most ``KEEP_BYTES`` is kept after its first pass and replayed without a Ray Data
        execution per epoch: an unshuffled one (validation) as the same batches, the training split of a
        single worker (several workers must all read their streaming split) permuted by the seed, unless
        ``keep`` is False (the driver knows the split is larger: nothing is gathered only to be dropped)."""
        key = (split, batch_size)
        kept = self._kept.get(key)
        if kept is not None:
            if shuffle_seed is None:
                return (dict(b) for b in kept)
            if isinstance(kept, list):  # concatenated once, on the second pass
                kept = self._kept[key] = {k: torch.cat([b[k] for b in kept]) for k in kept[0]}
            return permuted(kept, batch_size, shuffle_seed)
        shard = ray.train.get_dataset_shard(split)
        if shard is None:
            return iter(())
        buffer = max(shuffle_rows, 4 * batch_size) if shuffle_seed is not None else None
        it = shard.iter_torch_batches(
            batch_size=batch_size,
            device=self.device,
            drop_last=False,
            local_shuffle_buffer_size=buffer,
            local_shuffle_seed=shuffle_seed,
        )
        return it if shuffle_seed is not None and not (self.single and keep) else self._keeping(key, it)

    def _keeping(self, key: tuple, it):
        """Yield ``it``'s batches, keeping them (shallow copies) for the next pass while they fit in
        ``KEEP_BYTES`` and hold tensors only."""
        kept: list | None = []
        size = 0
        for batch in it:
            if kept is not None:
                size += sum(v.numel() * v.element_size() for v in batch.values() if torch.is_tensor(v))
                if size > KEEP_BYTES or not all(torch.is_tensor(v) for v in batch.values()):
                    kept = None
                else:
                    kept.append(dict(batch))
            yield batch
        if kept:
            self._kept[key] = kept

    def get_checkpoint(self):
        return ray.train.get_checkpoint()

    def report(self, metrics: dict, checkpoint=None, name: str | None = None) -> None:
        """Metrics, and a checkpoint stored in the background (the next epoch starts meanwhile; Ray
        deletes the local directory once stored, and stores every checkpoint before the run ends)."""
        if checkpoint is None:
            ray.train.report(metrics)
        else:
            ray.train.report(
                metrics,
                checkpoint=checkpoint,
                checkpoint_dir_name=name,
                checkpoint_upload_mode=ray.train.CheckpointUploadMode.ASYNC,
            )

    def gather_rows(self, rows: int) -> list[int]:
        """The training rows every worker saw this epoch, by rank (one all-gather: with several workers
        their sum is the split's rows exactly when each row went to one worker)."""
        if not torch.distributed.is_available() or not torch.distributed.is_initialized():
            return [rows]
        counts = [torch.zeros(1, dtype=torch.int64, device=self.device) for _ in range(self.world_size)]
        torch.distributed.all_gather(counts, torch.tensor([rows], dtype=torch.int64, device=self.device))
        return [int(c.item()) for c in counts]

    def broadcast_stop(self, stop: bool) -> bool:
        """Rank 0's early-stopping decision, shared with every worker."""
        if not torch.distributed.is_available() or not torch.distributed.is_initialized():
            return stop
        flag = torch.tensor([1.0 if stop else 0.0], device=self.device)
        torch.distributed.broadcast(flag, src=0)
        return bool(flag.item() > 0)


def permuted(whole: dict[str, torch.Tensor], batch_size: int, seed: int):
    """Batches of ``batch_size`` rows of the columns ``whole``, in the order of a permutation drawn from ``seed``."""
    n = len(next(iter(whole.values())))
    order = torch.from_numpy(np.random.default_rng(seed).permutation(n)).to(next(iter(whole.values())).device)
    for i in range(0, n, batch_size):
        idx = order[i : i + batch_size]
        yield {k: v[idx] for k, v in whole.items()}


def _restore(session, raw: torch.nn.Module, opts: Optimizers) -> dict:
    ckpt = session.get_checkpoint()
    if ckpt is None:
        return {"epoch": 0, "best": None, "bad_epochs": 0, "step": 0, "metrics": {}}
    with ckpt.as_directory() as d:
        state = torch.load(Path(d) / STATE, weights_only=True, map_location="cpu")
    raw.load_state_dict(state["model"])
    opts.load(state)
    return {"metrics": state.get("metrics", {}), **{k: state[k] for k in ("epoch", "best", "bad_epochs", "step")}}


def _save(session, raw: torch.nn.Module, opts: Optimizers, progress: dict, cfg_dict: dict, metrics: dict) -> None:
    """Report metrics with a checkpoint from rank 0 (others report metrics only: a barrier)."""
    if session.rank != 0:
        session.report(metrics)
        return
    d = tempfile.mkdtemp(prefix="physml-ckpt-")  # the session deletes it once the checkpoint is stored
    torch.save(
        {
            "model": raw.state_dict(),
            **opts.state(),
            **progress,
        },
        Path(d) / STATE,
    )
    (Path(d) / "config.json").write_text(json.dumps(cfg_dict))
    session.report(metrics, Checkpoint.from_directory(d), f"epoch-{progress['epoch']:04d}")


def keep_freed_memory() -> None:
    """Ask glibc's malloc to serve tensors up to 32 MB from its heap and to keep freed memory instead of
    returning it (mmap threshold 32 MB, trim threshold 1 GB): a CPU training thread otherwise maps and
    faults in fresh pages for every large activation (half the worker's time went to the kernel in
    galaxy-vae). No effect where the C library is not glibc."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 2**20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 2**30)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def train_loop_per_worker(config: dict) -> None:
    """Ray Train's entry point on each worker: the task's loop with this worker's session."""
    quiet_ray_data()
    plan = RunPlan.from_dict(config["plan"])
    session = RayTrainSession()
    run_loop(load(TASKS[plan.task])(), plan, session, _Logger(plan.tracking_uri, plan.run_id, session.rank))


def run_loop(task, plan: RunPlan, session, log) -> tuple[torch.nn.Module, dict]:
    """The training loop, the same for every task and every runner (Ray Train worker or Tune trial):
    epochs of training steps (each group of ``task.param_groups`` stepped by its own optimizer),
    validation on rank 0, a checkpoint per epoch, early stopping. ``plan.init_state`` (a state
    dict, ``train.init_from``) starts a fresh run from other weights; a checkpoint of this run, when
    there is one, wins. Returns the (unwrapped) model and the last epoch's metrics."""
    cfg, init_state = plan.cfg, plan.init_state
    cfg_dict = to_dict(cfg)  # written beside each checkpoint
    keep_freed_memory()
    t = cfg.train
    torch.manual_seed(t.seed + session.rank)
    device = session.device
    model = task.model(cfg)
    if init_state is not None:
        model.load_state_dict(init_state)
    several = len(task.param_groups(model, cfg)) > 1
    model = session.prepare(model, find_unused=several)  # a group's loss leaves the others' parameters unused
    raw = model.module if hasattr(model, "module") else model
    opts = Optimizers(task.param_groups(raw, cfg), t)
    amp = t.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    progress = _restore(session, raw, opts)
    metrics: dict = progress["metrics"]  # a run restored at its last epoch returns that epoch's metrics
    for epoch in range(progress["epoch"], t.epochs):
        model.train()
        sums, n, rows = {}, 0, 0
        seed = (t.seed + session.rank) * 100003 + epoch
        train = session.batches("train", t.batch_size, seed, plan.shuffle_rows, plan.keep_train)
        for batch in train:
            out = _step(task, model, batch, cfg, opts, scaler, (epoch, progress["step"]), log)
            task.on_step_end(raw, progress["step"], cfg)
            progress["step"] += 1
            n, rows = n + 1, rows + len(next(iter(batch.values())))
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + v
            if progress["step"] % t.log_every == 0:
                log.log({f"train/{k}": v for k, v in out.items()}, progress["step"])
        opts.epoch_end()
        fresh = {f"train/epoch_{k}": v / max(n, 1) for k, v in sums.items()}
        fresh.update(rows_metrics(session.gather_rows(rows)))
        check = session.rank == 0 and validates(epoch, t)
        if check:
            fresh.update(_validate(task, raw, session, cfg))
        # Tune and the checkpoint see the latest validation; MLflow gets the values measured now
        metrics = {**{k: v for k, v in metrics.items() if k.startswith("val/")}, **fresh, "epoch": epoch + 1}
        progress["epoch"] = epoch + 1
        progress["metrics"] = metrics
        stop = _early_stop(metrics, progress, t) if check else False
        log.log({**fresh, "epoch": epoch + 1}, epoch + 1)
        log.flush()
        _save(session, raw, opts, progress, cfg_dict, {**metrics, "stop": float(stop)})
        if session.broadcast_stop(stop):
            break
    return raw, metrics


def rows_metrics(counts: list[int]) -> dict[str, float]:
    """``train/rows`` (the epoch's training rows over all workers) and, with several workers,
    ``train/rows_worker<rank>``."""
    out = {"train/rows": float(sum(counts))}
    if len(counts) > 1:
        out.update({f"train/rows_worker{r}": float(c) for r, c in enumerate(counts)})
    return out


def _step(task, model, batch: dict, cfg, opts: Optimizers, scaler, where: tuple[int, int], log) -> dict[str, float]:
    """One training step: each group's loss (``task.training_step``), backward, its optimizer's
    step, group after group. Returns the scalars to log (``<group>/<key>`` with several groups)."""
    amp = scaler.is_enabled()
    out: dict[str, float] = {}
    for group, opt in opts.items():
        with torch.autocast(model_device(model).type, enabled=amp):
            terms = task.training_step(model, batch, cfg, group, where[1])
        loss = terms["loss"]
        if not torch.isfinite(loss):
            log.flush()
            raise NonFiniteLoss(
                f"loss{'' if opts.single else ' of ' + group} = {loss.item()} at epoch {where[0]}, step {where[1]}; "
                f"lower train.lr (now {cfg.train.lr}) or check the data"
            )
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        out.update({(k if opts.single else f"{group}/{k}"): float(v.detach()) for k, v in terms.items()})
    scaler.update()
    return out


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def validates(epoch: int, t) -> bool:
    """Whether epoch ``epoch`` (0-based) ends with a validation: the first, every ``t.val_every``-th, the last."""
    return epoch == 0 or (epoch + 1) % t.val_every == 0 or epoch + 1 == t.epochs


def _validate(task, raw: torch.nn.Module, session, cfg) -> dict[str, float]:
    """``val/<key>`` of ``task.evaluate`` on the validation split (rank 0)."""
    raw.eval()
    task.before_evaluate(raw, cfg)
    with torch.no_grad():
        res = task.evaluate(raw, session.batches("val", cfg.train.batch_size), cfg)
    return {f"val/{k}": float(v) for k, v in res.items() if isinstance(v, (int, float))}


def _early_stop(metrics: dict, progress: dict, t) -> bool:
    if not t.early_stop_metric:
        return False
    if t.early_stop_metric not in metrics:
        raise KeyError(
            f"train.early_stop_metric = {t.early_stop_metric!r} is not among the epoch metrics "
            f"({', '.join(sorted(metrics))})"
        )
    value = metrics[t.early_stop_metric]
    if improved(value, progress["best"], t.early_stop_mode):
        progress["best"], progress["bad_epochs"] = value, 0
    else:
        progress["bad_epochs"] += 1
    return progress["bad_epochs"] >= t.patience


def fit(plan: RunPlan, train_ds, val_ds, callbacks: tuple = ()) -> FitResult:
    """Run the loop on a TorchTrainer (checkpoints under ``plan.storage``/``plan.name``); returns
    the checkpoint to use (the last epoch's, or with ``train.select = "best"`` the best by
    ``train.early_stop_metric``) and the last metrics."""
    t = plan.cfg.train
    best = t.select == "best"  # keep the best two epochs by the metric (Ray keeps the latest as well)
    keep = CheckpointConfig(
        num_to_keep=2,
        checkpoint_score_attribute=t.early_stop_metric if best else None,
        checkpoint_score_order=t.early_stop_mode,
    )
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"plan": plan.to_dict()},
        scaling_config=ScalingConfig(
            num_workers=t.workers, use_gpu=t.gpu, resources_per_worker={"CPU": t.cpus_per_worker}
        ),
        datasets={"train": train_ds, "val": val_ds},
        dataset_config=ray.train.DataConfig(datasets_to_split=["train"]),
        run_config=RunConfig(
            name=plan.name,
            storage_path=plan.storage,
            failure_config=FailureConfig(max_failures=t.max_failures),
            checkpoint_config=keep,
            callbacks=list(callbacks),
        ),
    )
    result = trainer.fit()
    chosen = result.get_best_checkpoint(t.early_stop_metric, t.early_stop_mode) if best else result.checkpoint
    return FitResult(chosen, dict(result.metrics or {}), result.error)


def load_state(checkpoint: Checkpoint) -> dict:
    """The checkpoint's state dict (weights_only load), local or in remote storage."""
    with checkpoint.as_directory() as d:
        return torch.load(os.path.join(d, STATE), weights_only=True, map_location="cpu")


def training_failure(err: BaseException) -> TrainingError:
    """A one-line TrainingError naming the cause inside Ray's wrapped worker/trial traceback."""
    if isinstance(err, NonFiniteLoss):  # raised in this process by the local runner
        return TrainingError(f"training stopped: non-finite loss ({err})")
    text = str(err)
    m = re.search(r"NonFiniteLoss: ([^\n]+)", text)
    if m:
        return TrainingError(f"training stopped: non-finite loss ({m.group(1)})")
    last = [ln for ln in text.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", ln.strip())]
    return TrainingError(f"training failed: {last[-1].strip() if last else text.splitlines()[0]}")
