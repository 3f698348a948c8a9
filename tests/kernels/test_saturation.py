"""Tests for jwstlazy.kernels.saturation."""

import numpy as np
import pytest
from scipy.ndimage import binary_dilation

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels.dqflags import AD_FLOOR, DO_NOT_USE, NO_SAT_CHECK, SATURATED
from jwstlazy.kernels.saturation import ATOD_LIMIT, flag_saturation, saturation_halo


def _grow(mask, n):
    if n <= 0:
        return mask
    return binary_dilation(mask, structure=np.ones((2 * n + 1, 2 * n + 1), bool))


def reference_flag_saturation(data, gdq, pdq, thresh, sat_dq, n, nframes=None, bias=None, zeroframe=None):
    """Slow, literal NumPy version of the algorithm in the module docstring."""
    gdq = gdq.copy()
    nints, ngroups = data.shape[:2]
    no_check = ((sat_dq & NO_SAT_CHECK) != 0) | np.isnan(thresh)
    pdq = pdq | sat_dq | np.where(np.isnan(thresh), NO_SAT_CHECK, 0).astype(np.uint32)
    thr = np.where(no_check, ATOD_LIMIT + 1, thresh).astype(np.float64)
    b = np.zeros_like(thr, dtype=np.float32) if bias is None else bias.astype(np.float32)
    for i in range(nints):
        tally = np.zeros(thr.shape, bool)
        for g in range(ngroups):
            tally |= data[i, g] >= thr
            gdq[i, g] |= np.where(tally, SATURATED, 0).astype(np.uint8)
            gdq[i, g] |= np.where(data[i, g] <= 0, AD_FLOOR | DO_NOT_USE, 0).astype(np.uint8)
            gdq[i, g] |= np.where(_grow((gdq[i, g] & SATURATED) != 0, n), SATURATED, 0).astype(np.uint8)
        if nframes is None or nframes <= 1:
            continue
        pattern = [[f + 1 + g * nframes for f in range(nframes)] for g in range(ngroups)]
        for g in range(ngroups - 2, -1, -1):
            dil = np.where(no_check, 1.0, np.mean(pattern[g]) / pattern[g][-1])
            hit = (data[i, g] >= thr * dil) & ((gdq[i, g] & (SATURATED | DO_NOT_USE)) == 0)
            hit &= (gdq[i, g + 1] & SATURATED) != 0
            gdq[i, g] |= np.where(_grow(hit, n), DO_NOT_USE, 0).astype(np.uint8)
        if ngroups > 2:
            t32 = thr.astype(np.float32)
            quiet = ((data[i, 0] - b) / np.mean(pattern[0])) * pattern[2][-1] + b < t32
            jump = (data[i, 1] - data[i, 0]) > (t32 - data[i, 0]) / np.float32(nframes)
            third = ((gdq[i, 2] & SATURATED) != 0) & ((gdq[i, 1] & SATURATED) == 0)
            gdq[i, 1] |= np.where(quiet & jump & third, DO_NOT_USE, 0).astype(np.uint8)
    zf = None
    if zeroframe is not None:
        zf = zeroframe.copy()
        for i in range(nints):
            bad = _grow(zeroframe[i] >= thr, n) | (zeroframe[i] <= 0)
            zf[i][bad] = 0.0
    return gdq, pdq, zf


def _random_case(rng, nints=2, ngroups=6, ny=17, nx=13):
    rates = rng.uniform(-50, 9000, size=(ny, nx)).astype(np.float32)
    g = np.arange(1, ngroups + 1, dtype=np.float32)[None, :, None, None]
    data = (1000 + rates[None, None] * g + rng.normal(0, 5, (nints, ngroups, ny, nx))).astype(np.float32)
    data[0, 2, 3, 4] = 0.0  # A/D floor
    data[-1, :, 5, 6] = -3.0
    thresh = rng.uniform(20000, 40000, size=(ny, nx)).astype(np.float32)
    thresh[0, 0] = np.nan
    sat_dq = np.zeros((ny, nx), np.uint32)
    sat_dq[1, 1] = NO_SAT_CHECK
    sat_dq[2, 2] = dqflags.PIXEL["HOT"]
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 1, 7, 7] = DO_NOT_USE
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[4, 4] = DO_NOT_USE
    return data, gdq, pdq, thresh, sat_dq


