"""prostate: readers (MetaImage, NIfTI) on files the tests write, phantom physics, splits by case,
U-Net shape table, Dice/HD95 against hand-computed and brute-force values. No Ray, no MLflow."""

import numpy as np
import pytest
import torch

from physml.tasks.prostate.metrics import dice, hausdorff95, soft_dice
from physml.tasks.prostate.phantom import SITES, phantom
from physml.tasks.prostate.slices import case_rows, centre_crop
from physml.tasks.prostate.source import ProstateParams, ProstateSource
from physml.tasks.prostate.task import (
    ProstateConfig,
    ProstateData,
    ProstateSegmentation,
    case_split,
    to_arrays,
)
from physml.tasks.prostate.unet import UNet, check_size
from physml.tasks.prostate.volumes import (
    CaseError,
    find_cases,
    read_case,
    read_volume,
    write_mhd,
    write_nifti,
)


def _marked_volume():
    """An asymmetric volume [z, y, x] and a label marking one bright voxel."""
    rng = np.random.default_rng(1)
    img = rng.uniform(0, 100, (5, 6, 7)).astype(np.float32)
    img[1, 2, 5] = 1000.0
    lab = np.zeros(img.shape, np.uint8)
    lab[1, 2, 5] = 1
    return img, lab


def test_mhd_and_nifti_give_the_same_arrays(tmp_path):
    img, lab = _marked_volume()
    spacing = (0.6, 0.7, 3.5)
    write_mhd(tmp_path / "Case00.mhd", img, spacing)
    write_mhd(tmp_path / "Case00_segmentation.mhd", lab, spacing)
    write_nifti(tmp_path / "Case01.nii.gz", img, spacing)
    write_nifti(tmp_path / "Case01_segmentation.nii.gz", lab, spacing)
    cases = find_cases(tmp_path)
    assert [c[0] for c in cases] == ["Case00", "Case01"]
    a, b = (read_case(*c) for c in cases)
    for case in (a, b):
        np.testing.assert_array_equal(case.image, img)
        np.testing.assert_allclose(case.spacing, spacing, rtol=1e-6)
        assert tuple(np.argwhere(case.mask)[0]) == tuple(np.unravel_index(np.argmax(case.image), img.shape))


def test_nifti_orientation_is_undone(tmp_path):
    """The same physical volume stored in RAS index order (x and y flipped, positive affine) reads
    back identical to the LPS-ordered file."""
    import nibabel as nib

    img, _ = _marked_volume()
    spacing = (0.5, 0.5, 3.0)
    write_nifti(tmp_path / "lps.nii.gz", img, spacing)
    ras = img.transpose(2, 1, 0)[::-1, ::-1, :]
    nib.save(nib.Nifti1Image(np.ascontiguousarray(ras), np.diag([0.5, 0.5, 3.0, 1.0])), str(tmp_path / "ras.nii.gz"))
    a, _ = read_volume(tmp_path / "lps.nii.gz")
    b, _ = read_volume(tmp_path / "ras.nii.gz")
    np.testing.assert_array_equal(a, b)


def test_reader_errors(tmp_path):
    img, lab = _marked_volume()
    with pytest.raises(CaseError, match="no cases"):
        find_cases(tmp_path)
    write_mhd(tmp_path / "Case00.mhd", img, (1, 1, 3))
    with pytest.raises(CaseError, match="no segmentation file Case00_segmentation.mhd"):
        find_cases(tmp_path)
    write_mhd(tmp_path / "Case00_segmentation.mhd", lab[:, :, :6], (1, 1, 3))
    with pytest.raises(CaseError, match="label shape"):
        find_cases(tmp_path)
    write_mhd(tmp_path / "Case00_segmentation.mhd", (lab * 255).astype(np.uint8), (1, 1, 3))
    with pytest.raises(CaseError, match="not binary"):
        read_case(*find_cases(tmp_path)[0])
    raw = tmp_path / "Case00.raw"
    raw.write_bytes(raw.read_bytes()[:100])
    with pytest.raises(CaseError, match="truncated"):
        find_cases(tmp_path)


