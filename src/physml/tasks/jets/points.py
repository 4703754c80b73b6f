"""Jets as point clouds of constituents, and the taggers that read them.

Inputs float[n, P, 6] per jet, constituents hardest first, zero-padded to P: log(pT_i / pT_jet); the
constituent's (phi, eta) relative to the jet after the jet images' standardisation (centred on the pT
centroid, the principal axis along the second coordinate, the heavier halves positive:
:func:`.images.standardise_batch`, so the point clouds and the images see the same frame); log(E_i /
E_jet); dR to the jet axis; and a mask (1 for a constituent, 0 for padding). The inputs of the
benchmark papers (Kasieczka et al., SciPost Phys. 7, 014 (2019), section 3) with the images'
standardised frame instead of raw (d_eta, d_phi): a symmetry the network need not learn from data.

* :class:`ParticleFlowNetwork`: a Particle Flow Network / Deep Sets (Komiske, Metodiev & Thaler,
  JHEP 01 (2019) 121): a per-particle network Phi, a masked sum, a network F of the sum.
* :class:`EdgeConvNet`: a ParticleNet-style network (Qu & Gouskos, Phys. Rev. D 101, 056019 (2020)),
  CPU-sized: EdgeConv blocks over the k nearest neighbours in the (standardised) plane (the first
  block) and in the learnt features (the next), a masked mean, a dense head.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .images import standardise_batch, wrap

FEATURES = 6  # log pT_rel, x, y (standardised frame), log E_rel, dR, mask


def padded(columns, rows: np.ndarray, size: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(each column float[n, size] zero-padded, mask bool[n, size]) of the ``rows`` of list columns
    (object arrays of float arrays, hardest first; more than ``size`` are cut, the softest go)."""
    out = [np.zeros((len(rows), size)) for _ in columns]
    mask = np.zeros((len(rows), size), bool)
    for j, r in enumerate(rows):
        k = min(len(columns[0][r]), size)
        mask[j, :k] = True
        for o, c in zip(out, columns):
            o[j, :k] = np.asarray(c[r], np.float64)[:k]
    return out, mask


def point_features(
    c_pt, c_eta, c_phi, c_e, jet_pt: np.ndarray, jet_eta: np.ndarray, jet_phi: np.ndarray, keep: np.ndarray, size: int
) -> np.ndarray:
    """float32[n, size, 6] of the ``keep`` jets from their constituent columns (object arrays of
    float arrays, hardest first; more than ``size`` are cut, the softest go)."""
    rows = np.flatnonzero(keep)
    (pt, eta, phi, e), mask = padded((c_pt, c_eta, c_phi, c_e), rows, size)
    deta, dphi = eta - jet_eta[rows, None], wrap(phi - jet_phi[rows, None])
    w = np.where(mask, pt, 0.0)
    x, y = standardise_batch(w, dphi, deta)
    e_sum = np.where(mask, e, 0.0).sum(1, keepdims=True)
    feats = [
        np.log(np.maximum(pt, 1e-6) / jet_pt[rows, None]),
        x,
        y,
        np.log(np.maximum(e, 1e-6) / np.maximum(e_sum, 1e-6)),
        np.hypot(deta, dphi),
    ]
    out = np.stack([*feats, np.ones_like(x)], -1) * mask[..., None]
    return out.astype(np.float32)


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class ParticleFlowNetwork(nn.Module):
    """float[n, P, 6] -> logit float[n]: F(sum_i mask_i Phi(p_i))."""

    def __init__(self, width: int = 64, latent: int = 64):
        super().__init__()
        self.phi = _mlp([FEATURES - 1, width, width, latent])
        self.f = nn.Sequential(_mlp([latent, width, width]), nn.Linear(width, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = x[..., -1:]
        return self.f((self.phi(x[..., :-1]) * mask).sum(1))[:, 0]


def knn(coords: torch.Tensor, mask: torch.Tensor, k: int) -> torch.Tensor:
    """Indices long[n, P, k] of each point's k nearest real neighbours (itself excluded; padding far)."""
    d = torch.cdist(coords, coords)
    far = (1 - mask[..., 0]) * 1e6
    d = d + far[:, None, :] + torch.eye(d.shape[1], device=d.device) * 1e6
    return d.topk(min(k, d.shape[1] - 1), dim=-1, largest=False).indices


class EdgeConv(nn.Module):
    """h_i' = mean_j MLP([h_i, h_j - h_i]) over the neighbours j of i, plus a linear shortcut."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.mlp = _mlp([2 * c_in, c_out, c_out])
        self.short = nn.Linear(c_in, c_out)

    def forward(self, h: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        n, p, k = idx.shape
        flat = (idx + torch.arange(n, device=idx.device)[:, None, None] * p).reshape(-1)
        nb = h.reshape(n * p, -1)[flat].reshape(n, p, k, -1)
        centre = h[:, :, None].expand_as(nb)
        return torch.relu(self.mlp(torch.cat([centre, nb - centre], -1)).mean(2) + self.short(h))


class EdgeConvNet(nn.Module):
    """float[n, P, 6] -> logit float[n]: EdgeConv blocks (``widths``), a masked mean, a dense head."""

    def __init__(self, widths: tuple[int, ...] = (32, 64), k: int = 8, dense: int = 64):
        super().__init__()
        sizes = [FEATURES - 1, *widths]
        self.blocks = nn.ModuleList(EdgeConv(a, b) for a, b in zip(sizes, sizes[1:]))
        self.k = k
        self.head = nn.Sequential(nn.Linear(widths[-1], dense), nn.ReLU(), nn.Linear(dense, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask, h = x[..., -1:], x[..., :-1]
        idx = knn(x[..., 1:3], mask, self.k)
        for i, block in enumerate(self.blocks):
            if i:
                idx = knn(h, mask, self.k)
            h = block(h, idx) * mask
        pooled = h.sum(1) / mask.sum(1).clamp_min(1.0)
        return self.head(pooled)[:, 0]
