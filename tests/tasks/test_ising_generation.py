"""ising-generation: shapes (scale-up), the physics comparison on known cases, the MMD loss, shards."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from physml.physics import TC
from physml.physics.enumeration import all_states, boltzmann, exact_moments
from physml.tasks.ising_generation.mmd import grouped_mmd2
from physml.tasks.ising_generation.nets import (
    ActorCritic,
    ConditionalVAE,
    moments,
    order_parameters,
    scale,
    sublattices,
)
from physml.tasks.ising_generation.physics import (
    compare,
    mean_overlap,
    observables,
    sector_imbalance,
)
from physml.tasks.ising_generation.task import (
    EvalConfig,
    GenerationConfig,
    IsingGeneration,
    ramp,
    summarize_rows,
)


@pytest.mark.parametrize("L", [8, 16, 32, 64])
def test_actor_generates_any_multiple_of_four(L):
    torch.manual_seed(0)
    m = ActorCritic(channels=4, layers=3, noise=2, critic_channels=4, features=4)
    s = m.generate(torch.full((3,), 2.0), L)
    assert s.shape == (3, L, L)
    assert set(s.unique().tolist()) <= {-1.0, 1.0}
    assert m.critic.features(s).shape == (3, 4)


def test_actor_refuses_sizes_it_cannot_make_and_vae_only_its_own():
    m = ActorCritic(channels=4, layers=3, noise=2, critic_channels=4, features=4)
    with pytest.raises(ValueError, match="divisible by 4"):
        m.generate(torch.ones(1), 10)
    v = ConditionalVAE(8, latent=2, hidden=8)
    assert v.generate(torch.ones(5), 8).shape == (5, 8, 8)
    with pytest.raises(ValueError, match="L = 8 only"):
        v.generate(torch.ones(1), 16)


def test_scale_draws_spins_with_mean_tanh_or_takes_the_sign_and_passes_gradients_straight():
    torch.manual_seed(1)
    a = torch.full((200, 16, 16), 0.5, requires_grad=True)
    s = scale(a, sample=True)
    # <s> = tanh(0.5) = 0.4621; 51200 independent +-1 draws: standard error sqrt(1 - 0.4621^2)/sqrt(51200)
    se = np.sqrt(1 - np.tanh(0.5) ** 2) / np.sqrt(s.numel())
    assert abs(s.mean().item() - np.tanh(0.5)) < 4 * se
    s.sum().backward()
    assert torch.equal(a.grad, torch.ones_like(a))  # straight through: d s / d a = 1
    b = torch.tensor([-0.3, 0.0, 2.0])
    assert scale(b).tolist() == [-1.0, 1.0, 1.0]


@pytest.mark.parametrize("estimator", ["tanh", "identity"])
def test_tanh_straight_through_gives_the_exact_energy_gradient_and_identity_does_not(estimator):
    """E[sum_<ij> s_i s_j] over independent draws P(s = +1) = (1 + tanh a) / 2 on a periodic 4 x 4
    lattice has d/da_i = sech^2(a_i) sum_{j nn i} tanh(a_j). Per-copy gradients of 20,000 draws: the
    tanh estimator's mean agrees within 5 standard errors at every site; the identity's (no sech^2)
    misses by more than 5 at every site whose |a| > 1 and neighbours' |sum tanh| > 0.5."""
    torch.manual_seed(7)
    a = (torch.rand(1, 4, 4) * 5 - 2.5).repeat(20000, 1, 1).requires_grad_()
    s = scale(a, sample=True, estimator=estimator)
    (s * s.roll(1, -1) + s * s.roll(1, -2)).sum().backward()
    th = torch.tanh(a[0].detach())
    nn_sum = th.roll(1, 0) + th.roll(-1, 0) + th.roll(1, 1) + th.roll(-1, 1)
    exact = (1 - th**2) * nn_sum
    g = a.grad
    dev = ((g.mean(0) - exact) / (g.std(0) / np.sqrt(len(g)))).abs()
    if estimator == "tanh":
        assert dev.max() < 5
    else:
        biased = (a[0].detach().abs() > 1) & (nn_sum.abs() > 0.5)  # its bias: tanh^2(a_i) x the sum
        assert biased.sum() >= 4 and (dev[biased] > 5).all()
    with pytest.raises(ValueError, match="estimator = 'x'"):
        scale(a, estimator="x")


