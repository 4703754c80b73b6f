"""From unsupervised features to star/galaxy scores, with every label-dependent choice made on set A
only (the source's labelled set) and the scores judged on set B. Nothing here sees set B's labels.
"""

from __future__ import annotations

import numpy as np


def orientation(feature_a: np.ndarray, label_a: np.ndarray) -> float:
    """+1 if galaxies (label 1) of set A have the larger mean feature, else -1."""
    gal, star = feature_a[label_a == 1], feature_a[label_a == 0]
    if len(gal) == 0 or len(star) == 0:
        raise ValueError("set A needs both stars and galaxies to orient the score")
    return 1.0 if gal.mean() >= star.mean() else -1.0


def cluster_scores(embedding: np.ndarray, is_a: np.ndarray, label_a: np.ndarray, seed: int = 0) -> np.ndarray:
    """P(galaxy) of every row from a 2-component Gaussian mixture fitted to ``embedding`` (all rows,
    no labels); the component that holds more of set A's galaxies (label_a: labels of the ``is_a``
    rows, in order) is the galaxy component."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(2, random_state=seed, n_init=3).fit(embedding)
    post = gm.predict_proba(embedding)
    pa = post[is_a]
    frac = [pa[label_a == 1, k].sum() / max(pa[:, k].sum(), 1e-12) for k in (0, 1)]
    return post[:, int(np.argmax(frac))]


def embed(features: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """The VAE latents mapped to 2D by ``method`` (isomap | tsne | none), unsupervised."""
    if method == "none":
        return features
    if method == "isomap":
        from sklearn.manifold import Isomap

        return Isomap(n_neighbors=15, n_components=2).fit_transform(features)
    from sklearn.manifold import TSNE

    return TSNE(2, random_state=seed, init="pca", perplexity=30).fit_transform(features)


def judge(score: np.ndarray, label: np.ndarray, threshold: float) -> dict:
    """AUC (scikit-learn) and accuracy of ``score`` > threshold against ``label`` (set B)."""
    from sklearn.metrics import roc_auc_score

    return {"auc": float(roc_auc_score(label, score)), "acc": float(np.mean((score > threshold) == (label == 1)))}