@pytest.mark.parametrize("n_grow", [0, 1, 2])
@pytest.mark.parametrize("nframes", [None, 1, 4])
def test_matches_reference_on_random_data(n_grow, nframes):
    rng = np.random.default_rng(42 + n_grow)
    data, gdq, pdq, thresh, sat_dq = _random_case(rng)
    bias = rng.normal(1000, 30, size=thresh.shape).astype(np.float32)
    zeroframe = data[:, 0] * 0.5
    got = flag_saturation(data, gdq, pdq, thresh, sat_dq, n_grow, nframes, bias, zeroframe)
    want = reference_flag_saturation(data, gdq, pdq, thresh, sat_dq, n_grow, nframes, bias, zeroframe)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])


def test_hand_computed_single_pixel_and_growth():
    data = np.zeros((1, 4, 5, 5), np.float32) + 100
    data[0, :, 2, 2] = [100, 500, 2000, 1500]  # saturates at group 2, stays flagged after dropping
    data[0, 1, 0, 0] = 0  # A/D floor in group 1 only
    thresh = np.full((5, 5), 1000, np.float32)
    gdq, pdq, _ = flag_saturation(data, np.zeros(data.shape, np.uint8), np.zeros((5, 5), np.uint32),
                                  thresh, np.zeros((5, 5), np.uint32), n_pix_grow_sat=1)
    assert list(gdq[0, :, 2, 2]) == [0, 0, SATURATED, SATURATED]
    assert gdq[0, 2, 1, 1] == SATURATED and gdq[0, 3, 3, 3] == SATURATED  # grown box
    assert gdq[0, 2, 0, 2] == 0  # outside the 3x3 box
    assert gdq[0, 1, 0, 0] == AD_FLOOR | DO_NOT_USE and gdq[0, 2, 0, 0] == 0
    assert not pdq.any()


def test_nan_threshold_means_no_check():
    data = np.full((1, 2, 2, 2), 60000, np.float32)
    thresh = np.array([[np.nan, 1000], [1000, 1000]], np.float32)
    gdq, pdq, _ = flag_saturation(data, np.zeros(data.shape, np.uint8), np.zeros((2, 2), np.uint32),
                                  thresh, np.zeros((2, 2), np.uint32), n_pix_grow_sat=0)
    assert gdq[0, 0, 0, 0] == 0 and pdq[0, 0] == NO_SAT_CHECK
    assert gdq[0, 0, 0, 1] == SATURATED


def test_halo_size():
    assert saturation_halo(1, 1) == 1
    assert saturation_halo(1, None) == 1
    assert saturation_halo(2, 4) == 4


def test_chunk_with_halo_matches_whole_array():
    rng = np.random.default_rng(3)
    data, gdq, pdq, thresh, sat_dq = _random_case(rng, nints=1, ngroups=5, ny=24, nx=20)
    whole = flag_saturation(data, gdq, pdq, thresh, sat_dq, 1, 4)[0]
    halo = saturation_halo(1, 4)
    y0, y1 = 8, 16
    part = flag_saturation(data[..., y0 - halo:y1 + halo, :], gdq[..., y0 - halo:y1 + halo, :],
                           pdq[y0 - halo:y1 + halo], thresh[y0 - halo:y1 + halo], sat_dq[y0 - halo:y1 + halo],
                           1, 4)[0]
    np.testing.assert_array_equal(part[..., halo:-halo, :], whole[..., y0:y1, :])


@pytest.mark.crosscheck
@pytest.mark.parametrize("nframes", [None, 4])
def test_crosscheck_stcal(nframes):
    stcal_sat = pytest.importorskip("stcal.saturation.saturation")
    rng = np.random.default_rng(7)
    data, gdq, pdq, thresh, sat_dq = _random_case(rng, ngroups=5)
    bias = rng.normal(1000, 30, size=thresh.shape).astype(np.float32)
    zeroframe = (data[:, 0] * 0.5).astype(np.float32)
    pattern = None if nframes is None else [[f + 1 + g * nframes for f in range(nframes)] for g in range(5)]
    want_gdq, want_pdq, want_zf = stcal_sat.flag_saturated_pixels(
        data.copy(), gdq.copy(), pdq.copy(), thresh.copy(), sat_dq.copy(), ATOD_LIMIT, dqflags.PIXEL,
        n_pix_grow_sat=1, zframe=zeroframe.copy(), read_pattern=pattern, bias=bias)
    got = flag_saturation(data, gdq, pdq, thresh, sat_dq, 1, nframes, bias, zeroframe)
    np.testing.assert_array_equal(got[0], want_gdq)
    np.testing.assert_array_equal(got[1], want_pdq)
    np.testing.assert_array_equal(got[2], want_zf)