def test_tanh_gradients_of_the_moments_are_exact_and_of_squared_sums_are_not():
    """The moment term matches <e> and <m^2>, written multilinear in the independent draws: the tanh
    estimator's gradient is exact in expectation (d<m^2>/da_k = 2 sech^2(a_k) sum_{j != k} tanh(a_j) / N^2
    on a periodic 4 x 4 lattice; 20,000 draws, every site within 5 standard errors). The same value
    written (sum s)^2 / N^2 gets an extra 2 s_k / N^2 per site and misses by more than 5 at some site."""
    torch.manual_seed(3)
    a0 = torch.rand(1, 4, 4) * 2 - 1
    a = a0.repeat(20000, 1, 1).requires_grad_()
    s = scale(a, sample=True, estimator="tanh")
    mom = moments(s)
    assert torch.allclose(mom, torch.stack([order_parameters(s)[:, 0], s.mean(dim=(1, 2)) ** 2], 1))
    (g_ml,) = torch.autograd.grad(mom[:, 1].sum(), a, retain_graph=True)
    (g_sq,) = torch.autograd.grad(s.mean(dim=(1, 2)).pow(2).sum(), a)
    th, n = torch.tanh(a0[0]), 16
    exact = 2 * (1 - th**2) * (th.sum() - th) / n**2
    dev = lambda g: ((g.mean(0) - exact) / (g.std(0) / np.sqrt(len(g)))).abs()
    assert dev(g_ml).max() < 5
    assert dev(g_sq).max() > 5


def test_standardized_mean_kernel_measures_the_mean_shift_in_units_of_spread():
    """Real N(0, 1) and fake N(delta, 1) rows in two groups of 500 each (delta = 0.5, 0), 20 draws: the
    standardized mean-kernel MMD^2 estimates, per group, delta^2 / (1 + delta^2 / 4) (over the pooled
    variance of both sets) and 0; unstandardized, delta^2 and 0. The mean of the group averages is within
    5 standard errors: Var (x - y)^2 = 8 delta^2 / n + 8 / n^2 per group, over 2 groups and 20 draws."""
    torch.manual_seed(5)
    n, reps, delta = 500, 20, 0.5
    groups = torch.tensor([0] * n + [1] * n)
    shift = torch.tensor([delta] * n + [0.0] * n)[:, None]
    got = {True: [], False: []}
    for _ in range(reps):
        real, fake = torch.randn(2 * n, 1), torch.randn(2 * n, 1) + shift
        for standardize in got:
            got[standardize].append(grouped_mmd2(real, fake, groups, "mean", standardize=standardize).item())
    se = 0.5 * np.sqrt(8 * delta**2 / n + 2 * 8 / n**2) / np.sqrt(reps)
    assert abs(np.mean(got[True]) - 0.5 * delta**2 / (1 + delta**2 / 4)) < 5 * se
    assert abs(np.mean(got[False]) - 0.5 * delta**2) < 5 * se


def test_symmetric_actor_fills_both_sectors():
    torch.manual_seed(2)
    m = ActorCritic(channels=4, layers=3, noise=2, critic_channels=4, features=4)
    with torch.no_grad():
        m.ema.net[-1].bias.fill_(20.0)  # all sites +1 before the global sign (the averaged actor generates)
        s = m.generate(torch.full((400,), 1.5), 8)
    _, mag = observables(s.numpy())
    # a fair global sign: the fraction of +m is binomial(400, 1/2), standard error 0.025
    assert abs(np.mean(mag > 0) - 0.5) < 4 * 0.025
    assert np.allclose(np.abs(mag), 1.0)


@pytest.mark.parametrize("stages", [1, 2, 4])
def test_sublattices_partition_the_lattice_with_no_neighbours_drawn_together(stages):
    masks = sublattices(8, stages).numpy()
    assert masks.shape == (stages, 8, 8) and np.array_equal(masks.sum(0), np.ones((8, 8)))
    for m in masks[:, None] if stages > 1 else []:  # no nearest neighbour (and for 4 stages no diagonal one)
        shifts = [(1, 0), (0, 1)] + ([(1, 1), (1, -1)] if stages == 4 else [])
        assert all((m * np.roll(m, sh, axis=(1, 2))).sum() == 0 for sh in shifts)


