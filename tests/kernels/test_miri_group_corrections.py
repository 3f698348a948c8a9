"""Tests for jwstlazy.kernels.miri_group_flags (firstframe, lastframe) and reset."""

import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, FLUX_ESTIMATED, SATURATED
from jwstlazy.kernels.miri_group_flags import flag_first_group, flag_last_group
from jwstlazy.kernels.reset import subtract_reset


def test_lastframe():
    gdq = np.zeros((2, 3, 2, 2), np.uint8)
    out = flag_last_group(gdq)
    assert (out[:, -1] == DO_NOT_USE).all() and not out[:, :-1].any()
    assert not flag_last_group(np.zeros((1, 2, 2, 2), np.uint8)).any()


def test_firstframe_bright_pixels_keep_group1():
    gdq = np.zeros((2, 4, 1, 2), np.uint8)
    gdq[1, 2:, 0, 1] = SATURATED
    out, pdq = flag_first_group(gdq, np.zeros((1, 2), np.uint32))
    assert out[0, 0, 0, 1] == DO_NOT_USE and out[1, 0, 0, 1] == 0 and out[1, 0, 0, 0] == DO_NOT_USE
    assert pdq[0, 1] == FLUX_ESTIMATED and pdq[0, 0] == 0
    out2, _ = flag_first_group(gdq, np.zeros((1, 2), np.uint32), bright_use_group1=False)
    assert (out2[:, 0] & DO_NOT_USE).all()
    assert not flag_first_group(np.zeros((1, 3, 1, 1), np.uint8), np.zeros((1, 1), np.uint32))[0].any()


def reference_reset(data, reset, first):
    out = data.copy()
    reset = np.nan_to_num(reset, nan=0.0)
    for i in range(data.shape[0]):
        r = min(first + i, reset.shape[0] - 1)
        n = min(data.shape[1], reset.shape[1])
        out[i, :n] -= reset[r, :n]
    return out


def test_reset_matches_reference():
    rng = np.random.default_rng(0)
    data = rng.normal(100, 5, (3, 5, 4, 4)).astype(np.float32)
    reset = rng.normal(3, 1, (2, 3, 4, 4)).astype(np.float32)
    reset[1, 0, 0, 0] = np.nan
    rdq = np.zeros((4, 4), np.uint32)
    rdq[1, 1] = 4
    for first in (0, 1, 4):
        out, pdq = subtract_reset(data, np.zeros((4, 4), np.uint32), reset, rdq, first)
        np.testing.assert_array_equal(out, reference_reset(data, reset, first))
    assert pdq[1, 1] == 4
