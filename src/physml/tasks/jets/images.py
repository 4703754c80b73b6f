"""Jet images and the standard preprocessing (de Oliveira et al. 2016, arXiv 1511.05190; Macaluso &
Shih 2018, arXiv 1803.00107): constituents in (eta, phi) relative to the jet are translated so the
pT-weighted centroid is at the centre, rotated so the principal axis of the pT-weighted second moments
is vertical, flipped so the brighter half lies right and up, binned into pixels x pixels pixels of
pT, and normalised to unit sum. Computed for a batch of jets at once (constituents zero-padded:
padding carries zero pT, so it weighs nothing); the one-jet functions are the batch of one."""

from __future__ import annotations

import numpy as np


def wrap(dphi: np.ndarray) -> np.ndarray:
    """Azimuth differences in [-pi, pi)."""
    return np.mod(dphi + np.pi, 2 * np.pi) - np.pi


def standardise_batch(pt: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre, rotate and flip points float[n, k] (x = phi, y = eta, radians) with weights pt (0 for
    padding): the new (x, y), per jet sum(pt x) = sum(pt y) = 0, the major axis along y and the
    heavier halves at x > 0, y > 0."""
    w = pt / np.maximum(pt.sum(1, keepdims=True), 1e-300)
    x = x - (w * x).sum(1, keepdims=True)
    y = y - (w * y).sum(1, keepdims=True)
    cxx, cyy, cxy = (w * x * x).sum(1), (w * y * y).sum(1), (w * x * y).sum(1)
    a = (np.pi / 2 - 0.5 * np.arctan2(2 * cxy, cxx - cyy))[:, None]  # the major axis onto y
    x, y = x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a)
    x = np.where(((w * (x < 0)).sum(1) > (w * (x > 0)).sum(1))[:, None], -x, x)
    y = np.where(((w * (y < 0)).sum(1) > (w * (y > 0)).sum(1))[:, None], -y, y)
    return x, y


def pixelate_batch(pt: np.ndarray, x: np.ndarray, y: np.ndarray, pixels: int, width: float) -> np.ndarray:
    """float32[n, pixels, pixels] (row = y from -width/2 up, column = x): the pT in each pixel over the
    jet's total inside the image (all zero when nothing falls inside); the bins of ``np.histogram2d``
    (the upper edge belongs to the last bin)."""
    n, h = len(pt), width / 2

    def index(v):
        i = np.floor((v + h) / width * pixels).astype(np.int64)
        return np.where(v == h, pixels - 1, i)

    ix, iy = index(x), index(y)
    inside = (ix >= 0) & (ix < pixels) & (iy >= 0) & (iy < pixels) & (pt != 0)
    rows = np.broadcast_to(np.arange(n)[:, None], pt.shape)
    flat = (rows[inside] * pixels + iy[inside]) * pixels + ix[inside]
    img = np.bincount(flat, weights=pt[inside], minlength=n * pixels * pixels).astype(np.float64)
    img = img.reshape(n, pixels, pixels)
    total = img.sum((1, 2), keepdims=True)
    return np.divide(img, total, out=np.zeros_like(img), where=total > 0).astype(np.float32)


def jet_images(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    jet_eta: np.ndarray,
    jet_phi: np.ndarray,
    pixels: int,
    width: float,
) -> np.ndarray:
    """The preprocessed images float32[n, pixels, pixels] of jets' constituents float[n, k] (pT GeV,
    0 for padding; eta; phi) about their axes (jet_eta, jet_phi: float[n]); ``width`` in radians (2R)."""
    x, y = standardise_batch(pt, wrap(phi - jet_phi[:, None]), eta - jet_eta[:, None])
    return pixelate_batch(pt, x, y, pixels, width)


def standardise(pt: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`standardise_batch` of one jet (float[k] each)."""
    u, v = standardise_batch(pt[None], x[None], y[None])
    return u[0], v[0]


def pixelate(pt: np.ndarray, x: np.ndarray, y: np.ndarray, pixels: int, width: float) -> np.ndarray:
    """:func:`pixelate_batch` of one jet: float32[pixels, pixels]."""
    return pixelate_batch(pt[None], x[None], y[None], pixels, width)[0]


def jet_image(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, jet_eta: float, jet_phi: float, pixels: int, width: float
) -> np.ndarray:
    """:func:`jet_images` of one jet: float32[pixels, pixels]."""
    return jet_images(pt[None], eta[None], phi[None], np.array([jet_eta]), np.array([jet_phi]), pixels, width)[0]
