"""How well an unsupervised code separates the event classes: the class purity of each event's k
nearest neighbours (in the code, and in a 2D t-SNE of it: van der Maaten & Hinton, JMLR 9, 2579
(2008), with openTSNE, Policar et al., J. Stat. Softw. 109 (2024)) and the silhouette of the classes in
the t-SNE plane (Rousseeuw, J. Comput. Appl. Math. 20, 53 (1987))."""

from __future__ import annotations

import numpy as np

K = 10


def knn_purity(points: np.ndarray, labels: np.ndarray, k: int = K) -> float:
    """Mean fraction of each point's k nearest neighbours (itself excluded) that share its label."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(points) - 1)
    if k < 1:
        return float("nan")
    idx = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points, return_distance=False)[:, 1:]
    return float((labels[idx] == labels[:, None]).mean())


def embed_and_score(code: np.ndarray, labels: np.ndarray, limit: int, seed: int) -> dict:
    """{"knn_purity_code", "knn_purity_tsne", "silhouette_tsne", "embedding": float[m, 2], "labels"} of
    the first ``limit`` events."""
    from openTSNE import TSNE
    from sklearn.metrics import silhouette_score

    code, labels = code[:limit], labels[:limit]
    out = {"knn_purity_code": knn_purity(code, labels)}
    if len(code) < 4 * K or len(np.unique(labels)) < 2:
        return {**out, "knn_purity_tsne": float("nan"), "silhouette_tsne": float("nan")}
    perplexity = min(30.0, (len(code) - 1) / 3)
    emb = np.asarray(TSNE(perplexity=perplexity, random_state=seed, n_jobs=1, verbose=False).fit(code))
    out.update(
        knn_purity_tsne=knn_purity(emb, labels),
        silhouette_tsne=float(silhouette_score(emb, labels)),
        embedding=emb,
        labels=labels,
    )
    return out
