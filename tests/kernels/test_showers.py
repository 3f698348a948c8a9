"""Tests of jwstlazy.kernels.showers: hand-made showers, noise, time masking, flags, astropy and stcal."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels.dqflags import DO_NOT_USE, JUMP_DET, REFERENCE_PIXEL, SATURATED
from jwstlazy.kernels.showers import (
    _ring_mean_above,
    flag_showers,
    ring_offsets,
    shower_statistics,
)

SHAPE = (96, 112)
CENTER = (47.0, 58.0)
RADIUS = 16.0
NOISE = 2.0  # e- per difference (gain 1)


def disc(shape, center, radius):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= radius**2


def noisy_ramps(nints=1, ngroups=12, shape=SHAPE, seed=0):
    """Flat ramps with independent N(0, NOISE) differences; gain 1, CDS read noise NOISE: sigma ~ NOISE."""
    rng = np.random.default_rng(seed)
    diffs = rng.normal(0.0, NOISE, (nints, ngroups, *shape))
    data = (1000.0 + np.cumsum(diffs, axis=1)).astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    pdq = np.zeros(shape, np.uint32)
    gain = np.ones(shape, np.float32)
    readnoise = np.full(shape, NOISE, np.float32)
    return data, gdq, pdq, gain, readnoise


def add_shower(data, integration, group, center=CENTER, radius=RADIUS, excess=2.0 * NOISE):
    """A uniform disc of ``excess`` e- arriving in ``group`` (a faint halo, ~2 sigma per pixel)."""
    data[integration, group:][:, disc(data.shape[2:], center, radius)] += np.float32(excess)


def run(data, gdq, pdq, gain, readnoise, **options):
    options.setdefault("group_time", 10.0)  # 15 s -> one more group masked; amplitude limit 60 e-
    return flag_showers(data, gdq, pdq, gain, readnoise, nframes=1, **options)


def jump(gdq):
    return gdq & JUMP_DET != 0


def test_faint_disc_is_flagged_as_an_expanded_ellipse():
    data, gdq, pdq, gain, rn = noisy_ramps()
    add_shower(data, 0, 5)
    result = run(data, gdq, pdq, gain, rn)
    assert result.n_showers == 1
    flagged = jump(result.groupdq[0, 5])
    # ring smoothing widens the region by ~1 px; the ellipse is enlarged 1.1x: a disc of ~1.1 (R + 1)
    assert np.all(flagged[disc(SHAPE, CENTER, RADIUS)])
    assert not np.any(flagged[~disc(SHAPE, CENTER, 1.1 * RADIUS + 4)])
    assert np.pi * RADIUS**2 < flagged.sum() < np.pi * (1.1 * (RADIUS + 1)) ** 2
    rows, cols = np.nonzero(flagged)
    assert abs(rows.mean() - CENTER[0]) < 1 and abs(cols.mean() - CENTER[1]) < 1
    assert 0.9 < np.ptp(rows) / np.ptp(cols) < 1.1  # round, not elongated
    assert not jump(result.groupdq[0, :5]).any()  # nothing before the shower


def test_pure_noise_is_not_flagged():
    data, gdq, pdq, gain, rn = noisy_ramps(ngroups=14, shape=(128, 128), seed=3)
    result = run(data, gdq, pdq, gain, rn)
    assert result.n_showers == 0
    np.testing.assert_array_equal(result.groupdq, gdq)
    # the ring mean of noise ratios (~0.8 +- 0.1) rarely crosses 1.2: a bound on single pixels
    center, sigma = shower_statistics(data, gdq, gain, rn, nframes=1, sigma_clip=False)
    ratio = np.abs(np.diff(data[0], axis=0) - center) / sigma
    dy, dx = ring_offsets(1.0, 2.6)
    above = np.mean([_ring_mean_above(plane, dy, dx, 1.2).mean() for plane in ratio])
    assert above < 2e-3


@pytest.mark.parametrize("time_masked, n_after", [(15.0, 1), (35.0, 3), (0.0, 0)])
def test_time_masked_after_shower_flags_later_groups(time_masked, n_after):
    data, gdq, pdq, gain, rn = noisy_ramps()
    add_shower(data, 0, 4)
    out = run(data, gdq, pdq, gain, rn, time_masked_after_shower=time_masked, max_shower_amplitude=np.inf).groupdq
    shower = jump(out[0, 4])
    assert shower.sum() > np.pi * RADIUS**2
    for g in range(5, 12):
        expected = shower if g <= 4 + n_after else np.zeros_like(shower)
        np.testing.assert_array_equal(jump(out[0, g]), expected)


def test_saturated_pixels_are_skipped_from_their_group_on():
    data, gdq, pdq, gain, rn = noisy_ramps()
    add_shower(data, 0, 4)
    gdq[0, 5:, 47, 60] = SATURATED  # inside the shower, saturated one group later
    out = run(data, gdq, pdq, gain, rn, time_masked_after_shower=35.0, max_shower_amplitude=np.inf).groupdq
    assert out[0, 4, 47, 60] == JUMP_DET
    np.testing.assert_array_equal(out[0, 5:, 47, 60], SATURATED)


def test_do_not_use_groups_are_ignored():
    data, gdq, pdq, gain, rn = noisy_ramps(ngroups=13)  # 12 differences, 10 usable below
    add_shower(data, 0, 4)
    flagged = gdq.copy()
    flagged[0, 4][disc(SHAPE, CENTER, RADIUS + 3)] = DO_NOT_USE  # the shower's group is unusable there
    result = run(data, flagged, pdq, gain, rn)
    assert result.n_showers == 0
    np.testing.assert_array_equal(result.groupdq, flagged)
    # DO_NOT_USE groups elsewhere (group 0 everywhere, as MIRI's first frame) change nothing, but count
    # against the 10 differences needed
    elsewhere = gdq.copy()
    elsewhere[0, 0] = DO_NOT_USE
    elsewhere[0, 8] = DO_NOT_USE
    result = run(data, elsewhere, pdq, gain, rn)
    assert result.n_showers == 1
    assert jump(result.groupdq[0, 4]).sum() > np.pi * RADIUS**2


def test_reference_and_do_not_use_pixels_keep_their_flags():
    data, gdq, pdq, gain, rn = noisy_ramps()
    add_shower(data, 0, 4)
    pdq[40:55, 56] = REFERENCE_PIXEL
    pdq[50, 50] = DO_NOT_USE
    out = run(data, gdq, pdq, gain, rn).groupdq
    assert not jump(out[0, :, 40:55, 56]).any()
    assert jump(out[0, 4, 50, 50])  # masked for the search, flagged by the ellipse like its neighbours
    assert jump(out[0, 4]).sum() > np.pi * RADIUS**2


def test_large_mean_changes_restore_the_input_flags():
    data, gdq, pdq, gain, rn = noisy_ramps()
    add_shower(data, 0, 4)
    # group_time 0.2 s: every later group masked, limit 6 x 0.2 = 1.2 e-/group (jwst's 6 * TGROUP)
    flagged = run(data, gdq, pdq, gain, rn, group_time=0.2, max_shower_amplitude=np.inf).groupdq
    result = run(data, gdq, pdq, gain, rn, group_time=0.2)
    assert result.n_showers == 1
    # NumPy reference of the rule: mean usable difference with the input flags vs with the shower's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        means = [np.nanmean(np.diff(np.where(flags[0] & (DO_NOT_USE | SATURATED | JUMP_DET), np.nan, data[0]),
                                    axis=0), axis=0) for flags in (gdq, flagged)]
    restored = np.abs(means[0] - means[1]) > np.float32(1.2)
    assert 0.2 < restored[jump(flagged[0, 4])].mean() < 0.9  # both outcomes occur
    np.testing.assert_array_equal(result.groupdq[0][:, restored], gdq[0][:, restored])
    np.testing.assert_array_equal(result.groupdq[0][:, ~restored], flagged[0][:, ~restored])
    # a bright shower changes the means on its disc by ~100 / 11 e-: all flags go back there (the
    # enlarged ellipse's rim, without excess, keeps some)
    add_shower(data, 0, 4, excess=100.0)
    bright = run(data, gdq, pdq, gain, rn, group_time=0.2)
    assert bright.n_showers == 1
    inside = disc(SHAPE, CENTER, RADIUS)
    np.testing.assert_array_equal(bright.groupdq[0][:, inside], gdq[0][:, inside])
    assert jump(bright.groupdq[0, 4]).any()


def test_too_few_differences_skip_the_search():
    data, gdq, pdq, gain, rn = noisy_ramps(ngroups=9)  # 8 differences < 10
    add_shower(data, 0, 4)
    assert run(data, gdq, pdq, gain, rn).n_showers == 0
    assert run(data, gdq, pdq, gain, rn, min_diffs_for_shower=8).n_showers == 1


def test_each_integration_is_searched():
    data, gdq, pdq, gain, rn = noisy_ramps(nints=3, ngroups=6)
    add_shower(data, 1, 3, center=(30.0, 40.0))
    add_shower(data, 2, 2)
    result = run(data, gdq, pdq, gain, rn)
    assert result.n_showers == 2
    assert not jump(result.groupdq[0]).any()
    assert jump(result.groupdq[1, 3, 30, 40]) and not jump(result.groupdq[1, 3, 47, 58])
    assert jump(result.groupdq[2, 2, 47, 58]) and not jump(result.groupdq[2, 2, 30, 40])


def test_ring_matches_astropy():
    convolution = pytest.importorskip("astropy.convolution")
    for inner, width in [(1.0, 2.6), (2.0, 3.0), (0.5, 1.2)]:
        kernel = convolution.Ring2DKernel(inner, width).array
        half = kernel.shape[0] // 2
        dy, dx = ring_offsets(inner, width)
        ours = np.zeros((2 * half + 1 + 4,) * 2)
        ours[dy + half + 2, dx + half + 2] = 1
        np.testing.assert_array_equal(ours[2:-2, 2:-2], kernel > 0)
        assert ours.sum() == (kernel > 0).sum()
        assert np.ptp(kernel[kernel > 0]) == 0  # equal weights: the convolution is a ring mean


def test_sigma_clipped_statistics_match_astropy():
    stats = pytest.importorskip("astropy.stats")
    rng = np.random.default_rng(5)
    data = np.cumsum(rng.normal(30, 5, (40, 5, 6, 7)), axis=1).astype(np.float32)
    data[rng.random(data.shape) < 0.05] += 500  # outliers
    gdq = np.where(rng.random(data.shape) < 0.05, DO_NOT_USE, 0).astype(np.uint8)
    gain = rng.uniform(1, 3, data.shape[2:]).astype(np.float32)
    rn = np.full(data.shape[2:], 4.0, np.float32)
    center, sigma = shower_statistics(data, gdq, gain, rn, nframes=1, sigma_clip=True)
    electrons = data * gain
    electrons[gdq == DO_NOT_USE] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, median, std = stats.sigma_clipped_stats(np.diff(electrons, axis=1), sigma=5, axis=0)
    np.testing.assert_array_equal(center, median)
    np.testing.assert_array_equal(sigma, std)


# ---------------------------------------------------------------------------------------------
# Agreement with the official stcal 1.20
# ---------------------------------------------------------------------------------------------


def simulated_showers(nints=1, ngroups=12, shape=(128, 128), n_showers=2, seed=0):
    """MIRI-like ramps (DN): Poisson sky, read noise, ~3.2 e-/DN, halos falling from 100-200 e-; random
    JUMP_DET/SATURATED/odd flags, DO_NOT_USE pixels, a reference column and group 0 DO_NOT_USE."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    gain = rng.uniform(3.0, 3.4, shape).astype(np.float32)
    rn = rng.uniform(5.0, 7.0, shape).astype(np.float32)
    electrons = np.cumsum(rng.poisson(20.0, (nints, ngroups, ny, nx)), axis=1).astype(np.float64)
    electrons += rng.normal(0.0, 1.0, electrons.shape) * (rn * gain / np.sqrt(2.0))
    yy, xx = np.mgrid[0:ny, 0:nx]
    for _ in range(n_showers):
        i, g = rng.integers(nints), rng.integers(2, ngroups - 1)
        cy, cx, radius = rng.uniform(20, ny - 20), rng.uniform(20, nx - 20), rng.uniform(15, 30)
        r = np.hypot(yy - cy, xx - cx)
        electrons[i, g:] += np.where(r <= radius, rng.uniform(100, 200) * np.exp(-r / (0.5 * radius)), 0.0)
    data = (electrons / gain).astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[:, 0] = DO_NOT_USE
    gdq[rng.random(gdq.shape) < 0.003] |= JUMP_DET
    gdq[rng.random(gdq.shape) < 0.001] |= SATURATED
    odd = rng.random(gdq.shape) < 0.003
    gdq[odd] = rng.integers(0, 256, odd.sum()).astype(np.uint8)
    pdq = np.where(rng.random(shape) < 0.002, DO_NOT_USE, 0).astype(np.uint32)
    pdq[:, :4] = REFERENCE_PIXEL
    return data, gdq, pdq, gain, rn


