"""jets / jets-anomaly: the calorimeter, jets and N-subjettiness on constructed events, the image
preprocessing, the Pythia generator on a handful of events, the metrics on cases with known answers,
the networks' shapes and bad input. Independent truth: energy conservation, the resolution formula,
exact geometry of constructed jets, the top mass, closed-form ROC curves."""

import numpy as np
import pytest
import torch

from physml.config import from_dict
from physml.tasks.jets.calorimeter import Calorimeter, deposit, eta_phi
from physml.tasks.jets.evaluation import cut_score, rejection, sculpting, summarise
from physml.tasks.jets.events import make_pythia
from physml.tasks.jets.images import jet_image, pixelate, standardise
from physml.tasks.jets.nets import JetAutoencoder, JetCNN, check_pixels
from physml.tasks.jets.source import CHUNK, JetParams, JetsSource
from physml.tasks.jets.substructure import antikt_jets, mass, tau_n
from physml.tasks.jets.task import (
    JetAnomaly,
    JetsConfig,
    JetsData,
    JetTagging,
    to_arrays,
)
from physml.tasks.splits import split_of


def p4_from(pt, eta, phi, m=0.0) -> np.ndarray:
    """float[n, 4] (px, py, pz, E) of particles with mass m."""
    pt, eta, phi = (np.atleast_1d(np.asarray(v, float)) for v in (pt, eta, phi))
    pz = pt * np.sinh(eta)
    return np.stack([pt * np.cos(phi), pt * np.sin(phi), pz, np.sqrt(pt**2 + pz**2 + m**2)], 1)


# --- calorimeter -------------------------------------------------------------------------------


def test_ideal_calorimeter_conserves_energy_inside_the_acceptance():
    rng = np.random.default_rng(1)
    p = p4_from(rng.exponential(20, 500), rng.uniform(-3.5, 3.5, 500), rng.uniform(-np.pi, np.pi, 500), 0.14)
    calo = Calorimeter(threshold=0.0)
    towers = deposit(p, calo, None)
    inside = np.abs(eta_phi(p)[1]) < calo.eta_max
    assert towers[:, 3].sum() == pytest.approx(p[inside, 3].sum(), rel=1e-12)
    assert np.allclose(towers[:, 3] ** 2, (towers[:, :3] ** 2).sum(1), rtol=1e-9)  # massless towers
    _, eta, phi = eta_phi(towers)  # at tower centres: (k + 1/2) cell from the grid edge
    k = (eta + calo.eta_max) / calo.cell - 0.5
    assert np.allclose(k, np.round(k), atol=1e-6)


def test_particles_in_one_tower_merge_and_the_threshold_drops_soft_towers():
    calo = Calorimeter(cell=0.1, threshold=1.0)
    p = p4_from([10.0, 5.0, 0.5], [0.52, 0.57, -1.0], [0.01, 0.02, 2.0])
    towers = deposit(p, calo, None)
    assert len(towers) == 1 and towers[0, 3] == pytest.approx(p[:2, 3].sum())


def test_smearing_follows_the_resolution_formula():
    """sigma_E / E = a / sqrt(E) (+) b at E = 100 GeV: std of 4000 towers within 5 standard errors."""
    calo = Calorimeter(stochastic=0.5, constant=0.03, threshold=0.0)
    rng = np.random.default_rng(2)
    e = np.array([deposit(p4_from(100.0, 0.0, 0.3), calo, rng)[0, 3] for _ in range(4000)])
    sigma = 100.0 * np.sqrt(0.5**2 / 100.0 + 0.03**2)
    se = sigma / np.sqrt(2 * (len(e) - 1))  # standard error of a Gaussian sample's std
    assert abs(e.std(ddof=1) - sigma) < 5 * se
    assert abs(e.mean() - 100.0) < 5 * sigma / np.sqrt(len(e))


@pytest.mark.parametrize("kw,needle", [({"cell": 0.0}, "cell = 0.0"), ({"stochastic": -1}, "must be >= 0")])
def test_bad_calorimeter(kw, needle):
    with pytest.raises(ValueError, match=needle):
        Calorimeter(**kw)


# --- jets and substructure ---------------------------------------------------------------------


def test_antikt_separates_distant_clusters_and_applies_the_pt_cut():
    a = p4_from([100, 50, 30], [0.0, 0.1, -0.1], [0.0, 0.1, 0.05])
    b = p4_from([80, 40], [1.5, 1.6], [2.5, 2.4])
    soft = p4_from([5.0], [-2.0], [-2.0])
    jets = antikt_jets(np.concatenate([a, b, soft]), 0.8, 20.0)
    assert [sorted(j.tolist()) for j in jets] == [[0, 1, 2], [3, 4]]


