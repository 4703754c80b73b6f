"""phases-supervised without Ray: shapes, import hygiene, and the physics on small data."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from physml.config import ConfigError, from_dict
from physml.kernels import ising
from physml.kernels.lattice import random_spins
from physml.kernels.rng import seed_states
from physml.physics import TC
from physml.tasks.phases.crossing import extrapolate_inverse_L, half_crossing
from physml.tasks.phases.data import to_arrays
from physml.tasks.phases.nets import ConvClassifier, DenseClassifier
from physml.tasks.phases.supervised import SupervisedPhases


@pytest.mark.parametrize(
    "net,L,shape",
    [(ConvClassifier(8, 16), 8, (5,)), (ConvClassifier(8, 16), 33, (5,)), (DenseClassifier(12, 100), 12, (5,))],
)
def test_model_shapes(net, L, shape):
    assert net(torch.ones(5, L, L)).shape == shape


def test_dense_net_refuses_other_sizes():
    with pytest.raises(ValueError, match="built for L = 12"):
        DenseClassifier(12)(torch.ones(2, 16, 16))


def test_task_imports_neither_ray_nor_mlflow():
    code = (
        "import sys, physml.tasks.phases.supervised, physml.tasks.ising.sampler, physml.tasks.ising_generation.task, "
        "physml.tasks.prostate.task, physml.tasks.prostate.source, physml.tasks.prostate.evaluation, "
        "physml.tasks.stargalaxy.task, physml.tasks.stargalaxy.source, physml.tasks.stargalaxy.evaluation; "
        "assert 'ray' not in sys.modules and 'mlflow' not in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_config_rejects_unknown_keys_and_wrong_types():
    C = SupervisedPhases.Config
    with pytest.raises(ConfigError, match="unknown config key 'model.depth'; valid keys here: channels, hidden, kind"):
        from_dict(C, {"model": {"depth": 3}})
    with pytest.raises(ConfigError, match="train.epochs = 'ten': expected an integer"):
        from_dict(C, {"train": {"epochs": "ten"}})
    with pytest.raises(ConfigError, match="train.optimizer = 'lbfgs': choose one of adam, adamw, sgd"):
        from_dict(C, {"train": {"optimizer": "lbfgs"}})


def test_crossing_helpers_on_known_curves():
    t = np.linspace(2.0, 2.6, 13)
    p = 1 / (1 + np.exp((t - 2.31) / 0.05))
    tc, err = half_crossing(t, p, np.full(t.size, 0.01))
    assert abs(tc - 2.31) < 1e-3
    sizes = np.array([16, 24, 32])
    tc_inf, _ = extrapolate_inverse_L(sizes, TC + 0.8 / sizes, np.full(3, 0.001))
    assert tc_inf == pytest.approx(TC, abs=1e-9)
    assert np.isnan(half_crossing(t, np.full(t.size, 0.9), np.full(t.size, 0.01))[0])


def _ising_batch(L, temps, replicas, nrec, seed):
    n = len(temps) * replicas
    T = np.repeat(temps, replicas)
    rng = seed_states(seed, range(n))
    spins = np.stack([random_spins(L, rng[c]) for c in range(n)])
    e, m, conf = ising.run("wolff", spins, T, 0.0, rng, np.zeros(n, np.int64), nrec, 5, 200)
    return {
        "chain": np.repeat(np.arange(n), nrec),
        "temperature": np.repeat(T, nrec),
        "magnetization": m.ravel(),
        "spins": conf.reshape(n * nrec, L * L),
    }


def test_supervised_crossing_within_3_percent_of_tc():
    """Train at L = 24 (labels from the exact Tc), evaluate at L = 16 and 24: the 1/L-extrapolated crossing
    lands within 3% of Onsager's Tc (Carrasquilla & Melko's result on small data)."""
    torch.manual_seed(0)
    task = SupervisedPhases()
    cfg = from_dict(
        task.Config, {"data": {"L": [16, 24], "exclude": 0.0, "holdout": 4}, "model": {"channels": 8, "hidden": 16}}
    )
    temps = np.round(np.linspace(1.5, 3.1, 17), 3)
    train = to_arrays(_ising_batch(24, temps, 8, 60, seed=1), "train", 4, 0.0)
    model = task.model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x, y = torch.as_tensor(train["x"]), torch.as_tensor(train["y"])
    for _ in range(4):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 128):
            idx = perm[i : i + 128]
            loss = task.loss(model, {"x": x[idx], "y": y[idx]}, cfg)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    batches = []
    for L, seed in ((16, 2), (24, 3)):
        b = to_arrays(_ising_batch(L, temps, 4, 60, seed=seed), "test", 1)
        batches.append({k: torch.as_tensor(v) for k, v in b.items()})
    with torch.no_grad():
        res = task.evaluate(model, batches, cfg)
    assert res["acc"] > 0.85
    assert abs(res["tc"] / TC - 1) < 0.03, res


def test_confusion_w_curve_peaks_near_tc():
    """van Nieuwenburg et al.: accuracy vs proposed Tc' is high at both ends and peaks again in the
    middle near Tc (here within two grid steps, 0.2 J, on a small L = 12 data set)."""
    from physml.tasks.phases.confusion import ConfusionPhases

    torch.manual_seed(1)
    task = ConfusionPhases()
    cfg = from_dict(task.Config, {"data": {"L": [12]}, "model": {"channels": 4, "hidden": 8, "proposals": "1.5:3.1:9"}})
    temps = np.round(np.linspace(1.5, 3.1, 17), 3)
    tr = {k: torch.as_tensor(v) for k, v in to_arrays(_ising_batch(12, temps, 8, 80, seed=4), "train", 4).items()}
    model = task.model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(5):
        perm = torch.randperm(len(tr["x"]))
        for i in range(0, len(perm), 128):
            idx = perm[i : i + 128]
            loss = task.loss(model, {"x": tr["x"][idx], "T": tr["T"][idx]}, cfg)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
    te = {k: torch.as_tensor(v) for k, v in to_arrays(_ising_batch(12, temps, 4, 80, seed=5), "test", 1).items()}
    with torch.no_grad():
        res = task.evaluate(model.eval(), [te], cfg)
    tp, acc = res["w_curve"]
    assert acc[0] > 0.9 and acc[-1] > 0.9  # trivial labels at both ends
    assert acc[1:-1].min() < acc[np.argmin(np.abs(tp - TC))]  # a dip, then the middle peak
    assert abs(res["tc"] - TC) < 0.2


def _train_plain(task, cfg, batch, epochs, lr, seed=0):
    torch.manual_seed(seed)
    model = task.model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    data = {k: torch.as_tensor(v) for k, v in batch.items()}
    for _ in range(epochs):
        perm = torch.randperm(len(data["x"]))
        for i in range(0, len(perm), 64):
            loss = task.loss(model, {k: v[perm[i : i + 64]] for k, v in data.items()}, cfg)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def test_vae_latent_tracks_magnetization_ising_L16():
    """Wetzel (2017) / the seed's Fig. 2c: |z| of a 1-d VAE latent correlates with |m|, |r| >= 0.9."""
    from physml.tasks.phases.unsupervised import UnsupervisedPhases

    task = UnsupervisedPhases()
    cfg = from_dict(task.Config, {"data": {"L": [16]}, "model": {"latent": 1, "hidden": 64}})
    temps = np.round(np.linspace(1.5, 3.3, 10), 3)
    tr = to_arrays(_ising_batch(16, temps, 4, 60, seed=6), "test", 1, labels=False)
    model = _train_plain(task, cfg, tr, epochs=6, lr=2e-3)
    te = {
        k: torch.as_tensor(v)
        for k, v in to_arrays(_ising_batch(16, temps, 2, 60, seed=7), "test", 1, labels=False).items()
    }
    with torch.no_grad():
        res = task.evaluate(model, [te], cfg)
    assert abs(res["r_latent_m"]) >= 0.9, res["r_latent_m"]
    assert abs(res["r_pca_m"]) >= 0.9  # PCA's first component is the magnetization too
    assert abs(res["tc_latent"] - TC) < 0.3


