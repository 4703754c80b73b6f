"""The optimizers of one run: one per parameter group of the task (``Task.param_groups``), each with
its scheduler, built from the ``[train]`` section and stepped group after group."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from physml.errors import ConfigError


def make_optimizer(params: Iterable[torch.nn.Parameter] | torch.nn.Module, t) -> torch.optim.Optimizer:
    """The ``[train]`` optimizer (adam | adamw | sgd) over ``params`` (a module: its trainable ones)."""
    if isinstance(params, torch.nn.Module):
        params = [p for p in params.parameters() if p.requires_grad]
    params = list(params)
    if t.optimizer == "sgd":
        return torch.optim.SGD(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)
    cls = torch.optim.AdamW if t.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=t.lr, weight_decay=t.weight_decay)


def make_scheduler(opt: torch.optim.Optimizer, t):
    """The ``[train]`` scheduler, stepped once per epoch: none, cosine over the epochs, or x0.1 every
    third of them."""
    if t.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t.epochs)
    if t.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, t.epochs // 3), gamma=0.1)
    return None


class Optimizers:
    """An optimizer and a scheduler per named parameter group, in the task's order."""

    def __init__(self, groups: dict[str, list[torch.nn.Parameter]], t):
        seen: dict[int, str] = {}
        for name, params in groups.items():
            for p in params:
                if id(p) in seen:
                    raise ConfigError(f"param_groups: a parameter is in both {seen[id(p)]!r} and {name!r}")
                seen[id(p)] = name
        if not seen:
            raise ConfigError("param_groups: no trainable parameter")
        self.opts = {g: make_optimizer(ps, t) for g, ps in groups.items()}
        self.scheds = {g: make_scheduler(o, t) for g, o in self.opts.items()}

    @property
    def single(self) -> bool:
        """One group: checkpoints hold its optimizer state as they always did."""
        return len(self.opts) == 1

    def items(self):
        return self.opts.items()

    def epoch_end(self) -> None:
        for s in self.scheds.values():
            if s is not None:
                s.step()

    def state(self) -> dict:
        """``{"optimizer": ..., "scheduler": ...}`` for a checkpoint: the group's own state dicts with
        one group, else ``{group: state dict}``."""
        opt = {g: o.state_dict() for g, o in self.opts.items()}
        sched = {g: s.state_dict() if s is not None else {} for g, s in self.scheds.items()}
        if self.single:
            (opt,), (sched,) = opt.values(), sched.values()
        return {"optimizer": opt, "scheduler": sched}

    def load(self, state: dict) -> None:
        """Restore from :meth:`state`'s dict (as a checkpoint holds it)."""
        opt, sched = state["optimizer"], state.get("scheduler") or {}
        if self.single:
            (g,) = self.opts
            opt, sched = {g: opt}, {g: sched}
        for g, o in self.opts.items():
            o.load_state_dict(opt[g])
            if self.scheds[g] is not None and sched.get(g):
                self.scheds[g].load_state_dict(sched[g])