def test_jet_mass_of_two_massless_particles():
    """m^2 = 2 pT1 pT2 (cosh(d eta) - cos(d phi))."""
    p = p4_from([300.0, 200.0], [0.2, -0.1], [0.1, 0.5])
    want = np.sqrt(2 * 300 * 200 * (np.cosh(0.3) - np.cos(0.4)))
    assert mass(p) == pytest.approx(want, rel=1e-9)


def test_n_subjettiness_vanishes_with_n_prongs_and_matches_the_formula():
    prongs = p4_from([200.0, 150.0, 100.0], [0.0, 0.3, -0.2], [0.0, 0.25, 0.3])
    three = np.repeat(prongs / 4, 4, axis=0)  # each prong: 4 collinear particles
    assert tau_n(three, 3, 0.8) == pytest.approx(0.0, abs=1e-9)
    assert tau_n(three, 2, 0.8) > 0.01
    # tau_1 with an axis given: sum pT dR / (sum pT R), by hand
    axis = p4_from([1.0], [0.05], [0.1])
    y = 0.5 * np.log((prongs[:, 3] + prongs[:, 2]) / (prongs[:, 3] - prongs[:, 2]))  # = eta (massless)
    dr = np.hypot(y - 0.05, np.arctan2(prongs[:, 1], prongs[:, 0]) - 0.1)
    assert tau_n(prongs, 1, 0.8, axes=axis) == pytest.approx((np.array([200, 150, 100]) * dr).sum() / (450 * 0.8))
    assert tau_n(prongs[:2], 2, 0.8) == 0.0  # no more particles than axes


# --- images ------------------------------------------------------------------------------------


