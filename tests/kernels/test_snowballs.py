"""Tests of jwstlazy.kernels.snowballs: hand-made events, chunk halos, scikit-image and stcal."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels.dqflags import DO_NOT_USE, JUMP_DET, SATURATED
from jwstlazy.kernels.snowballs import flag_snowballs, region_ellipses

TGROUP = 10.737


def disc(shape, center, radius):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= radius**2


def event_cube(center=(50, 60), jump_radius=4.5, core_radius=None, group=3, nints=1, ngroups=6, shape=(100, 120)):
    """One cosmic-ray event: a disc of JUMP_DET in ``group`` and optionally a saturated core."""
    gdq = np.zeros((nints, ngroups, *shape), np.uint8)
    gdq[0, group][disc(shape, center, jump_radius)] = JUMP_DET
    if core_radius is not None:
        gdq[0, group:][:, disc(shape, center, core_radius)] = SATURATED
    return gdq


def test_event_with_a_new_saturated_core_is_expanded():
    gdq = event_cube(core_radius=1.5)
    result = flag_snowballs(gdq, group_time=TGROUP)
    out = result.groupdq
    assert result.n_snowballs == 1
    grown = out[0, 3] & JUMP_DET != 0
    original = gdq[0, 3] & JUMP_DET != 0
    assert np.all(grown[original])
    assert grown.sum() > 2.5 * original.sum()  # expanded about twice in radius
    assert not np.any(grown[disc(gdq.shape[2:], (50, 60), 1.5)])  # saturated core stays SATURATED only
    assert np.array_equal(out[0, 2], gdq[0, 2]) and np.array_equal(out[0, 4], gdq[0, 4])  # only this group


def test_event_without_saturation_is_not_a_snowball():
    gdq = event_cube()
    result = flag_snowballs(gdq, group_time=TGROUP)
    assert result.n_snowballs == 0
    np.testing.assert_array_equal(result.groupdq, gdq)


def test_saturation_is_not_required_near_the_detector_edge():
    gdq = event_cube(center=(10, 60))
    assert flag_snowballs(gdq, group_time=TGROUP).n_snowballs == 1
    # the same chunk placed in the middle of a large detector is far from its edges
    far = flag_snowballs(gdq, group_time=TGROUP, origin=(500, 500), detector_shape=(2048, 2048))
    assert far.n_snowballs == 0


def test_large_saturated_core_grows_and_masks_the_next_integration():
    gdq = event_cube(jump_radius=9, core_radius=4, nints=2, ngroups=6)
    core = disc(gdq.shape[2:], (50, 60), 4)
    out = flag_snowballs(gdq, group_time=1000.0).groupdq  # 4000 s -> 4 groups masked next time
    saturated = out[0, 3] == SATURATED
    assert saturated.sum() > core.sum()  # grown by sat_expand
    np.testing.assert_array_equal(out[0, 3:] == SATURATED, np.broadcast_to(saturated, out[0, 3:].shape))
    # next integration: the core's (ungrown, drawn) ellipse is JUMP_DET in groups 1..3 only
    masked = out[1, 1] & JUMP_DET != 0
    assert 0.4 * core.sum() < masked.sum() <= core.sum() and np.all(core[masked])
    np.testing.assert_array_equal(out[1, 1:4] & JUMP_DET != 0, np.broadcast_to(masked, (3, *masked.shape)))
    assert not np.any(out[1, 4:] & JUMP_DET) and not np.any(out[1, 0] & JUMP_DET)


def test_saturated_pixels_are_not_flagged_by_the_expansion():
    gdq = event_cube(core_radius=1.5)
    gdq[0, 3, 50, 66] = SATURATED | DO_NOT_USE  # inside the expanded ellipse
    out = flag_snowballs(gdq, group_time=TGROUP).groupdq
    assert out[0, 3, 50, 66] == SATURATED | DO_NOT_USE


def test_chunks_with_a_halo_reproduce_the_whole_array():
    rng = np.random.default_rng(2)
    shape = (90, 100)
    gdq = np.zeros((2, 5, *shape), np.uint8)
    for _ in range(12):
        i, g = rng.integers(0, 2), rng.integers(1, 5)
        center = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        gdq[i, g][disc(shape, center, rng.uniform(2.5, 6))] |= JUMP_DET
        if rng.random() < 0.7:
            gdq[i, g:][:, disc(shape, center, rng.uniform(1, 3))] |= SATURATED
    settings = dict(group_time=TGROUP, detector_shape=shape)
    whole = flag_snowballs(gdq, **settings).groupdq
    halo = 30
    stitched = np.zeros_like(gdq)
    for y0, y1 in ((0, 45), (45, 90)):
        for x0, x1 in ((0, 50), (50, 100)):
            hy0, hx0 = max(y0 - halo, 0), max(x0 - halo, 0)
            hy1, hx1 = min(y1 + halo, shape[0]), min(x1 + halo, shape[1])
            part = flag_snowballs(gdq[..., hy0:hy1, hx0:hx1], origin=(hy0, hx0), **settings).groupdq
            stitched[..., y0:y1, x0:x1] = part[..., y0 - hy0 : y1 - hy0, x0 - hx0 : x1 - hx0]
    np.testing.assert_array_equal(stitched, whole)
    assert np.count_nonzero(whole != gdq) > 100


def test_region_ellipses_match_scikit_image():
    measure = pytest.importorskip("skimage.measure")
    rng = np.random.default_rng(4)
    mask = np.zeros((60, 70), bool)
    for _ in range(15):
        mask |= disc(mask.shape, rng.uniform(0, 60, 2), rng.uniform(0.5, 5)) & (rng.random(mask.shape) < 0.9)
    ours = region_ellipses(mask, 3)
    theirs = []
    for region in measure.regionprops(measure.label(mask)):
        if region.area_filled >= 3:
            row, col = region.centroid
            minor, major = region.axis_minor_length - 1, region.axis_major_length - 1
            theirs.append((col, row, minor, major, np.degrees(region.orientation)))
    assert len(ours) == len(theirs) > 5
    np.testing.assert_array_equal(np.array(ours, dtype=float), np.array(theirs, dtype=float))


# ---------------------------------------------------------------------------------------------
# Agreement with the official stcal 1.20
# ---------------------------------------------------------------------------------------------


def random_events(nints=2, ngroups=8, shape=(160, 180), seed=0, n_events=20):
    rng = np.random.default_rng(seed)
    gdq = np.zeros((nints, ngroups, *shape), np.uint8)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    for i in range(nints):
        for _ in range(n_events):
            g = rng.integers(1, ngroups)
            cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
            a, b, angle = rng.uniform(1.5, 9), rng.uniform(1.5, 9), rng.uniform(0, np.pi)
            u = (yy - cy) * np.cos(angle) + (xx - cx) * np.sin(angle)
            v = -(yy - cy) * np.sin(angle) + (xx - cx) * np.cos(angle)
            gdq[i, g][((u / a) ** 2 + (v / b) ** 2 < 1) & (rng.random(shape) < 0.9)] |= JUMP_DET
            if rng.random() < 0.7:
                core = (u / (0.45 * a)) ** 2 + (v / (0.45 * b)) ** 2 < 1
                gdq[i, g if rng.random() < 0.7 else min(g + 1, ngroups - 1) :][:, core] |= SATURATED
        gdq[i][rng.random(gdq[i].shape) < 0.002] |= JUMP_DET
        gdq[i][rng.random(gdq[i].shape) < 0.001] |= DO_NOT_USE
    return gdq


@pytest.mark.crosscheck
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_stcal(seed):
    pytest.importorskip("stcal")
    from stcal.jump.jump import flag_large_events
    from stcal.jump.jump_class import JumpData

    gdq = random_events(seed=seed)
    ones = np.ones(gdq.shape[2:], np.float32)
    jump_data = JumpData(gain2d=ones, rnoise2d=ones, dqflags=dqflags.PIXEL)
    jump_data.set_snowball_info(True, 5.0, 1.0, 2.0, True, 2.5, 2 * 2, 25)  # the step doubles sat_expand
    jump_data.max_extended_width = 2 * 200
    jump_data.mask_persist_grps_next_int = True
    jump_data.persist_grps_flagged = int(4000 // TGROUP)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, n_theirs = flag_large_events(gdq.copy(), JUMP_DET, SATURATED, jump_data)
    ours = flag_snowballs(gdq, group_time=TGROUP)
    np.testing.assert_array_equal(ours.groupdq, theirs)
    assert ours.n_snowballs == n_theirs > 10
