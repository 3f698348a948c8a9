"""Tests for jwstlazy.kernels.picture_frame: regions, levels, scales and the per-block apply."""

import numpy as np
import pytest

from jwstlazy.kernels import picture_frame as kernels

FULL = (2048, 2048)


def _numpy_correction(data, reference, centre, edge):
    """Upstream's arithmetic written out with numpy on whole arrays (the slow reference)."""
    centre_ref = np.nanmedian(reference[centre])
    edge_ref = np.nanmedian(reference[edge])
    out = data.copy()
    zero = out[:, :1]
    image = out[:, 1:]
    image -= zero
    centre_levels = np.nanmedian(image[..., centre], axis=-1)
    edge_levels = np.nanmedian(image[..., edge], axis=-1)
    scale = (centre_levels - edge_levels) / (centre_ref - edge_ref)
    correction = scale[..., None, None] * (reference - edge_ref) + edge_levels[..., None, None]
    image += zero - correction
    return out


def test_region_masks_on_a_full_frame():
    background = np.ones(FULL, bool)
    background[1000, 1000] = False  # a masked centre pixel
    background[10, 500] = False  # a masked edge pixel
    centre, edge = kernels.region_masks(background)
    assert centre.sum() == (1984 - 76) ** 2 - 1
    assert not (centre & edge).any()
    assert edge[4, 4] and edge[74, 1000] and edge[2042, 2042] and edge[1000, 1985]
    assert not edge[3, 100] and not edge[75, 1000] and not edge[2043, 100] and not edge[1000, 1984]
    assert not edge[10, 500] and not centre[1000, 1000]
    inside = 2043 - 4
    assert edge.sum() == inside**2 - (1985 - 75) ** 2 - 1


@pytest.mark.crosscheck
def test_region_masks_match_jwst():
    pf = pytest.importorskip("jwst.picture_frame.picture_frame")
    rng = np.random.default_rng(1)
    background = rng.random(FULL) > 0.1
    ours, theirs = kernels.region_masks(background), pf._region_masks(background)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


def _small_case(seed=0, nints=2, ngroups=4, shape=(120, 130)):
    """A (120, 130) frame: its centre is rows and columns 76.. and its edge band 4..74, so both regions exist."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    reference = rng.normal(1.0, 0.3, shape).astype(np.float32)
    reference[:20] += 2.0  # an edge-bright pattern
    t = np.arange(ngroups, dtype=np.float32)
    data = (500 + 3.0 * t[None, :, None, None] * (1 + 0.5 * reference)
            + rng.normal(0, 2, (nints, ngroups, ny, nx))).astype(np.float32)
    data[0, -1, 50, 50] = np.nan
    background = rng.random(shape) > 0.05
    return data, reference, background


def test_kernels_equal_upstream_arithmetic_bit_for_bit():
    data, reference, background = _small_case()
    centre, edge = kernels.region_masks(background)
    assert centre.any() and edge.any()
    centre_ref, edge_ref = kernels.reference_levels(reference, centre, edge)
    levels = [kernels.ramp_levels(data[i], centre, edge) for i in range(data.shape[0])]
    scale, offset = kernels.scales_and_offsets(np.stack([c for c, _ in levels]), np.stack([e for _, e in levels]),
                                       centre_ref, edge_ref)
    got = np.concatenate([kernels.apply_to_ramp(data[:, :, :, :60], reference[:, :60], scale, offset, edge_ref),
                          kernels.apply_to_ramp(data[:, :, :, 60:], reference[:, 60:], scale, offset, edge_ref)], axis=-1)
    want = _numpy_correction(data, reference, centre, edge)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got[:, 0], data[:, 0])  # group 0 is left as it is
    assert np.isnan(got[0, -1, 50, 50]) and not np.isnan(got[0, -2, 50, 50])


def test_rate_images_and_nan_medians():
    data, reference, background = _small_case(nints=3, ngroups=1)
    rates = data[:, 0] / 100
    centre, edge = kernels.region_masks(background)
    centre_ref, edge_ref = kernels.reference_levels(reference, centre, edge)
    levels = np.array([kernels.image_levels(rate, centre, edge) for rate in rates])
    assert levels.dtype == np.float32
    np.testing.assert_array_equal(levels[:, 0], [np.nanmedian(r[centre]) for r in rates])
    scale, offset = kernels.scales_and_offsets(levels[:, 0], levels[:, 1], centre_ref, edge_ref)
    got = kernels.apply_to_image(rates, reference, scale, offset, edge_ref)
    correction = scale[:, None, None] * (reference - edge_ref) + offset[:, None, None]
    np.testing.assert_array_equal(got, rates + (0.0 - correction))
    empty = np.zeros_like(centre)
    assert np.isnan(kernels.image_levels(rates[0], empty, edge)[0])
    assert np.isnan(kernels.reference_levels(np.full(reference.shape, np.nan, np.float32), centre, edge)[0])


def test_recovers_the_injected_scale_and_leaves_noise():
    """Truth: groups = 500 DN + g * 4 * pattern + noise; the reference is the pattern plus a constant rate.
    The scales come out as 4 g and what is left of each group difference is the noise."""
    rng = np.random.default_rng(3)
    shape, ngroups = (150, 160), 5
    pattern = np.tile(np.linspace(0.0, 0.5, shape[1], dtype=np.float32), (shape[0], 1))  # a gentle gradient
    pattern[:76] += 3.0  # a warm frame along the edges (this small frame's centre starts at 76)
    pattern[76:, :76] += 3.0
    reference = pattern + np.float32(0.7)
    g = np.arange(ngroups, dtype=np.float32)[None, :, None, None]
    data = (500 + 4 * g * pattern + rng.normal(0, 2, (1, ngroups) + shape)).astype(np.float32)
    centre, edge = kernels.region_masks(np.ones(shape, bool))
    centre_ref, edge_ref = kernels.reference_levels(reference, centre, edge)
    scale, offset = kernels.scales_and_offsets(*kernels.ramp_levels(data[0], centre, edge), centre_ref, edge_ref)
    np.testing.assert_allclose(scale, 4 * np.arange(1, ngroups), rtol=0.05)
    out = kernels.apply_to_ramp(data, reference, scale[None], offset[None], edge_ref)
    residual = (out[0, 1:] - out[0, :1])[:, 4:-5, 4:-5]
    before = (data[0, 1:] - data[0, :1])[:, 4:-5, 4:-5]
    assert abs(residual.std() - 2 * np.sqrt(2)) < 0.2  # the noise of a difference of two groups
    assert before.std() > 5 * residual.std()