def _two_prong(rng, n=60):
    """A jet-like point cloud: a hard core and a softer second prong, plus soft spray."""
    x = np.r_[rng.normal(0, 0.02, n), rng.normal(0.25, 0.02, n // 2), rng.uniform(-0.5, 0.5, 20)]
    y = np.r_[rng.normal(0, 0.02, n), rng.normal(0.10, 0.02, n // 2), rng.uniform(-0.5, 0.5, 20)]
    pt = np.r_[rng.exponential(10, n), rng.exponential(5, n // 2), rng.exponential(0.5, 20)]
    return pt, x, y


def test_standardise_centres_rotates_and_flips():
    pt, x, y = _two_prong(np.random.default_rng(3))
    u, v = standardise(pt, x, y)
    w = pt / pt.sum()
    assert abs((w * u).sum()) < 1e-12 and abs((w * v).sum()) < 1e-12
    assert abs((w * u * v).sum()) < 1e-12 and (w * v * v).sum() > (w * u * u).sum()  # major axis vertical
    assert w[u > 0].sum() >= w[u < 0].sum() and w[v > 0].sum() >= w[v < 0].sum()


def test_jet_image_is_invariant_under_rotation_translation_and_reflection():
    pt, x, y = _two_prong(np.random.default_rng(4))
    ref = jet_image(pt, y, x, 0.0, 0.0, 40, 1.6)
    for angle, shift, mirror in ((0.7, (0.3, -2.9), 1), (2.1, (-1.0, 3.1), -1), (-1.3, (0.5, 0.0), -1)):
        c, s = np.cos(angle), np.sin(angle)
        xr, yr = mirror * (c * x - s * y), s * x + c * y
        img = jet_image(pt, yr + shift[0], xr + shift[1], shift[0], shift[1], 40, 1.6)  # phi wraps at pi
        assert np.abs(img - ref).sum() < 0.02  # pixel-edge effects only
    assert ref.sum() == pytest.approx(1.0, rel=1e-6) and ref.shape == (40, 40)


def test_pixelate_puts_points_in_the_right_pixels():
    img = pixelate(np.array([1.0, 3.0]), np.array([-0.79, 0.01]), np.array([0.79, -0.01]), 4, 1.6)
    assert img[3, 0] == pytest.approx(0.25) and img[1, 2] == pytest.approx(0.75)  # row = y, column = x
    assert pixelate(np.array([1.0]), np.array([5.0]), np.array([5.0]), 4, 1.6).sum() == 0.0


# --- the generator -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def few_jets():
    src = JetsSource(JetParams(n=12, seed=5))
    return src, {it["process"]: src.make(it) for it in src.items()}


def test_generator_finds_jets_in_the_window_with_normalised_images(few_jets):
    src, tables = few_jets
    for proc, t in tables.items():
        assert t.num_rows == 12 and set(t.column("process").to_pylist()) == {proc}
        pt, eta = t.column("pt").to_numpy(), t.column("eta").to_numpy()
        assert ((pt >= 500) & (pt <= 600)).all() and (np.abs(eta) < 2.0).all()
        img = np.stack(t.column("image").to_numpy(zero_copy_only=False))
        assert img.shape == (12, 1600) and np.allclose(img.sum(1), 1.0, atol=1e-5) and (img >= 0).all()
        n = t.column("n_constituents").to_numpy()
        assert (n == [len(c) for c in t.column("c_pt").to_pylist()]).all() and (n > 3).all()
        # the constituents add up to the jet
        c = t.slice(0, 1).to_pylist()[0]
        sum4 = p4_from(c["c_pt"], c["c_eta"], c["c_phi"]).sum(0)
        assert np.hypot(sum4[0], sum4[1]) == pytest.approx(c["pt"], rel=1e-4)


def test_top_jets_carry_the_top_mass_and_three_prongs(few_jets):
    """Hadronic top jets: median mass near m_t = 172.5 GeV, QCD jets far lighter; tau_32 lower."""
    _, t = few_jets
    m_top, m_qcd = np.median(t["top"].column("mass").to_numpy()), np.median(t["qcd"].column("mass").to_numpy())
    assert 145 < m_top < 195 and m_qcd < 120
    assert np.median(t["top"].column("tau32").to_numpy()) < np.median(t["qcd"].column("tau32").to_numpy())


def test_generator_is_reproducible_from_the_seed(few_jets):
    src, tables = few_jets
    item = src.items()[1]
    again = JetsSource(JetParams(n=12, seed=5)).make(item)
    assert again.equals(tables[item["process"]])
    other = JetsSource(JetParams(n=12, seed=6)).make(item)
    assert not np.array_equal(other.column("pt").to_numpy(), tables[item["process"]].column("pt").to_numpy())


def test_items_are_chunks_of_one_process():
    items = JetsSource(JetParams(n=CHUNK + 7)).items()
    assert [(i["process"], i["n"]) for i in items] == [("qcd", CHUNK), ("qcd", 7), ("top", CHUNK), ("top", 7)]


@pytest.mark.parametrize(
    "kw,needle",
    [
        ({"pt_min": 600.0, "pt_max": 500.0}, "the pT window is empty"),
        ({"processes": ("qcd", "higgs")}, "processes = higgs: choose from qcd, top"),
        ({"pixels": 0}, "pixels = 0: the image needs >= 1 pixel"),
        ({"pt_min": 100.0, "pt_max": 9000.0}, "above sqrt"),
    ],
)
def test_bad_generator_params(kw, needle):
    with pytest.raises(ValueError, match=needle):
        JetParams(**kw)


def test_unknown_pythia_process():
    with pytest.raises(ValueError, match="process = 'wz': choose one of qcd, top"):
        make_pythia("wz", 14000.0, (400.0, 600.0), 1)


# --- metrics -----------------------------------------------------------------------------------


def test_metrics_on_a_closed_form_roc():
    """Background score u, signal score max(u1, u2): eps_S(t) = 1 - t^2, eps_B(t) = 1 - t, so
    AUC = E[max] = 2/3 and 1/eps_B at eps_S = 0.3 is 1 / (1 - sqrt(0.7)) = 6.12."""
    rng = np.random.default_rng(7)
    n = 100_000
    y = np.r_[np.zeros(n), np.ones(n)]
    s = np.r_[rng.uniform(size=n), rng.uniform(size=(n, 2)).max(1)]
    res = summarise(y, s, rng.uniform(0, 300, 2 * n), rng.uniform(size=2 * n), (140.0, 200.0))
    se_auc = np.sqrt(2 / 3 * (1 - 2 / 3) / n)  # generous: the binomial SE of one proportion
    assert abs(res["auc"] - 2 / 3) < 5 * se_auc
    want = 1 / (1 - np.sqrt(0.7))
    # eps_B at fixed eps_S: SE ~ sqrt(eps(1-eps)/n) on eps_B (plus the threshold's own spread)
    se_eps = np.sqrt(0.163 * 0.837 / n) * 2
    assert abs(1 / res["rejection30"] - 1 / want) < 5 * se_eps


def test_perfect_tagger_and_the_cut_baseline():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert rejection(y, y.astype(float)) == 4.0  # eps_B = 0: the bound 1 / n_B = 4 background jets
    mass = np.array([90.0, 170.0, 175.0, 300.0, 172.0, 168.0, 180.0, 60.0])
    tau32 = np.array([0.2, 0.8, 0.6, 0.1, 0.3, 0.4, 0.5, 0.1])
    s = cut_score(mass, tau32, (140.0, 200.0))
    inside = (mass >= 140) & (mass <= 200)
    assert (s[~inside] < s[inside].min()).all()  # outside the window: rejected first
    assert np.argsort(-s[inside]).tolist() == np.argsort(tau32[inside]).tolist()  # then by tau32


def test_mass_sculpting_zero_when_independent_large_when_the_score_is_the_mass():
    rng = np.random.default_rng(8)
    n = 200_000
    y = np.r_[np.zeros(n), np.ones(n)].astype(int)
    m = np.r_[rng.exponential(60, n), rng.normal(172, 15, n)]
    independent = sculpting(y, rng.uniform(size=2 * n), m)  # the cut keeps half the tops and half the QCD
    assert independent["jsd"] < 5e-3 and independent["after"].sum() == pytest.approx(0.5 * n, rel=0.02)
    assert sculpting(y, -np.abs(m - 172.0), m)["jsd"] > 0.3


# --- networks and the task config ---------------------------------------------------------------


@pytest.mark.parametrize("pixels,depth", [(40, 2), (40, 3), (32, 1), (64, 4)])
def test_network_shapes(pixels, depth):
    x = torch.rand(3, 1, pixels, pixels)
    assert JetCNN(pixels, 4, depth, 8)(x).shape == (3,)
    assert JetAutoencoder(pixels, 4, depth, 6)(x).shape == x.shape


def test_image_size_the_networks_cannot_take():
    with pytest.raises(ValueError, match=r"data.pixels = 36: .* multiples of 2\^model.depth = 8 \(8, 16, 24, 32, 40"):
        check_pixels(36, 3)
    with pytest.raises(ValueError, match="data.pixels = 20"):
        from_dict(JetsConfig, {"data": {"pixels": 20}, "model": {"depth": 3}})


@pytest.mark.parametrize(
    "d,needle",
    [
        ({"pt": [600.0, 500.0]}, "data.pt = \\[600.0, 500.0\\]: the pT window is empty"),
        ({"max_rows": -1}, "data.max_rows = -1"),
    ],
)
def test_bad_task_data(d, needle):
    with pytest.raises(ValueError, match=needle):
        JetsData(**d)


def test_max_rows_selects_whole_chunks_per_process_and_anomaly_trains_on_qcd():
    assert JetsData(max_rows=0).where() == {}
    assert JetsData(max_rows=2 * CHUNK).where() == {"chunk": [0]}
    assert JetsData(max_rows=2 * CHUNK + 1).where() == {"chunk": [0, 1]}
    cfg = JetsConfig(data=JetsData(max_rows=10))
    assert JetAnomaly().datasets(cfg, "x")["train"].where == {"chunk": [0], "process": "qcd"}
    assert JetAnomaly().datasets(cfg, "x")["test"].where == {"chunk": [0]}
    assert JetTagging().datasets(cfg, "x")["train"].where == {"chunk": [0]}


def test_evaluating_on_the_training_data_scores_its_test_split_only():
    ids = np.array([f"qcd-0-00000-{i:04d}" for i in range(200)])
    column = np.empty(200, object)
    column[:] = list(np.ones((200, 16), np.float32))
    batch = {"id": ids, "label": np.zeros(200), "image": column, "mass": np.ones(200), "tau32": np.ones(200)}
    cfg = JetsConfig(data=JetsData(uri="data/jets", holdout=5))
    own = JetTagging().evaluation_datasets(cfg, "data/jets")["test"].preprocess(batch)
    other = JetTagging().evaluation_datasets(cfg, "data/other")["test"].preprocess(batch)
    assert len(other["y"]) == 200 and len(own["y"]) == (split_of(ids, 5) == 1).sum() < 80


def test_to_arrays_scales_images_to_their_peak_and_keeps_the_split():
    img = np.zeros((4, 16), np.float32)
    img[:, 5] = 0.5
    img[:, 6] = 0.25
    column = np.empty(4, object)  # as Arrow gives a fixed-size list column
    column[:] = list(img)
    batch = {
        "id": np.array(["a", "b", "c", "d"]),
        "label": np.array([0, 1, 0, 1]),
        "image": column,
        "mass": np.arange(4.0),
        "tau32": np.full(4, 0.5),
    }
    out = to_arrays(batch, None, 10)
    assert out["x"].shape == (4, 1, 4, 4) and out["x"].max() == 1.0 and out["x"][0, 0, 1, 2] == 0.5
    assert out["y"].tolist() == [0, 1, 0, 1]
    assert (split_of(batch["id"], 100) != 0).all()  # so a batch without rows of split 0:
    none = to_arrays(batch, 0, 100)
    assert none["x"].shape[0] == len(none["y"]) == len(none["mass"]) == 0


def test_evaluation_refuses_one_class():
    model = JetCNN(8, 2, 1, 4)
    batch = {"x": torch.rand(4, 1, 8, 8), "y": torch.zeros(4), "mass": torch.ones(4), "tau32": torch.ones(4)}
    cfg = JetsConfig(data=JetsData(pixels=8), model=from_dict(JetsConfig, {"model": {"depth": 1}}).model)
    with pytest.raises(ValueError, match="one class only"):
        JetTagging().evaluate(model, [batch], cfg)
