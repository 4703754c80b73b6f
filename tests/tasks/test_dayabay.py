"""The toy Daya Bay detector against what its optics must give (no Ray): charge linear in energy with
compound-Poisson spread, a centred source seen uniformly in azimuth and symmetrically in z, rotation
of the vertex rotating the image, the flasher cut on hand-made images, and the event classes."""

from __future__ import annotations

import numpy as np
import pytest

from physml.tasks.dayabay.detector import COLUMNS, RINGS, Detector
from physml.tasks.dayabay.events import CLASSES, MAKERS
from physml.tasks.dayabay.nets import PMTNet
from physml.tasks.dayabay.task import flasher_cut

DET = Detector()


@pytest.mark.parametrize("energy", [1.0, 3.0, 8.0])
def test_total_charge_is_linear_in_energy_with_compound_poisson_spread(energy):
    """At the centre: mean total charge 165 p.e./MeV x E within 4 standard errors, and its variance
    mu (1 + spe^2) (Poisson photoelectrons, each of gain 1 +- spe) within 4 standard errors of a variance."""
    n = 4000
    mu = DET.expected(np.zeros((n, 3)), np.full(n, energy))
    q = DET.observe(mu, np.random.default_rng(int(energy * 10))).reshape(n, -1).sum(1).astype(float)
    want = DET.light_yield * energy
    assert abs(q.mean() - want) < 4 * q.std(ddof=1) / np.sqrt(n)
    var = want * (1 + DET.spe**2)
    assert abs(q.var(ddof=1) - var) < 4 * var * np.sqrt(2 / (n - 1))


def test_a_centred_source_is_uniform_in_azimuth_and_symmetric_in_z():
    mu = DET.expected(np.zeros(3), np.array(5.0))
    assert np.allclose(mu, mu[:, :1]) and np.allclose(mu, mu[::-1])
    rng = np.random.default_rng(0)
    n = 3000
    q = DET.observe(np.broadcast_to(mu, (n, RINGS, COLUMNS)), rng).mean(0)
    for r in range(RINGS):  # chi^2 of the 24 column means about the ring's mean (Poisson x gain spread)
        se2 = mu[r, 0] * (1 + DET.spe**2) / n
        chi2 = ((q[r] - q[r].mean()) ** 2).sum() / se2
        assert chi2 < 23 + 5 * np.sqrt(2 * 23), (r, chi2)


@pytest.mark.parametrize("m", [1, 5, 12])
def test_rotating_the_vertex_rotates_the_image(m):
    x = np.array([0.7, 0.3, -0.4])
    a = 2 * np.pi * m / COLUMNS
    rot = np.array([x[0] * np.cos(a) - x[1] * np.sin(a), x[0] * np.sin(a) + x[1] * np.cos(a), x[2]])
    assert np.allclose(DET.expected(rot, np.array(2.0)), np.roll(DET.expected(x, np.array(2.0)), m, axis=1))


def test_light_falls_off_like_the_solid_angle():
    """Without reflectors or attenuation, a source moved towards a PMT along its axis is seen with
    the inverse-square law (the PMT faces it: cos = 1)."""
    d = Detector(reflectivity=0.0, attenuation=np.inf)
    pos, _ = d.pmts()
    k = 3 * COLUMNS  # ring 3, column 0
    near, far = (pos[k] * np.array([f, f, 1.0]) for f in (0.5, 0.1))
    w_near, w_far = (d._weights(p)[k] for p in (near, far))
    dist = [np.hypot(*(pos[k] - p)[:2]) for p in (near, far)]
    assert np.isclose(w_near / w_far, (dist[1] / dist[0]) ** 2, rtol=1e-9)


def test_the_flasher_cut_on_hand_made_images():
    q = np.full((4, RINGS, COLUMNS), 10.0)  # 0: uniform: MaxQ = 1/192, Quadrant = 1/2
    q[1, 4, 7] = 5000.0  # 1: one PMT discharging: MaxQ near 1
    q[2:] = 0.0
    q[2, :, 11:14] = 50.0  # 2: light around column 12 and opposite it (column 23): Quadrant = Q3 / 0
    q[2, :, 23] = 50.0
    q[3, :, 10:15] = 50.0  # 3: light on one side only: Quadrant = 0, MaxQ = 1/40
    assert list(flasher_cut(q)) == [False, True, True, False]


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(1)
    return {c: MAKERS[c](DET, 200, rng) for c in CLASSES}


def test_event_classes_look_like_their_physics(events):
    q = {c: DET.observe(mu, np.random.default_rng(2)) for c, (mu, _, _) in events.items()}
    total = {c: v.sum((1, 2)) for c, v in q.items()}
    assert np.median(total["delayed"]) > 1.5 * np.median(total["background"])
    assert (q["muon"].max((1, 2)) >= DET.saturation).mean() > 0.8  # muons saturate the nearest PMTs
    cut = {c: flasher_cut(v).mean() for c, v in q.items()}
    assert cut["flasher"] > 0.8 and max(cut["ibd"], cut["delayed"]) < 0.01, cut  # wall events may pass it


def test_the_network_is_equivariant_to_whole_turns_of_the_pattern():
    """Circular padding: rolling the image by 24 columns is the identity, and the network sees no
    seam between column 23 and 0 (a roll by 2 columns, a multiple of the pooling, changes the output
    only by the pooling's alignment: here equal, since the pooled features are averaged and maxed)."""
    import torch

    torch.manual_seed(0)
    net = PMTNet(5, 4, 8).eval()
    x = torch.rand(3, 1, RINGS, COLUMNS)
    with torch.no_grad():
        assert torch.allclose(net(x), net(torch.roll(x, 2, dims=3)), atol=1e-5)


def test_knn_purity_and_the_embedding_scores_on_known_clusters():
    from physml.tasks.dayabay.embedding import embed_and_score, knn_purity

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 100)
    blobs = rng.normal(0, 0.1, (300, 8)) + 5 * np.eye(8)[labels]
    assert knn_purity(blobs, labels) == 1.0  # separated clusters: every neighbour shares the label
    shuffled = rng.permutation(labels)
    p = knn_purity(blobs, shuffled)  # labels unrelated to position: purity = chance, 1/3
    assert abs(p - 1 / 3) < 4 * np.sqrt((1 / 3) * (2 / 3) / 300), p
    res = embed_and_score(blobs, labels, 300, 0)
    assert res["knn_purity_tsne"] > 0.99 and res["silhouette_tsne"] > 0.5 and res["embedding"].shape == (300, 2)