def test_phantom_reproducible_and_plausible():
    a, ma, sp = phantom(3, 5, "B")
    b, mb, _ = phantom(3, 5, "B")
    np.testing.assert_array_equal(a, b)
    assert sp == (SITES["B"].spacing, SITES["B"].spacing, SITES["B"].thickness)
    volume_cc = ma.sum() * np.prod(sp) / 1000
    assert 12 < volume_cc < 40  # adult prostate: about 20-30 cc
    c, _, _ = phantom(3, 6, "B")
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("site", list(SITES))
def test_phantom_noise_floor_is_rayleigh(site):
    """Outside the body the signal is pure Rician noise of zero signal, i.e. Rayleigh with mean
    sigma * sqrt(pi / 2); the corner mean matches within 5 standard errors."""
    img, _, _ = phantom(0, 0, site)
    s = SITES[site]
    corner = img[:, :8, :8].ravel() / s.scale
    expect = s.noise * np.sqrt(np.pi / 2)
    se = s.noise * np.sqrt((4 - np.pi) / 2) / np.sqrt(corner.size)
    assert abs(corner.mean() - expect) < 5 * se


def test_rows_keep_the_gland_volume(tmp_path):
    """Resampling to 2 mm and cropping keeps the gland volume within 5%; a simulated case goes
    through the PROMISE12 files (kept with raw=...) and the reader."""
    src = ProstateSource(ProstateParams(cases=2, size=64, spacing=2.0, raw=str(tmp_path)))
    item = src.items()[1]
    table = src.make(item)
    assert (tmp_path / "Case01.mhd").exists() and (tmp_path / "Case01_segmentation.raw").exists()
    _, mask, sp = phantom(0, 1, item["site"])
    rows = table.to_pydict()
    assert len(rows["slice"]) == mask.shape[0] and set(rows["case"]) == {"Case01"}
    vol = sum(rows["foreground"]) * 2.0 * 2.0 * sp[2]
    assert abs(vol / (mask.sum() * np.prod(sp)) - 1) < 0.05


def test_centre_crop_pads_and_crops():
    v = np.arange(2 * 4 * 6, dtype=np.float32).reshape(2, 4, 6)
    out = centre_crop(v, 4)
    np.testing.assert_array_equal(out, v[:, :, 1:5])
    big = centre_crop(v, 8, fill=-1)
    assert big.shape == (2, 8, 8) and (big == -1).sum() == 2 * (64 - 24)


def test_split_is_by_case_and_arrays_are_normalized_per_volume():
    cases = [f"Case{i:02d}" for i in range(20)]
    split = case_split(cases, ProstateData(cases=20, val_cases=3, test_cases=4))
    assert sorted(sum(split.values(), [])) == cases
    assert (len(split["val"]), len(split["test"]), len(split["train"])) == (3, 4, 13)
    assert split != case_split(cases, ProstateData(cases=20, val_cases=3, test_cases=4, split_seed=1))
    batch = {
        "case": np.array(["Case01", "Case01"]),
        "slice": np.array([0, 1]),
        "depth": np.array([1, 1]),
        "slices": np.array([2, 2]),
        "image": np.array([np.array([2.0, 4.0, 6.0, 10.0]), np.array([2.0, 2.0, 2.0, 2.0])], dtype=object),
        "label": np.array([np.array([0, 1, 1, 0]), np.zeros(4)], dtype=object),
        "vmin": np.array([2.0, 2.0]),
        "vmax": np.array([10.0, 10.0]),
        "spacing_x": np.array([2.0, 2.0]),
        "spacing_y": np.array([2.0, 2.0]),
        "spacing_z": np.array([3.0, 3.0]),
    }
    out = to_arrays(batch, {"Case01": 7})
    np.testing.assert_allclose(out["x"][0, 0].ravel(), [0.0, 0.25, 0.5, 1.0])
    assert out["x"].shape == (2, 1, 2, 2) and out["case"].tolist() == [7, 7]
    np.testing.assert_allclose(out["spacing"][0], [3.0, 2.0, 2.0])


