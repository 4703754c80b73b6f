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

from .config import KERNELS  # noqa: F401

BANDWIDTHS = (0.03, 0.1, 0.3, 1.0, 3.0)  #: Gaussian kernel widths, in units of the features' spread


def _kernel(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "mean":
        return a @ b.T
    d2 = torch.cdist(a, b).pow(2)
    return sum(torch.exp(-d2 / (2 * s * s)) for s in BANDWIDTHS)


def _standardize(
    real: torch.Tensor, fake: torch.Tensor, rr: torch.Tensor, ff: torch.Tensor, rf: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows minus their group's mean, over their group's standard deviation (the real and the fake set
    weighted equally): every temperature weighs the same, however small its features' spread (high T:
    nearly random spins). ``rr``, ``ff``, ``rf``: 0/1 same-group matrices real-real, fake-fake, real-fake."""
    real_d, fake_d = real.detach(), fake.detach()

    def pooled(a: torch.Tensor, b: torch.Tensor, aa: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """Per row of a: its group's first and second moments, the mean of a's and b's."""
        wa, wb = aa / aa.sum(1, keepdim=True), ab / ab.sum(1, keepdim=True).clamp(min=1)
        m1 = 0.5 * (wa @ a + wb @ b)
        m2 = 0.5 * (wa @ a.pow(2) + wb @ b.pow(2))
        return m1, (m2 - m1.pow(2)).clamp(min=1e-12).sqrt().clamp(min=1e-6)

    mu_r, sd_r = pooled(real_d, fake_d, rr, rf)
    mu_f, sd_f = pooled(fake_d, real_d, ff, rf.T)
    return (real - mu_r) / sd_r, (fake - mu_f) / sd_f


def grouped_mmd2(
    real: torch.Tensor,
    fake: torch.Tensor,
    groups: torch.Tensor,
    kind: str = "mean",
    fake_groups: torch.Tensor | None = None,
    standardize: bool | None = None,
) -> torch.Tensor:
    """Unbiased MMD^2 between real float[B, F] and fake float[B', F] rows, averaged over the groups
    (``groups`` float/int[B], e.g. temperatures; ``fake_groups`` [B'], default ``groups``) that hold at
    least two rows of each set. Zero in expectation when both sets come from the same distribution in
    every group; more fake rows per group (B' = k B) lower its variance. ``standardize`` (default: rbf
    only) puts each group's features in units of their spread; with the mean kernel the result is then
    the sum over features of (mean difference / spread)^2."""
    fg = groups if fake_groups is None else fake_groups
    rr = (groups[:, None] == groups[None, :]).float()
    ff = (fg[:, None] == fg[None, :]).float()
    rf = (groups[:, None] == fg[None, :]).float()
    if kind == "rbf" if standardize is None else standardize:  # each group's features in units of its
        real, fake = _standardize(real, fake, rr, ff, rf)  # spread over both sets (constants, no gradient)
    n_r, n_rf = rr.sum(1, keepdim=True), rf.sum(1, keepdim=True)  # per real row: its group's real, fake rows
    n_f, n_fr = ff.sum(1, keepdim=True), rf.sum(0)[:, None]  # per fake row: its group's fake, real rows
    keep_r = ((n_r > 1) & (n_rf > 1)).float()
    keep_f = ((n_f > 1) & (n_fr > 1)).float()
    off = lambda m: m * (1 - torch.eye(len(m), device=m.device))
    total = (
        (off(rr) * keep_r / (n_r * (n_r - 1)).clamp(min=1) * _kernel(real, real, kind)).sum()
        + (off(ff) * keep_f / (n_f * (n_f - 1)).clamp(min=1) * _kernel(fake, fake, kind)).sum()
        - 2 * (rf * keep_r / (n_r * n_rf).clamp(min=1) * _kernel(real, fake, kind)).sum()
    )
    ngroups = (keep_r / n_r).sum().clamp(min=1)  # each kept group's real rows sum to one
    return total / ngroups
