"""stargalaxy-segmentation: the multi-object field simulator and its truth masks, IoU, the threshold
baseline, k-means on hypercolumns, the network's shapes, and the Hubble Deep Field input."""

import numpy as np
import pytest
import torch

from physml.config import ConfigError, from_dict
from physml.tasks.stargalaxy.field_source import FieldSource, FieldsParams
from physml.tasks.stargalaxy.fields import FieldParams, draw_field
from physml.tasks.stargalaxy.hypercolumns import (
    HypercolumnAE,
    fit_clusters,
    hypercolumns,
    iou,
    predict_masks,
    threshold_masks,
)
from physml.tasks.stargalaxy.segmentation import (
    StarGalaxySegmentation,
    hubble_deep_field,
)


@pytest.fixture(scope="module")
def fields():
    rng = np.random.default_rng(3)
    p = FieldParams(size=32, objects=2.0)
    return p, [draw_field(rng, p) for _ in range(120)]


def test_truth_mask_is_the_noiseless_image_above_the_threshold(fields):
    p, fs = fields
    for f in fs[:10]:
        assert np.array_equal(f["mask"] > 0, f["clean"] > p.mask_sigma * p.cutout.noise_sd())
    assert all(f["mask"].any() for f in fs)  # every field has >= 1 object (r <= 21: above the noise)


def test_field_noise_and_object_counts(fields):
    """Background pixels (noiseless flux < 0.01 sigma) scatter with the sky noise; objects per field
    are 1 + Poisson(objects - 1); both within 5 standard errors."""
    p, fs = fields
    sky = np.concatenate([(f["image"] - f["clean"])[f["clean"] < 0.01 * p.cutout.noise_sd()] for f in fs])
    sd = p.cutout.noise_sd()
    assert abs(sky.std() - sd) < 5 * sd / np.sqrt(2 * len(sky)) + 0.01 * sd  # + CCD Poisson granularity
    n = np.array([f["n_objects"] for f in fs])
    assert n.min() >= 1 and abs(n.mean() - p.objects) < 5 * np.sqrt(p.objects - 1) / np.sqrt(len(n))


def test_field_source_rows_are_reproducible():
    src = FieldSource(FieldsParams(n=3, seed=4, field=FieldParams(size=16)))
    item = src.items()[0]
    t = src.make(item)
    assert t.num_rows == 3 and t.schema.field("mask").type.list_size == 256
    assert t.equals(FieldSource(FieldsParams(n=3, seed=4, field=FieldParams(size=16))).make(item))


def test_iou_on_known_masks():
    a = np.zeros((3, 4, 4), bool)
    b = a.copy()
    a[0, :2], b[0, 1:3] = True, True  # 4 in common of 12 -> 1/3
    a[1, 0, 0] = b[1, 0, 0] = True  # identical -> 1
    assert np.allclose(iou(a, b), [1 / 3, 1.0, 1.0])  # both empty -> 1


def test_threshold_baseline_finds_a_bright_square():
    rng = np.random.default_rng(5)
    img = rng.normal(0, 1, (1, 32, 32))
    img[0, 10:14, 10:14] += 20
    m = threshold_masks(img, 5.0)
    assert m[0, 10:14, 10:14].all() and m.sum() == 16  # a 5-sigma false positive in 1008 pixels: p ~ 3e-4


def test_kmeans_recovers_two_separated_populations_and_picks_the_bright_one():
    rng = np.random.default_rng(6)
    truth = rng.random((4, 8, 8)) < 0.3
    feats = rng.normal(0, 0.1, (4, 3, 8, 8)) + 2.0 * truth[:, None]
    km, fg = fit_clusters(feats, truth * 1.0 + 0.01 * rng.random((4, 8, 8)))
    assert np.array_equal(predict_masks(km, fg, feats), truth)
    km, fg = fit_clusters(feats, (~truth) * 1.0)  # "brighter" is now the other population
    assert np.array_equal(predict_masks(km, fg, feats), ~truth)


@pytest.mark.parametrize("depth,residual", [(1, False), (3, False), (3, True)])
def test_hypercolumn_network_shapes(depth, residual):
    net = HypercolumnAE(4, depth, residual)
    out = net(torch.rand(2, 1, 32, 32))
    assert out["recon"].shape == (2, 1, 32, 32) and len(out["levels"]) == depth + 1
    h = hypercolumns(out["levels"])
    assert h.shape == (2, sum(4 * 2**k for k in range(depth + 1)), 32, 32)


def test_residual_connection_changes_the_output():
    torch.manual_seed(0)
    a = HypercolumnAE(4, 2, False)
    b = HypercolumnAE(4, 2, True)
    b.load_state_dict(a.state_dict())
    x = torch.rand(1, 1, 16, 16)
    assert not torch.allclose(a(x)["recon"], b(x)["recon"])


def test_hubble_deep_field_input():
    img = hubble_deep_field()
    assert img.shape[:2] == (1, 1) and img.shape[2] % 16 == 0 and img.shape[3] % 16 == 0
    assert img.max() == pytest.approx(1.0) and np.median(img) == pytest.approx(0.0, abs=0.05)


def test_bad_segmentation_config():
    with pytest.raises(ConfigError, match="data.size = 36: must be a multiple of 2\\^model.depth = 8"):
        from_dict(StarGalaxySegmentation.Config, {"data": {"size": 36}})
    with pytest.raises(ValueError, match="size = 20: must be a multiple of 8"):
        FieldParams(size=20)


def test_batches_without_rows_of_the_split_give_empty_arrays():
    from physml.tasks.splits import split_of
    from physml.tasks.stargalaxy.segmentation import to_arrays

    ids = np.array([f"field-0-{i:06d}" for i in range(40)])
    ids = ids[split_of(ids, 10) != 0][:5]  # no validation rows
    col = np.empty(5, object)
    col[:] = list(np.ones((5, 256), np.float32))
    out = to_arrays({"id": ids, "image": col, "mask": col}, 0, 10)
    assert out["x"].shape[0] == 0 and out["mask"].shape[0] == 0
    full = to_arrays({"id": ids, "image": col, "mask": col}, None, 10)
    assert full["x"].shape == (5, 1, 16, 16) and full["mask"].shape == (5, 16, 16)