TABLE3 = [  # the source's Table 3 rows: layers, down, up, dilation, residual
    (4, (20,) * 4, (20, 10, 5, 1), (2, 2, 1, 1), "conv1-4"),
    (4, (20,) * 4, (20, 20, 10, 5, 1), (2, 2, 1, 1), "conv1-4"),
    (5, (20,) * 5, (20, 10, 10, 10, 5, 1), (2, 2, 1, 1), "conv1-4"),
    (5, (20,) * 5, (20, 10, 10, 10, 5, 1), (2, 2, 1, 1), "conv1-5"),
    (5, (20,) * 5, (20, 10, 10, 5, 5, 1), (2, 2, 1, 1), "conv1-5"),
    (5, (20,) * 5, (20, 10, 10, 10, 5, 1), (2, 2, 2, 1), "conv1-5"),
    (5, (40, 40, 20, 20, 20), (20, 20, 20, 20, 10, 1), (2, 2, 1, 1), "conv1-4"),
    (5, (20,) * 5, (20, 10, 10, 10, 10, 1), (2, 2, 1, 1), "conv1-5"),
]


@pytest.mark.parametrize("row", TABLE3)
@pytest.mark.parametrize("norm", ["minmax", "bn"])
def test_unet_table3_shapes(row, norm):
    net = UNet(*row, norm=norm)
    x = torch.rand(2, 1, 48, 32)
    assert net(x).shape == (2, 1, 48, 32)
    residual_levels = sum(b.skip is not None for b in net.down)
    assert residual_levels == int(row[4][-1])


@pytest.mark.parametrize(
    "args,shape",
    [
        (dict(layers=3, down=(4, 4, 4), up=(4, 4, 1), dilation=(1,), residual="none", dims=3), (1, 1, 8, 16, 16)),
        (
            dict(
                layers=4, down=(4, 8, 8, 8), up=(8, 4, 4, 2, 1), dilation=(2, 2), residual="conv1-2", dims=3, norm="bn"
            ),
            (2, 1, 16, 16, 24),
        ),
        (dict(layers=2, down=(4, 4), up=(4, 1), dilation=(3, 3), residual="conv2-2", dims=2), (3, 1, 10, 6)),
    ],
)
def test_unet_shapes_2d_3d(args, shape):
    assert UNet(**args)(torch.rand(*shape)).shape == shape


def test_unet_state_dict_round_trip(tmp_path):
    a = UNet(*TABLE3[0], norm="bn").eval()
    torch.save(a.state_dict(), tmp_path / "m.pt")
    b = UNet(*TABLE3[0], norm="bn").eval()
    b.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True))
    x = torch.rand(1, 1, 32, 32)
    torch.testing.assert_close(a(x), b(x))


@pytest.mark.parametrize(
    "bad,match",
    [
        (dict(layers=4, down=(20, 20, 20)), "one channel count per level"),
        (dict(up=(20, 10, 5, 2)), "must be 1"),
        (dict(up=(20, 1)), "needs >= 4 entries"),
        (dict(residual="conv1-6"), "has 4 levels"),
        (dict(residual="layers1-4"), "convA-B"),
        (dict(norm="instance"), "minmax or bn"),
        (dict(dilation=(2, 2, 1, 1, 1)), "at most 4 values"),
    ],
)
def test_bad_architecture(bad, match):
    with pytest.raises(ValueError, match=match):
        UNet(**bad)


def test_size_must_halve_at_every_level():
    with pytest.raises(ValueError, match="data.size = 60: a 4-level U-Net needs a multiple of 8"):
        check_size(60, 4)
    with pytest.raises(ValueError, match="multiple of 16"):
        ProstateConfig(
            data=ProstateData(size=72),
            model=ProstateConfig().model.__class__(layers=5, down=(20,) * 5, up=(20, 10, 10, 10, 5, 1)),
        )