@pytest.mark.parametrize("stages, e_exact", [(2, 2.0), (4, 0.0)])
def test_staged_actor_draws_each_sublattice_from_its_own_field(stages, e_exact):
    """Stage fields fixed to +-20 by their biases: 2 stages (+, -) make the checkerboard (every bond
    broken, e = +2), 4 stages (+, -, +, -) stripes (half the bonds broken, e = 0); m = 0 in both."""
    torch.manual_seed(3)
    m = ActorCritic(channels=4, layers=3, noise=2, critic_channels=4, features=4, stages=stages)
    with torch.no_grad():
        for k, net in enumerate([m.ema.net, *m.ema.refine]):
            net[-1].weight.zero_()
            net[-1].bias.fill_(20.0 if k % 2 == 0 else -20.0)
        s = m.generate(torch.full((50,), 2.0), 8)
    e, mag = observables(s.numpy())
    assert np.allclose(e, e_exact) and np.allclose(mag, 0.0)


def test_later_stages_see_the_spins_drawn_before():
    """The straight-through gradient of a later stage's spins reaches the first stage's net only through
    the spins it drew: it is non-zero."""
    torch.manual_seed(4)
    m = ActorCritic(channels=4, layers=3, noise=2, critic_channels=4, features=4, stages=2)
    s = m.actor.sample(torch.full((4,), 2.0), 8)
    (s * sublattices(8, 2)[1]).sum().backward()
    assert m.actor.net[0].weight.grad.abs().sum() > 0


def test_observables_match_the_lattice_kernels_and_exact_ground_states():
    from physml.kernels.lattice import energy_per_site, magnetization_per_site

    rng = np.random.default_rng(0)
    s = rng.choice(np.array([-1, 1], np.int8), size=(5, 6, 6))
    e, m = observables(s)
    assert np.allclose(e, [energy_per_site(x, 0.0) for x in s])
    assert np.allclose(m, [magnetization_per_site(x) for x in s])
    e0, m0 = observables(np.ones((1, 4, 4)))
    assert e0[0] == -2.0 and m0[0] == 1.0
    checker = np.indices((4, 4)).sum(0) % 2 * 2 - 1
    assert observables(checker[None])[0][0] == 2.0


def test_identical_sets_give_zero_distance_and_flipped_sets_the_sector_fraction():
    rng = np.random.default_rng(3)
    s = np.where(rng.random((300, 8, 8)) < 0.9, 1, -1)  # mostly +m
    obs = observables(s)
    r = compare(obs, obs, 2.0, 8)
    assert r["w1_e"] == 0 and r["ks_e"] == 0 and r["w1_m"] == 0 and r["e_rel_err"] == 0
    assert r["spread_ratio"] == 1
    flipped = s.copy()
    flipped[:75] *= -1  # a quarter moved to the -m sector
    e1, m1 = observables(flipped)
    assert np.allclose(e1, obs[0])  # energy is Z2 invariant
    assert sector_imbalance(m1) == pytest.approx(abs(np.mean(m1 > 0) - np.mean(m1 < 0)))
    assert sector_imbalance(obs[1]) == 1.0 and sector_imbalance(m1) == pytest.approx(0.5)
    r = compare(obs, (e1, m1), 2.0, 8)
    assert r["w1_e"] == 0 and r["w1_m"] == 0 and r["imbalance_gen"] == pytest.approx(0.5)


def test_overlap_is_one_for_copies_and_small_for_independent_spins():
    rng = np.random.default_rng(8)
    one = np.where(rng.random((16, 16)) < 0.5, 1, -1)
    copies = np.stack([one, -one, one, one])
    assert mean_overlap(copies) == pytest.approx(1.0)
    indep = np.where(rng.random((300, 16, 16)) < 0.5, 1, -1)
    # |q| of two independent random configurations of N = 256 sites: mean sqrt(2/(pi N)) = 0.0499
    assert mean_overlap(indep) == pytest.approx(np.sqrt(2 / (np.pi * 256)), rel=0.05)