def stcal_showers(data, gdq, pdq, gain, rn, *, group_time, nframes=1, minimum_sigclip_groups=100, **kwargs):
    from stcal.jump.jump import find_faint_extended
    from stcal.jump.jump_class import JumpData

    jump_data = JumpData(gain2d=gain, rnoise2d=rn, dqflags=dqflags.PIXEL)
    jump_data.nframes = nframes
    jump_data.minimum_sigclip_groups = minimum_sigclip_groups
    # as jwst 3.0's JumpStep passes the defaults: max_extended_radius doubled, 15 s // TGROUP groups,
    # JumpData's default amplitude 6 times TGROUP
    jump_data.set_shower_info(True, 1.2, 90, 1.0, 2.6, 1.1, 10, 2 * 200)
    jump_data.grps_masked_after_shower = int(15.0 // group_time)
    jump_data.max_shower_amplitude = 6 * group_time
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_faint_extended(data * gain, gdq.copy(), pdq.copy(), rn * gain, jump_data, **kwargs)


CASES = {
    "1x12 groups, 2 showers": {"nints": 1, "ngroups": 12, "n_showers": 2, "seed": 0, "group_time": 2.775},
    "3x8 groups, 5 showers, NFRAMES=4": {"nints": 3, "ngroups": 8, "n_showers": 5, "seed": 1,
                                         "group_time": 0.86528, "nframes": 4},
    "6x6 groups, sigma clipping": {"nints": 6, "ngroups": 6, "n_showers": 4, "seed": 2, "group_time": 2.775,
                                   "minimum_sigclip_groups": 3},
}


@pytest.mark.crosscheck
@pytest.mark.parametrize("case", list(CASES))
def test_agrees_with_stcal(case):
    pytest.importorskip("stcal")
    settings = dict(CASES[case])
    group_time = settings.pop("group_time")
    nframes = settings.pop("nframes", 1)
    sigclip = settings.pop("minimum_sigclip_groups", 100)
    data, gdq, pdq, gain, rn = simulated_showers(**settings)
    theirs, n_theirs = stcal_showers(data, gdq, pdq, gain, rn, group_time=group_time, nframes=nframes,
                                     minimum_sigclip_groups=sigclip)
    ours = flag_showers(data, gdq, pdq, gain, rn, nframes=nframes, group_time=group_time,
                        minimum_sigclip_groups=sigclip)
    assert ours.n_showers == n_theirs >= settings["n_showers"] - 1
    assert np.count_nonzero(theirs != gdq) > 100  # the case flags something
    np.testing.assert_array_equal(ours.groupdq, theirs)  # measured: 0 differing flags of 196,608-786,432


@pytest.mark.crosscheck
def test_agrees_with_stcal_on_six_groups():
    """1 x 6 groups: both skip (5 differences < 10); with the minimum lowered both search, identically."""
    pytest.importorskip("stcal")
    data, gdq, pdq, gain, rn = simulated_showers(ngroups=6, seed=4)
    theirs, n_theirs = stcal_showers(data, gdq, pdq, gain, rn, group_time=2.775)
    ours = flag_showers(data, gdq, pdq, gain, rn, nframes=1, group_time=2.775)
    assert ours.n_showers == n_theirs == 0
    np.testing.assert_array_equal(ours.groupdq, theirs)
    theirs, n_theirs = stcal_showers(data, gdq, pdq, gain, rn, group_time=2.775, min_diffs_for_shower=4)
    ours = flag_showers(data, gdq, pdq, gain, rn, nframes=1, group_time=2.775, min_diffs_for_shower=4)
    assert ours.n_showers == n_theirs > 0
    np.testing.assert_array_equal(ours.groupdq, theirs)
