"""Tests for jwstlazy.kernels.superbias."""

import numpy as np
import pytest

from jwstlazy.kernels.superbias import subtract_superbias, subtract_superbias_zeroframe


def test_matches_reference_with_nan_bias_and_dq():
    rng = np.random.default_rng(0)
    data = rng.normal(10000, 100, (2, 3, 5, 6)).astype(np.float32)
    bias = rng.normal(9000, 50, (5, 6)).astype(np.float32)
    bias[1, 2] = np.nan
    bias_dq = np.zeros((5, 6), np.uint32)
    bias_dq[0, 0] = 1 << 22
    out, pdq = subtract_superbias(data, np.ones((5, 6), np.uint32), bias, bias_dq)
    np.testing.assert_array_equal(out, data - np.nan_to_num(bias, nan=0.0))
    assert pdq[0, 0] == 1 | (1 << 22) and pdq[1, 1] == 1
    np.testing.assert_array_equal(out[:, :, 1, 2], data[:, :, 1, 2])


def test_zeroframe_keeps_zeros():
    zf = np.array([[[0.0, 5.0]]], np.float32)
    out = subtract_superbias_zeroframe(zf, np.array([[2.0, 2.0]], np.float32))
    assert out.tolist() == [[[0.0, 3.0]]]


@pytest.mark.crosscheck
def test_crosscheck_jwst():
    bias_sub = pytest.importorskip("jwst.superbias.bias_sub")
    datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")
    rng = np.random.default_rng(1)
    data = rng.normal(10000, 100, (1, 2, 4, 4)).astype(np.float32)
    bias = rng.normal(9000, 50, (4, 4)).astype(np.float32)
    bias[0, 1] = np.nan
    bias_dq = np.arange(16, dtype=np.uint32).reshape(4, 4)
    model = datamodels.RampModel(data=data.copy(), pixeldq=np.zeros((4, 4), np.uint32))
    model.meta.exposure.zero_frame = False
    bias_model = datamodels.SuperBiasModel(data=bias.copy(), dq=bias_dq)
    bias_model.data[np.isnan(bias_model.data)] = 0
    want = bias_sub.subtract_bias(model, bias_model)
    got, pdq = subtract_superbias(data, np.zeros((4, 4), np.uint32), bias, bias_dq)
    np.testing.assert_array_equal(got, want.data)
    np.testing.assert_array_equal(pdq, want.pixeldq)