def test_moments_reproduce_exact_enumeration():
    """<e>, <|m|>, C and chi of the comparison, on exact Boltzmann samples of the 4x4 lattice, agree
    with enumeration within 4 standard errors (errors from the spread over 40 independent sets)."""
    T, L = 2.5, 4
    ex = exact_moments(L, T)
    p, _, _ = boltzmann(L, T)
    states = all_states(L)
    rng = np.random.default_rng(4)
    vals = []
    for _ in range(40):
        e, m = observables(states[rng.choice(len(states), size=4000, p=p)])
        r = compare((e, m), (e, m), T, L)
        vals.append([r["e_mc"], r["abs_m_mc"], r["C_mc"], r["chi_mc"]])
    vals = np.array(vals)
    mean, se = vals.mean(0), vals.std(0, ddof=1) / np.sqrt(len(vals))
    exact = [ex["energy"], ex["abs_magnetization"], ex["specific_heat"], ex["susceptibility"]]
    assert np.all(np.abs(mean - exact) < 4 * se), (mean, exact, se)


@pytest.mark.parametrize("kind", ["mean", "rbf"])
@pytest.mark.parametrize("fakes", [1, 3])
def test_mmd_is_unbiased_zero_for_equal_distributions_and_positive_otherwise(kind, fakes):
    """Over 200 batches, the mean unbiased MMD^2 of two samples of one distribution (the fake one
    ``fakes`` times larger) is within 4 standard errors of 0; a shifted distribution gives a value many
    standard errors above 0."""
    gen = torch.Generator().manual_seed(5)
    groups = torch.arange(64) % 4
    fg = groups.repeat(fakes)
    same, shifted = [], []
    for _ in range(200):
        a, b = torch.randn(64, 3, generator=gen), torch.randn(64 * fakes, 3, generator=gen)
        same.append(grouped_mmd2(a, b, groups, kind, fg).item())
        shifted.append(grouped_mmd2(a, b + 0.5 * (fg[:, None] == 1), groups, kind, fg).item())
    for vals, lo in ((same, None), (shifted, 5)):
        v = np.array(vals)
        z = v.mean() / (v.std(ddof=1) / np.sqrt(v.size))
        assert (abs(z) < 4) if lo is None else (z > lo)


def test_mmd_compares_within_groups_only():
    """Real and fake sets with the same pooled distribution but swapped groups differ."""
    real = torch.cat([torch.zeros(8, 1), torch.ones(8, 1)])
    groups = torch.cat([torch.zeros(8), torch.ones(8)])
    assert grouped_mmd2(real, real.clone(), groups, "mean").item() == pytest.approx(0, abs=1e-6)
    assert grouped_mmd2(real, real.flip(0), groups, "mean").item() > 0.9


def test_loss_trains_the_critic_on_temperature_and_the_actor_on_features_only():
    torch.manual_seed(6)
    task, cfg = IsingGeneration(), GenerationConfig()
    from dataclasses import replace

    cfg = replace(cfg, model=replace(cfg.model, channels=4, layers=3, critic_channels=4, features=4))
    model = task.model(cfg)
    batch = {"x": torch.sign(torch.randn(16, 8, 8)), "T": torch.tensor([1.5, 3.0] * 8)}
    out = task.loss(model, batch, cfg)
    out["mmd2"].backward()
    assert all(p.grad is None for p in model.critic.parameters())  # eq. (3) never trains the critic
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.actor.parameters())
    model.zero_grad()
    out = task.loss(model, batch, cfg)
    out["critic_mse"].backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.actor.parameters())
    # the generating weight average is no optimizer's parameter, and it follows the live actor
    from physml.platform.training.optimizers import make_optimizer

    opt_params = {id(p) for g in make_optimizer(model, cfg.train).param_groups for p in g["params"]}
    assert not any(id(p) in opt_params for p in model.ema.parameters())
    with torch.no_grad():
        for p in model.actor.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.ema.parameters()]
    task.on_step_end(model, 0, cfg)  # the loop's callback after each step, not a side effect of forward
    for a, b, live in zip(before, model.ema.parameters(), model.actor.parameters()):
        assert torch.all((b - a).abs() <= (live - a).abs() + 1e-6) and torch.any(b != a)


