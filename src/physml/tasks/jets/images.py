"""Jet images and the standard preprocessing (de Oliveira et al. 2016, arXiv 1511.05190; Macaluso &
Shih 2018, arXiv 1803.00107): constituents in (eta, phi) relative to the jet are translated so the
pT-weighted centroid is at the centre, rotated so the principal axis of the pT-weighted second moments
is vertical, flipped so the brighter half lies right and up, binned into pixels x pixels pixels of
pT, and normalised to unit sum."""

from __future__ import annotations

import numpy as np


def wrap(dphi: np.ndarray) -> np.ndarray:
    """Azimuth differences in [-pi, pi)."""
    return np.mod(dphi + np.pi, 2 * np.pi) - np.pi


def standardise(pt: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre, rotate and flip points (x = phi, y = eta, radians) with weights pt: returns the new
    (x, y), with sum(pt x) = sum(pt y) = 0, the major axis along y and the heavier halves at x > 0, y > 0."""
    w = pt / pt.sum()
    x, y = x - (w * x).sum(), y - (w * y).sum()
    cxx, cyy, cxy = (w * x * x).sum(), (w * y * y).sum(), (w * x * y).sum()
    theta = 0.5 * np.arctan2(2 * cxy, cxx - cyy)  # major axis angle from the x axis
    a = np.pi / 2 - theta
    x, y = x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a)
    if w[x < 0].sum() > w[x > 0].sum():
        x = -x
    if w[y < 0].sum() > w[y > 0].sum():
        y = -y
    return x, y


def pixelate(pt: np.ndarray, x: np.ndarray, y: np.ndarray, pixels: int, width: float) -> np.ndarray:
    """float32[pixels, pixels] (row = y from -width/2 up, column = x): the pT in each pixel, divided
    by the total in the image (all zero when nothing falls inside)."""
    h = width / 2
    img, _, _ = np.histogram2d(y, x, bins=pixels, range=[[-h, h], [-h, h]], weights=pt)
    total = img.sum()
    return (img / total if total > 0 else img).astype(np.float32)


def jet_image(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, jet_eta: float, jet_phi: float, pixels: int, width: float
) -> np.ndarray:
    """The preprocessed image float32[pixels, pixels] of constituents (pT GeV, eta, phi) of a jet at
    (jet_eta, jet_phi); ``width`` in radians (2R: the jet's cone)."""
    x, y = standardise(pt, wrap(phi - jet_phi), eta - jet_eta)
    return pixelate(pt, x, y, pixels, width)
