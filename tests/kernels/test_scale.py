"""Tests for jwstlazy.kernels.group_scale and gain_scale."""

import numpy as np

from jwstlazy.kernels.gain_scale import scale_by_gain_factor
from jwstlazy.kernels.group_scale import group_scale_factor, group_scale_needed, scale_groups


def test_group_scale_decision_and_values():
    assert not group_scale_needed(None, 4)
    assert not group_scale_needed(4, None)
    assert not group_scale_needed(5, None)  # upstream: no divisor -> skipped
    assert not group_scale_needed(4, 4)
    assert group_scale_needed(5, 4)
    assert group_scale_factor(5, 4) == 0.8
    data = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    np.testing.assert_array_equal(scale_groups(data, 5, 4), data * np.float32(0.8))


def test_gain_scale():
    sci = np.full((2, 2), 3.0, np.float32)
    err = np.full((2, 2), 1.0, np.float32)
    var = np.full((2, 2), 4.0, np.float32)
    s, e, vp, vr = scale_by_gain_factor(sci, err, var, None, 2.0)
    assert s[0, 0] == 6 and e[0, 0] == 2 and vp[0, 0] == 16 and vr is None
    assert s.dtype == np.float32 and vp.dtype == np.float32