def _marked(n: int, L: int, start: int) -> torch.Tensor:
    """n configurations float[n, L, L] whose first row spells their number start.. in binary (+-1)."""
    s = -torch.ones(n, L, L)
    for i in range(n):
        bits = torch.tensor([((start + i) >> b) & 1 for b in range(L)], dtype=torch.float32)
        s[i, 0] = 2 * bits - 1
    return s


def _number(s: torch.Tensor) -> list[int]:
    bits = ((s[:, 0] + 1) / 2).long()
    return (bits * (2 ** torch.arange(s.shape[-1]))).sum(1).tolist()


def test_bank_keeps_the_latest_configurations_per_temperature_and_draws_equal_t_groups():
    from physml.tasks.ising_generation.bank import TemperatureBank

    bank = TemperatureBank((1.5, 2.0, 3.0), size=4, L=8)
    # configurations 0-5 at T = 1.5, 6-8 at T = 2.0 (float32, as batches hold them), 9 at T = 3.0
    t = torch.tensor([1.5] * 6 + [2.0] * 3 + [3.0], dtype=torch.float32)
    bank.push(_marked(10, 8, 0), t)
    assert bank.draw(groups=1, per=4) is not None and bank.draw(groups=2, per=3) is not None
    assert bank.draw(groups=2, per=4) is None  # only T = 1.5 holds 4; T = 2.0 holds 3
    torch.manual_seed(0)
    for _ in range(20):
        s, temps = bank.draw(groups=2, per=3)
        for g in range(2):
            ids, tg = _number(s[3 * g : 3 * g + 3]), temps[3 * g : 3 * g + 3]
            assert len(set(ids)) == 3 and len(set(tg.tolist())) == 1  # distinct rows, one T per group
            # the ring of 4 keeps T = 1.5's latest four (2-5); T = 2.0 all of its three (6-8)
            assert set(ids) <= ({2, 3, 4, 5} if tg[0] == 1.5 else {6, 7, 8})
    with pytest.raises(ValueError, match="temperature 2.5 is not one of"):
        bank.push(_marked(1, 8, 0), torch.tensor([2.5]))
    with pytest.raises(ValueError, match="bank holds L = 8"):
        bank.push(_marked(1, 16, 0), torch.tensor([1.5]))


def test_actor_critic_compares_banked_groups_in_training_and_the_batch_otherwise():
    temps = (1.5, 2.0, 2.5, 3.0)
    torch.manual_seed(3)
    m = ActorCritic(channels=4, layers=3, noise=2, critic_channels=4, features=4, group=4, temperatures=temps, L=8)
    x, t = torch.sign(torch.randn(8, 8, 8)), torch.tensor(temps * 2)
    out = m(x, t, fakes=2)  # the bank holds 2 per T: too few, the batch's groups
    assert torch.equal(out["t_real"], t) and len(out["fake"]) == 16
    out = m(x, t, fakes=2)  # now 4 per T: 8 // 4 = 2 groups of 4 banked rows
    tr = out["t_real"]
    assert len(tr) == 8 and len(set(tr[:4].tolist())) == 1 and len(set(tr[4:].tolist())) == 1
    assert tr[0] != tr[4] and set(tr.tolist()) <= set(temps)
    assert torch.equal(out["t_fake"], tr.repeat(2)) and out["fake"].shape == (16, 4)
    assert out["t_hat"].shape == (8,)  # the critic still learns T on the whole batch
    m.eval()
    assert torch.equal(m(x, t)["t_real"], t)
    with pytest.raises(ValueError, match="model.group = 1"):
        GenerationConfig(model=replace(GenerationConfig().model, group=1))


