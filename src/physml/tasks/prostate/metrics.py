"""Segmentation losses and metrics: the source's soft Dice, the hard Dice coefficient, Hausdorff 95."""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import binary_erosion, distance_transform_edt


def soft_dice(p: torch.Tensor, g: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """D = (2 sum p_i g_i + eps) / (sum p_i^2 + sum g_i^2 + eps) over the whole batch (the source's
    form, Milletari et al. 2016, V-Net, eq. 1); ``eps`` makes an empty prediction of an empty mask
    score 1 instead of 0/0. ``p`` probabilities and ``g`` 0/1 targets of the same shape."""
    num = 2 * (p * g).sum() + eps
    return num / ((p * p).sum() + (g * g).sum() + eps)


def dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Hard DSC = 2 |A n B| / (|A| + |B|) of two boolean volumes; 1.0 when both are empty."""
    a, b = pred.astype(bool), truth.astype(bool)
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(a, b).sum() / total)


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~binary_erosion(mask, border_value=0)


def hausdorff95(pred: np.ndarray, truth: np.ndarray, spacing: tuple[float, ...]) -> float:
    """95th-percentile symmetric surface distance in mm (MONAI's HD95: the larger of the two directed
    95th percentiles). ``spacing`` per array axis (z, y, x for volumes). NaN if either is empty."""
    a, b = pred.astype(bool), truth.astype(bool)
    if not a.any() or not b.any():
        return float("nan")
    sa, sb = _surface(a), _surface(b)
    to_b = distance_transform_edt(~sb, sampling=spacing)[sa]
    to_a = distance_transform_edt(~sa, sampling=spacing)[sb]
    return float(max(np.percentile(to_b, 95), np.percentile(to_a, 95)))
