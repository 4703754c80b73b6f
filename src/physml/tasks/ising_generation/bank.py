"""A bank of recent real configurations per temperature, so that the actor's loss can compare real and
generated sets in large groups of equal T (a shuffled batch of 128 over 21 temperatures holds ~6 of
each: the per-group MMD is then noisy and its standardization scale set by a handful of samples)."""

from __future__ import annotations

import torch


class TemperatureBank:
    """A ring of the last ``size`` real configurations float[L, L] for each of ``temperatures`` (J/k_B).
    Not part of the model's state: it refills from the training batches after a restart."""

    def __init__(self, temperatures: tuple[float, ...], size: int, L: int):
        if size < 2:
            raise ValueError(f"bank size = {size}: need >= 2 configurations per temperature")
        self.temps = torch.tensor(sorted(temperatures), dtype=torch.float64)
        self.size, self.L = size, L
        self.spins: torch.Tensor | None = None  # float[n_T, size, L, L], made at the first push
        self.count = torch.zeros(len(self.temps), dtype=torch.long)

    def index(self, t: torch.Tensor) -> torch.Tensor:
        """Bank row of each temperature of ``t`` float[B]; a temperature not in the bank is an error."""
        d = (t.detach().double().cpu()[:, None] - self.temps[None, :]).abs()
        dist, i = d.min(dim=1)
        if len(dist) and float(dist.max()) > 1e-4:
            bad = float(t.detach().cpu()[int(dist.argmax())])
            raise ValueError(f"temperature {bad:g} is not one of the bank's {self.temps.tolist()}")
        return i

    @torch.no_grad()
    def push(self, s: torch.Tensor, t: torch.Tensor) -> None:
        """Store real spins float[B, L, L] at temperatures t float[B], overwriting each T's oldest."""
        if s.shape[-1] != self.L:
            raise ValueError(f"the bank holds L = {self.L}, got L = {s.shape[-1]}")
        if self.spins is None or self.spins.device != s.device:
            self.spins = torch.zeros(len(self.temps), self.size, self.L, self.L, device=s.device)
        for k, row in zip(self.index(t).tolist(), s.detach()):
            self.spins[k, int(self.count[k]) % self.size] = row
            self.count[k] += 1

    def draw(
        self, groups: int, per: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``per`` distinct stored configurations at each of ``groups`` distinct temperatures drawn at
        random among those holding at least ``per``: (spins float[groups * per, L, L], T float[...],
        in group order), or None while fewer than ``groups`` temperatures are that full."""
        full = torch.nonzero(self.count >= per).flatten()
        if self.spins is None or len(full) < groups:
            return None
        pick = full[torch.randperm(len(full), generator=generator)[:groups]]
        rows, temps = [], []
        for k in pick.tolist():
            held = min(int(self.count[k]), self.size)
            rows.append(self.spins[k, torch.randperm(held, generator=generator)[:per].to(self.spins.device)])
            temps.append(torch.full((per,), float(self.temps[k])))
        return torch.cat(rows), torch.cat(temps).to(self.spins.device)