def test_vae_latent_tracks_xy_magnetization():
    """XY (the seed's Fig. 2b): the 2-d latent's norm follows |M| across the BKT region."""
    from physml.kernels import xy
    from physml.tasks.phases.unsupervised import UnsupervisedPhases

    task = UnsupervisedPhases()
    cfg = from_dict(task.Config, {"data": {"L": [8], "model": "xy"}, "model": {"latent": 2, "hidden": 64}})
    temps = np.round(np.linspace(0.3, 1.7, 8), 3)

    def batch(seed, reps):
        n = temps.size * reps
        T = np.repeat(temps, reps)
        rng = seed_states(seed, range(n))
        th = np.stack([xy.random_angles(8, rng[c]) for c in range(n)])
        _, m, conf = xy.run(th, T, rng, 60, 2, 200)
        return to_arrays(
            {
                "chain": np.repeat(np.arange(n), 60),
                "temperature": np.repeat(T, 60),
                "magnetization": m.ravel(),
                "spins": conf.reshape(n * 60, 64),
            },
            "test",
            1,
            labels=False,
        )

    model = _train_plain(task, cfg, batch(8, 4), epochs=8, lr=2e-3)
    te = {k: torch.as_tensor(v) for k, v in batch(9, 2).items()}
    assert te["x"].shape[1:] == (2, 8, 8)
    with torch.no_grad():
        res = task.evaluate(model, [te], cfg)
    assert res["r_latent_m"] >= 0.8, res["r_latent_m"]


@pytest.mark.parametrize("channels,L,latent", [(1, 8, 1), (2, 8, 2), (1, 16, 3)])
def test_vae_shapes(channels, L, latent):
    from physml.tasks.phases.vae import DenseVAE

    vae = DenseVAE(channels * L * L, latent, 32)
    x = torch.zeros(4, channels, L, L) if channels > 1 else torch.zeros(4, L, L)
    recon, mu, logvar = vae(x)
    assert recon.shape == (4, channels * L * L) and mu.shape == logvar.shape == (4, latent)
    with pytest.raises(ValueError, match="built for"):
        vae.encode(torch.zeros(4, L + 1, L + 1))


def test_confusion_ensemble_shape():
    from physml.tasks.phases.confusion import Ensemble

    assert Ensemble(5, 2, 4)(torch.zeros(3, 8, 8)).shape == (3, 5)


def test_middle_peak_ignores_the_outer_arms():
    from physml.tasks.phases.confusion import middle_peak

    tp = np.linspace(1.0, 3.5, 26)
    acc = 1 - 0.3 * np.abs(np.sin(np.pi * (tp - 1.0) / (TC - 1.0)))  # W: 1 at 1.0 and Tc, dips between
    acc = np.where(tp > TC, 1 - 0.3 * np.abs(np.sin(np.pi * (tp - TC) / (3.5 - TC))), acc)
    acc[1] = 0.99  # the near-trivial neighbour of the end is high but not the middle peak
    tc, step = middle_peak(tp, acc)
    assert abs(tc - TC) <= step