def test_physics_features_are_the_exact_energy_and_magnetization_with_gradients():
    up, board = torch.ones(1, 6, 6), (-1.0) ** (torch.arange(6)[:, None] + torch.arange(6)[None, :])
    stripes = torch.where(torch.arange(6)[:, None] < 3, 1.0, -1.0).expand(6, 6)  # 2 walls of 6 broken bonds
    f = order_parameters(torch.stack([up[0], board, stripes]))
    assert torch.allclose(f, torch.tensor([[-2.0, 1.0], [2.0, 0.0], [-2.0 + 2 * 6 * 2 / 36, 0.0]]))
    torch.manual_seed(4)
    temps = (1.5, 3.0)
    m = ActorCritic(channels=4, layers=3, noise=2, critic_channels=4, features=4, physics=True)
    out = m(torch.sign(torch.randn(8, 8, 8)), torch.tensor(temps * 4))
    assert out["real"].shape == out["fake"].shape == (8, 6)
    out["fake"][:, 4].sum().backward()  # e of the generated spins reaches the actor's weights
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.actor.parameters())


def test_physics_mmd_sees_only_energy_and_magnetization():
    """The second MMD (``physics_weight``) and the moment term (``moment_weight``) depend on the real spins
    only through e and |m|: a transposed and sign-flipped real batch (same e, |m|; other critic features)
    leaves them unchanged."""
    task, cfg = IsingGeneration(), GenerationConfig()
    cfg = replace(
        cfg,
        model=replace(
            cfg.model,
            channels=4,
            layers=3,
            critic_channels=4,
            features=4,
            physics=True,
            physics_weight=2.0,
            moment_weight=0.5,
        ),
    )
    torch.manual_seed(8)
    model = task.model(cfg)
    x, t = torch.sign(torch.randn(16, 8, 8)), torch.tensor([1.5, 3.0] * 8)
    out = []
    for real in (x, -x.transpose(1, 2)):
        torch.manual_seed(9)  # the same generated spins both times
        out.append(task.loss(model, {"x": real, "T": t}, cfg))
    a, b = out
    for term in ("mmd2_physics", "moments2"):
        assert torch.allclose(a[term], b[term], atol=1e-6)
    assert not torch.allclose(a["mmd2"], b["mmd2"])
    assert torch.allclose(a["loss"], a["mmd2"] + a["critic_mse"] + 2.0 * a["mmd2_physics"] + 0.5 * a["moments2"])
    (a["mmd2_physics"] + a["moments2"]).backward()  # their gradients reach the actor, never the critic
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.actor.parameters())
    assert all(p.grad is None for p in model.critic.parameters())
    for name in ("physics_weight", "moment_weight"):
        with pytest.raises(ValueError, match=f"model.{name} = 1.0: .* only with model.physics = true"):
            replace(cfg.model, physics=False, **{"physics_weight": 0.0, "moment_weight": 0.0, name: 1.0})


def test_physics_weight_rises_linearly_over_its_ramp():
    m = replace(GenerationConfig().model, physics=True, physics_weight=3.0, physics_ramp=200)
    assert [m.physics_weight * ramp(m, k) for k in (0, 50, 200, 10_000)] == [0.0, 0.75, 3.0, 3.0]
    assert m.physics_weight * ramp(replace(m, physics_ramp=0), 0) == 3.0
    with pytest.raises(ValueError, match="model.physics_ramp = -1"):
        replace(m, physics_ramp=-1)


def test_summary_splits_training_size_from_scale_up_and_far_from_near():
    rows = [
        {
            "L": L,
            "T": T,
            "w1_e": 0.1,
            "ks_e": 0.2,
            "w1_m": 0.3,
            "ks_m": 0.4,
            "e_rel_err": err,
            "spread_ratio": 1.0,
            "imbalance_gen": 0.0,
            "overlap_mc": 0.1,
            "overlap_gen": 0.3,
        }
        for L in (8, 16)
        for T, err in ((1.5, 0.01), (TC, -0.5), (3.0, -0.03))
    ]
    out = summarize_rows(rows, 8, 0.3)
    assert out["e_rel_err_far"] == pytest.approx(0.03) and out["e_rel_err_near"] == pytest.approx(0.5)
    assert out["scaleup_L16/e_rel_err_far"] == pytest.approx(0.03)
    assert out["spread_ratio_low"] == 1.0 and "w1_e" in out and "scaleup_L16/w1_e" in out
    assert out["overlap_ratio_high"] == pytest.approx(3.0)