def test_soft_dice_by_hand():
    p, g = torch.tensor([1.0, 0.5, 0.0, 0.25]), torch.tensor([1.0, 1.0, 0.0, 0.0])
    # 2 * (1 + 0.5) / ((1 + 0.25 + 0.0625) + 2) without smoothing
    assert float(soft_dice(p, g, eps=0.0)) == pytest.approx(3.0 / 3.3125)
    assert float(soft_dice(p, g, eps=1.0)) == pytest.approx(4.0 / 4.3125)
    assert float(soft_dice(torch.zeros(5), torch.zeros(5))) == 1.0  # empty vs empty
    assert float(soft_dice(torch.zeros(5), torch.ones(5), eps=0.0)) == 0.0


def test_hard_dice_by_hand():
    a = np.array([1, 1, 1, 0, 0], bool)
    b = np.array([0, 1, 1, 1, 0], bool)
    assert dice(a, b) == pytest.approx(2 * 2 / 6)
    assert dice(np.zeros(4), np.zeros(4)) == 1.0 and dice(np.ones(4), np.zeros(4)) == 0.0


def _brute_hd95(a, b, spacing):
    """Reference: surface voxels by 6-neighbourhood, all pairwise distances (independent of scipy)."""

    def surface(m):
        pad = np.pad(m, 1)
        inner = np.ones_like(m, bool)
        for ax in range(m.ndim):
            for s in (-1, 1):
                inner &= np.roll(pad, s, axis=ax)[tuple(slice(1, -1) for _ in range(m.ndim))]
        return np.argwhere(m & ~inner) * np.asarray(spacing)

    sa, sb = surface(a), surface(b)
    d = np.sqrt(((sa[:, None, :] - sb[None, :, :]) ** 2).sum(-1))
    return max(np.percentile(d.min(1), 95), np.percentile(d.min(0), 95))


def test_hausdorff95_against_brute_force_and_known_cases():
    z, y, x = np.mgrid[:12, :20, :20]
    a = (z - 6) ** 2 / 16 + (y - 9) ** 2 / 36 + (x - 9) ** 2 / 25 < 1
    b = (z - 6) ** 2 / 16 + (y - 11) ** 2 / 30 + (x - 10) ** 2 / 36 < 1
    spacing = (3.0, 0.8, 0.8)
    assert hausdorff95(a, b, spacing) == pytest.approx(_brute_hd95(a, b, spacing))
    assert hausdorff95(a, a, spacing) == 0.0
    p, q = np.zeros((5, 5), bool), np.zeros((5, 5), bool)
    p[0, 0], q[3, 4] = True, True  # single voxels 3 rows and 4 columns apart
    assert hausdorff95(p, q, (2.0, 1.0)) == pytest.approx(np.hypot(6.0, 4.0))
    assert np.isnan(hausdorff95(p, np.zeros_like(q), (1.0, 1.0)))


def test_task_evaluates_per_case():
    """A perfect model of the truth scores DSC 1 and HD95 0 per case; evaluation groups slices by case."""
    from physml.tasks.prostate.evaluation import per_case

    rng = np.random.default_rng(0)
    y = (rng.uniform(size=(6, 8, 8)) > 0.7).astype(np.float32)
    got = {
        "p": y.copy(),
        "x": y,
        "y": y,
        "case": np.array([0, 1, 0, 1, 0, 1]),
        "slice": np.array([2, 0, 0, 1, 1, 2]),
        "spacing": np.tile([3.0, 1.0, 1.0], (6, 1)),
    }
    res = per_case(got, 0.5, ["A0", "B1"], {"A0": "A", "B1": "B"})
    assert res["dsc"] == 1.0 and res["hd95"] == 0.0 and res["cases"] == 2.0
    assert res["dsc_site_A"] == 1.0 and res["dsc_site_B"] == 1.0
    got["p"] = np.where(got["case"][:, None, None] == 1, 0.0, y)  # case B1 predicted empty
    res = per_case(got, 0.5, ["A0", "B1"], {})
    assert [r["dsc"] for r in res["case_rows"]] == [1.0, 0.0] and res["dsc"] == 0.5
    assert not any(k.startswith("dsc_site") for k in res)  # no sites known: no per-site means


