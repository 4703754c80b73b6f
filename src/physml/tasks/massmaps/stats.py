"""Summary statistics of convergence maps, the classical baselines of a CNN (Gupta et al., PRD 97,
103515 (2018); Ribli et al., MNRAS 490, 1843 (2019)): the binned power spectrum, peak counts, the
one-point moments; a logistic classifier of any of them, cross-validated; optimal linear denoisers."""

from __future__ import annotations

import numpy as np

from .fields import ARCMIN, grid_ell


def power_spectrum(maps: np.ndarray, pixel_arcmin: float, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(ell float[bins], C_l float[n, bins]): the azimuthally averaged |FFT|^2 A / N^4 of each map in
    log-spaced bins from the patch's fundamental mode to the Nyquist one."""
    n = maps.shape[-1]
    pix = pixel_arcmin * ARCMIN
    ell = grid_ell(n, pix).ravel()
    power = (np.abs(np.fft.fft2(maps)) ** 2).reshape(len(maps), -1) * (n * pix) ** 2 / n**4
    edges = np.geomspace(2 * np.pi / (n * pix), np.pi / pix, bins + 1)
    idx = np.digitize(ell, edges) - 1
    ok = (idx >= 0) & (idx < bins)
    counts = np.bincount(idx[ok], minlength=bins)
    sums = np.stack([np.bincount(idx[ok], weights=p[ok], minlength=bins) for p in power])
    return np.sqrt(edges[1:] * edges[:-1]), sums / np.maximum(counts, 1)


def peaks(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions int[k, 2], heights float[k]): pixels higher than their 8 neighbours, away from the edge."""
    from scipy.ndimage import maximum_filter

    ring = np.ones((3, 3), bool)
    ring[1, 1] = False
    top = image > maximum_filter(image, footprint=ring, mode="constant", cval=-np.inf)
    top[0, :] = top[-1, :] = top[:, 0] = top[:, -1] = False
    pos = np.argwhere(top)
    return pos, image[top]


def peak_counts(maps: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """float[n, len(edges) - 1]: the histogram of each map's peak heights."""
    return np.stack([np.histogram(peaks(m)[1], edges)[0] for m in maps]).astype(float)


def moments(maps: np.ndarray) -> np.ndarray:
    """float[n, 3]: log variance, skewness and excess kurtosis of each map's pixels."""
    d = maps.reshape(len(maps), -1).astype(np.float64)
    d = d - d.mean(1, keepdims=True)
    var = (d**2).mean(1)
    return np.stack([np.log(var), (d**3).mean(1) / var**1.5, (d**4).mean(1) / var**2 - 3], 1)


def cv_correct(features: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """bool[n]: whether a logistic regression on standardised ``features``, trained on the other folds
    (stratified), classifies each map right."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    k = max(2, min(folds, int(np.bincount(labels).min())))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    pred = cross_val_predict(clf, features, labels, cv=StratifiedKFold(k, shuffle=True, random_state=seed))
    return pred == labels


def paired_margin(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(mean(a) - mean(b), its standard error) for per-map correctness of two classifiers on the same maps."""
    d = a.astype(float) - b.astype(float)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")


def wiener(noisy: np.ndarray, signal_power: np.ndarray, noise_power: np.ndarray) -> np.ndarray:
    """float[n, N, N]: each map filtered by S / (S + N) per Fourier mode, S and N float[N, N] the mean
    |FFT|^2 of the signal and of the noise (Wiener 1949; the optimal linear filter of a Gaussian field)."""
    gain = signal_power / np.maximum(signal_power + noise_power, 1e-30)
    return np.fft.ifft2(np.fft.fft2(noisy) * gain).real


def peak_match(truth: np.ndarray, estimate: np.ndarray, nu: float, radius: float = 2.0) -> tuple[int, int, int, int]:
    """(true peaks, of them found, estimated peaks near a true one, estimated peaks): peaks of maps float[n,
    N, N] higher than ``nu`` times the rms of their own set of maps (a smoothed estimate has smaller
    peaks than the truth: each is judged on its own scale), matched within ``radius`` pixels."""
    t_cut, e_cut = nu * truth.std(), nu * estimate.std()
    n_true = found = near = n_est = 0
    for t, e in zip(truth, estimate):
        pt, ht = peaks(t)
        pe, he = peaks(e)
        pt, pe = pt[ht > t_cut], pe[he > e_cut]
        n_true, n_est = n_true + len(pt), n_est + len(pe)
        if len(pt) and len(pe):
            d = np.hypot(*(pt[:, None, :] - pe[None, :, :]).transpose(2, 0, 1)) <= radius
            found, near = found + int(d.any(1).sum()), near + int(d.any(0).sum())
    return n_true, found, near, n_est