def test_judged_range_drops_the_training_margin_from_the_targets_but_not_from_the_means():
    grid = np.linspace(1.5, 4.0, 26).astype(np.float32)  # float32 3.4 is 3.4000001: it must still be judged
    rows = [
        {
            "L": 8,
            "T": float(T),
            "w1_e": float(T),
            "ks_e": 0.2,
            "w1_m": 0.3,
            "ks_m": 0.4,
            "e_rel_err": -0.1 if T > 3.45 else (0.015 if abs(T - 3.4) < 1e-6 else 0.001),
            "spread_ratio": 1.0,
            "imbalance_gen": 0.0,
            "overlap_mc": 0.1,
            "overlap_gen": 0.2 if T > 3.45 else 0.1,
        }
        for T in grid
    ]
    whole, judged = summarize_rows(rows, 8, 0.3), summarize_rows(rows, 8, 0.3, (0.0, 3.4))
    assert whole["e_rel_err_far"] == pytest.approx(0.1) and judged["e_rel_err_far"] == pytest.approx(0.015)
    assert judged["overlap_ratio_high"] == pytest.approx(1.0) and whole["overlap_ratio_high"] > 1.0
    assert judged["w1_e"] == whole["w1_e"] == pytest.approx(grid.mean())
    assert summarize_rows(rows, 8, 0.3, (3.6, 5.0))["e_rel_err_far"] == pytest.approx(0.1)
    for bad in ({"t_min": 2.0, "t_max": 2.0}, {"t_min": -1.0}, {"far": -0.1}):
        with pytest.raises(ValueError, match="eval."):
            EvalConfig(**bad)


class _Coins(torch.nn.Module):
    """A generator of independent fair spins (the exact T = infinity ensemble), or all +1 (collapsed)."""

    def __init__(self, collapsed: bool = False):
        super().__init__()
        self.w, self.collapsed = torch.nn.Parameter(torch.zeros(1)), collapsed

    def generate(self, t, L, generator=None):
        if self.collapsed:
            return torch.ones(len(t), L, L)
        return torch.where(torch.rand(len(t), L, L, generator=generator) < 0.5, 1.0, -1.0)


def _coin_batches(L: int, temps, n: int, seed: int):
    rng = np.random.default_rng(seed)
    for T in temps:
        x = np.where(rng.random((n, L, L)) < 0.5, 1.0, -1.0).astype(np.float32)
        yield {"x": torch.tensor(x), "T": torch.full((n,), T), "L": torch.full((n,), L)}


def test_evaluate_finds_a_perfect_generator_within_errors_and_flags_a_collapsed_one():
    from dataclasses import replace

    task, cfg = IsingGeneration(), GenerationConfig()
    cfg = replace(cfg, data=replace(cfg.data, L=(8,), train_L=8), eval=replace(cfg.eval, samples=400))
    res = task.evaluate(_Coins(), _coin_batches(8, [1.5, 3.0], 400, 7), cfg)
    for r in res["generation_rows"]:
        assert abs(r["e_dev_se"]) < 4 and r["ks_e"] < 0.12 and 0.85 < r["spread_ratio"] < 1.15
    bad = task.evaluate(_Coins(collapsed=True), _coin_batches(8, [1.5, 3.0], 400, 7), cfg)
    assert bad["imbalance_low"] == 1.0 and bad["spread_ratio_low"] == 0.0
    assert bad["e_rel_err_far"] > 10  # e = -2 against <e> = 0 +- 0.004
    paths = task.report(res, __import__("pathlib").Path(__import__("tempfile").mkdtemp()))
    assert {p.name for p in paths} >= {"generation_observables.png", "generation_hist_L8.png", "generation_table.csv"}


