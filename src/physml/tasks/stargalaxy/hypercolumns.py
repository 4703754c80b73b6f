"""Unsupervised foreground segmentation with hypercolumns (the seed's Fig. 9, 10; Hariharan et al.
2015, arXiv 1411.5752): a fully convolutional autoencoder learns to reconstruct fields; each pixel's
feature vector is the activations of every encoder level at that pixel (coarser levels upsampled
bilinearly), and two clusters of those vectors (k-means) split foreground from background, the
foreground being the cluster of brighter pixels. Optionally a residual connection adds the first
level's activations to the decoder's last features (the source's variant with a skip)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class HypercolumnAE(nn.Module):
    """[n, 1, S, S] -> {"recon": [n, 1, S, S], "levels": [n, c_k, S / 2^k, S / 2^k] for k = 0..depth}.
    Level 0 is a stride-1 convolution; each further level halves the size and doubles the width."""

    def __init__(self, channels: int = 16, depth: int = 3, residual: bool = False):
        super().__init__()
        widths = [channels * 2**k for k in range(depth + 1)]
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1), nn.LeakyReLU(0.1))
        self.down = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 3, 2, 1), nn.LeakyReLU(0.1)) for a, b in zip(widths, widths[1:])
        )
        self.up = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose2d(b, a, 4, 2, 1), nn.LeakyReLU(0.1))
            for a, b in zip(widths[::-1][1:], widths[::-1])
        )
        self.out = nn.Conv2d(widths[0], 1, 3, padding=1)
        self.residual = residual

    def forward(self, x: torch.Tensor) -> dict:
        levels = [self.stem(x)]
        for d in self.down:
            levels.append(d(levels[-1]))
        h = levels[-1]
        for u in self.up:
            h = u(h)
        if self.residual:
            h = h + levels[0]
        return {"recon": self.out(h), "levels": levels}


def hypercolumns(levels: list[torch.Tensor]) -> torch.Tensor:
    """[n, sum c_k, S, S]: every level upsampled (bilinear) to the input size, each standardised to
    unit RMS so that wide coarse levels do not drown the fine ones."""
    size = levels[0].shape[-2:]
    out = []
    for lv in levels:
        up = lv if lv.shape[-2:] == size else F.interpolate(lv, size=size, mode="bilinear", align_corners=False)
        out.append(up / up.pow(2).mean().sqrt().clamp_min(1e-6))
    return torch.cat(out, 1)


def fit_clusters(features: np.ndarray, intensity: np.ndarray, seed: int = 0, fit_pixels: int = 100_000):
    """(k-means with k = 2 (scikit-learn) fitted on up to ``fit_pixels`` random pixels of features
    float[n, C, S, S], the index of the foreground cluster: the one whose pixels are brighter on
    average in ``intensity`` float[n, S, S])."""
    from sklearn.cluster import KMeans

    c = features.shape[1]
    flat = features.transpose(0, 2, 3, 1).reshape(-1, c)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(flat), min(fit_pixels, len(flat)), replace=False)
    km = KMeans(2, n_init=3, random_state=seed).fit(flat[pick])
    labels, bright = km.labels_, intensity.reshape(-1)[pick]
    fg = int(np.argmax([bright[labels == k].mean() if (labels == k).any() else -np.inf for k in (0, 1)]))
    return km, fg


def predict_masks(km, fg: int, features: np.ndarray) -> np.ndarray:
    """bool[n, S, S]: the pixels of features float[n, C, S, S] in the foreground cluster."""
    n, c, s1, s2 = features.shape
    return (km.predict(features.transpose(0, 2, 3, 1).reshape(-1, c)) == fg).reshape(n, s1, s2)


def iou(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """float[n]: intersection over union of boolean masks [n, S, S] (1 when both are empty)."""
    inter = (pred & truth).reshape(len(pred), -1).sum(1)
    union = (pred | truth).reshape(len(pred), -1).sum(1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def threshold_masks(images: np.ndarray, k: float = 1.5) -> np.ndarray:
    """The classical baseline: pixels above k x the image's noise (MAD of all pixels), bool[n, S, S]."""
    n = len(images)
    flat = images.reshape(n, -1)
    med = np.median(flat, 1, keepdims=True)
    sigma = 1.4826 * np.median(np.abs(flat - med), 1, keepdims=True)
    return (flat - med > k * sigma).reshape(images.shape)
