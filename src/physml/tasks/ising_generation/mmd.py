"""The actor's loss: the seed's eq. (3) as a maximum mean discrepancy between critic features.

Eq. (3), ||Critic(X_in) - mean Critic(Scale(X_out))||^2 averaged over real samples, equals the squared
distance of the mean features plus the real features' variance, which does not depend on the actor.
Its batch estimate with the plug-in means is biased by tr Cov(fake) / n, a pull towards identical
samples (mode collapse); we use the unbiased estimator instead (Gretton et al., JMLR 13, 723 (2012)),
with the linear kernel (eq. 3 exactly: means matched) or a sum of Gaussian kernels (whole feature
distributions matched), computed within groups of equal temperature (the conditional distributions).
"""
from __future__ import annotations

import torch

KERNELS = ("mean", "rbf")
BANDWIDTHS = (0.03, 0.1, 0.3, 1.0, 3.0)  #: Gaussian kernel widths, in units of the features' spread


def _kernel(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "mean":
        return a @ b.T
    d2 = torch.cdist(a, b).pow(2)
    return sum(torch.exp(-d2 / (2 * s * s)) for s in BANDWIDTHS)


def _standardize(real: torch.Tensor, fake: torch.Tensor, same: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows minus their group's mean, over their group's standard deviation (both sets pooled): every
    temperature weighs the same, however small its features' spread (high T: nearly random spins)."""
    both = torch.cat([real, fake]).detach()
    w = torch.cat([same, same], dim=1) / (2 * same.sum(1, keepdim=True))   # row i -> its group's members
    mu = w @ both
    sd = (w @ both.pow(2) - mu.pow(2)).clamp(min=1e-12).sqrt().clamp(min=1e-6)
    return (real - mu) / sd, (fake - mu) / sd


def grouped_mmd2(real: torch.Tensor, fake: torch.Tensor, groups: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    """Unbiased MMD^2 between real and fake float[B, F] rows, averaged over the groups (float/int[B],
    e.g. temperatures; row i of both sets is in group i) that hold at least two rows. Zero in
    expectation when both sets come from the same distribution in every group."""
    same = (groups[:, None] == groups[None, :]).float()
    if kind == "rbf":  # each group's features in units of its own spread over both sets (constants, no
        real, fake = _standardize(real, fake, same)  # gradient; symmetric in real and fake: unbiased)
    n = same.sum(1, keepdim=True)                      # members of each row's group
    keep = (n > 1).float()
    off = same * (1 - torch.eye(len(groups), device=real.device))
    w_off = off * keep / (n * (n - 1)).clamp(min=1)    # pairs i != j within the group
    w_all = same * keep / (n * n)                      # all pairs within the group
    total = (w_off * (_kernel(real, real, kind) + _kernel(fake, fake, kind))).sum() \
        - 2 * (w_all * _kernel(real, fake, kind)).sum()
    ngroups = (keep / n).sum().clamp(min=1)            # each group's rows sum to one
    return total / ngroups