def test_vae_loss_terms_and_generation_plan_checks():
    from dataclasses import replace

    task, cfg = IsingGeneration(), GenerationConfig()
    cfg = replace(cfg, data=replace(cfg.data, L=(8,), train_L=8), model=replace(cfg.model, kind="vae", hidden=16))
    model = task.model(cfg)
    x = torch.sign(torch.randn(10, 8, 8))
    out = task.loss(model, {"x": x, "T": torch.full((10,), 2.0)}, cfg)
    assert out["kl"] >= 0 and out["reconstruction"] > 0
    assert torch.isclose(out["loss"], out["reconstruction"] + out["kl"])
    with pytest.raises(ValueError, match="--L 16: model.kind = vae is dense"):
        task.generation_plan(cfg, {"L": [16], "temperatures": "2.0", "n": 5})
    with pytest.raises(ValueError, match="--n 0"):
        task.generation_plan(cfg, {"L": [8], "temperatures": "2.0", "n": 0})
    params, parts = task.generation_plan(cfg, {"L": [8], "temperatures": "1.5:2.5:3", "n": 5})
    assert params["algorithm"] == "generated:vae" and [p["temperature"] for p in parts] == [1.5, 2.0, 2.5]


def test_selecting_the_best_epoch_needs_a_metric():
    from physml.config import ConfigError, from_dict

    with pytest.raises(ConfigError, match='train.select = "best" needs train.early_stop_metric'):
        from_dict(GenerationConfig, {"train": {"select": "best"}})
    with pytest.raises(ConfigError, match="train.select = 'first': choose one of last, best"):
        from_dict(GenerationConfig, {"train": {"select": "first"}})


def _rows(chains: np.ndarray, sweeps: np.ndarray) -> dict:
    """Parquet-like rows at T = 2 whose magnetization column is the row's index (to identify it)."""
    n = len(chains)
    return {
        "chain": chains,
        "sweep": sweeps,
        "temperature": np.full(n, 2.0),
        "magnetization": np.arange(n, dtype=np.float64),
        "spins": np.array([np.ones(4, np.int8)] * n + [None], dtype=object)[:-1],
    }


def test_selection_and_test_sets_share_no_configuration():
    """The task's val split (epoch selection) and its test split at the training size are the
    held-out chains cut in time: disjoint, together all held-out rows; other sizes test on all."""
    cfg = GenerationConfig()
    d = cfg.data
    per = d.sweeps // d.every
    chains, sweeps = np.repeat(np.arange(8), per), np.tile(np.arange(1, per + 1) * d.every, 8)
    n, batch = len(chains), _rows(chains, sweeps)
    specs = IsingGeneration().datasets(cfg, "memory://unused")
    assert "sweep" in specs["val"].columns
    rows = {
        k: set(specs[k].preprocess(batch)["m"].astype(int)) for k in ("train", "val", f"test/L{d.fit_L}", "test/L64")
    }
    held = set(np.flatnonzero(chains % d.holdout == 0))
    assert rows["train"] == set(range(n)) - held
    assert rows["val"] | rows[f"test/L{d.fit_L}"] == held == rows["test/L64"]
    assert not rows["val"] & rows[f"test/L{d.fit_L}"]
    assert max(sweeps[list(rows["val"])]) < min(sweeps[list(rows[f"test/L{d.fit_L}"])])
    assert len(rows["val"]) == len(held) // 2
    # `physml evaluate` on other data selected nothing on it: all held-out rows are the test
    ev = IsingGeneration().evaluation_datasets(cfg, "memory://unused")
    assert set(ev[f"test/L{d.fit_L}"].preprocess(batch)["m"].astype(int)) == held


def test_the_time_cut_follows_the_data_a_config_is_applied_to():
    """A trained config read onto another Monte Carlo dataset cuts its held-out chains at that
    dataset's half (its sweeps), not at the training data's."""
    from physml.config import from_dict, to_dict

    task, cfg = IsingGeneration(), GenerationConfig()
    adapted = from_dict(task.Config, task.adapt(to_dict(cfg), {"L": [32, 64], "sweeps": 200, "model": "ising"}))
    assert adapted.data.sweeps == 200 and adapted.data.train_L == 32
    sweeps = np.arange(1, 41) * 5  # one held-out chain, sweeps 5..200
    batch = _rows(np.zeros(40, int), sweeps)
    specs = task.datasets(adapted, "memory://unused")
    val = specs["val"].preprocess(batch)["m"].astype(int)
    test = specs["test/L32"].preprocess(batch)["m"].astype(int)
    assert sweeps[val].max() == 100 and sweeps[test].min() == 105 and len(val) == len(test) == 20