def test_task_loss_is_one_minus_soft_dice():
    task = ProstateSegmentation()
    cfg = ProstateConfig(data=ProstateData(size=32))
    model = task.model(cfg)
    x = torch.rand(4, 1, 32, 32)
    out = task.loss(model, {"x": x, "y": (x > 0.5).float()}, cfg)
    out["loss"].backward()
    assert 0 <= float(out["loss"].detach()) <= 1
    assert float(out["loss"].detach()) == pytest.approx(1 - float(out["soft_dice"].detach()))


def test_slab_rows_tile_the_case_and_evaluate_like_slices(tmp_path):
    """3D option: slabs of D slices cover every slice once (the last padded with label 0); a perfect
    prediction cut back into slices scores DSC 1 on every case, the same as the slice rows."""
    from physml.tasks.prostate.evaluation import as_slices, per_case
    from physml.tasks.prostate.volumes import Case

    img, _, sp = phantom(0, 2, "A")
    mask = (img > np.percentile(img, 90)).astype(np.uint8)
    case = Case("Case02", img, mask, sp)
    flat, slab = case_rows(case, "A", 32, 4.0), case_rows(case, "A", 32, 4.0, depth=8)
    nz = img.shape[0]
    assert flat.num_rows == nz and slab.num_rows == -(-nz // 8)
    assert slab.column("slice").to_pylist() == list(range(0, nz, 8))
    assert sum(slab.column("foreground").to_pylist()) == sum(flat.column("foreground").to_pylist())
    cols = {c: slab.column(c).to_numpy(zero_copy_only=False) for c in slab.column_names}
    arrays = to_arrays(cols, {"Case02": 0})
    assert arrays["x"].shape == (slab.num_rows, 1, 8, 32, 32)
    got = as_slices({**arrays, "p": arrays["y"][:, 0]})
    assert len(got["p"]) == nz and sorted(got["slice"].tolist()) == list(range(nz))
    res = per_case(got, 0.5, ["Case02"], {})
    assert res["dsc"] == 1.0 and res["hd95"] == 0.0


def test_3d_config_and_one_training_step():
    cfg = ProstateConfig(
        data=ProstateData(size=32, depth=8),
        model=ProstateConfig().model.__class__(
            layers=3, down=(4, 4, 4), up=(4, 4, 1), dims=3, dilation=(1,), residual="conv1-2"
        ),
    )
    task = ProstateSegmentation()
    x = torch.rand(2, 1, 8, 32, 32)
    out = task.loss(task.model(cfg), {"x": x, "y": (x > 0.5).float()}, cfg)
    out["loss"].backward()
    with pytest.raises(ValueError, match="3D nets slabs"):
        ProstateConfig(data=ProstateData(size=32, depth=0), model=cfg.model)
    with pytest.raises(ValueError, match="data.depth = 6: a 3-level U-Net needs a multiple of 4"):
        ProstateConfig(data=ProstateData(size=32, depth=6), model=cfg.model)


def test_shipped_sweep_files_are_valid():
    """sweeps/prostate_table3.toml is the source's 8 rows x {minmax, bn}; the search file parses."""
    from pathlib import Path

    from physml.platform.sweep.driver import prepare

    sweeps = Path(__file__).resolve().parents[2] / "sweeps"
    t3 = prepare("prostate", str(sweeps / "prostate_table3.toml"), [], {})
    assert t3.total == 16 and t3.settings.pivot == "model.norm" and t3.settings.scheduler == "none"
    assert [r["model.layers"] for r in t3.space.table] == [4, 4, 5, 5, 5, 5, 5, 5]
    for row in t3.space.table:  # every row builds a valid config (U-Net included)
        UNet(row["model.layers"], row["model.down"], row["model.up"], row["model.dilation"], row["model.residual"])
    search = prepare("prostate", str(sweeps / "prostate_search.toml"), [], {})
    assert search.total == 24 and not search.space.exhaustive
