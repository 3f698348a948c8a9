"""Tests for jwstlazy.kernels.ipc."""

import numpy as np
import pytest
from scipy import ndimage

from jwstlazy.kernels.ipc import convolve_ipc, ipc_halo


def _kernel():
    k = np.full((3, 3), -0.002, np.float32)
    k[1, 1] = 1.016
    k[0, 1] = -0.004
    return k


def test_matches_scipy_convolution_inside_science_region():
    rng = np.random.default_rng(0)
    data = rng.normal(1000, 50, (2, 3, 12, 10)).astype(np.float32)
    out = convolve_ipc(data, _kernel(), (4, 12), (4, 8))
    for i in range(2):
        for g in range(3):
            region = data[i, g, 4:12, 4:8].astype(np.float64)
            want = ndimage.convolve(region, _kernel().astype(np.float64), mode="constant", cval=0.0)
            np.testing.assert_allclose(out[i, g, 4:12, 4:8], want, rtol=1e-5)
    np.testing.assert_array_equal(out[..., :4, :], data[..., :4, :])
    np.testing.assert_array_equal(out[..., 8:], data[..., 8:])


def test_per_pixel_kernel_and_halo():
    rng = np.random.default_rng(1)
    data = rng.normal(1000, 50, (1, 2, 9, 9)).astype(np.float32)
    k4 = np.repeat(np.repeat(_kernel()[:, :, None, None], 9, 2), 9, 3)
    np.testing.assert_allclose(convolve_ipc(data, k4), convolve_ipc(data, _kernel()), rtol=1e-6)
    assert ipc_halo((3, 3)) == (1, 1)
    whole = convolve_ipc(data, _kernel())
    part = convolve_ipc(data[..., 2:8, :], _kernel(), (0, 6), (0, 9))
    np.testing.assert_array_equal(part[..., 1:-1, :], whole[..., 3:7, :])


def test_hand_computed_delta():
    data = np.zeros((1, 1, 3, 3), np.float32)
    data[0, 0, 1, 1] = 100
    k = np.arange(9, dtype=np.float32).reshape(3, 3)
    out = convolve_ipc(data, k)
    np.testing.assert_array_equal(out[0, 0], 100 * k)  # a delta convolved with k is k


@pytest.mark.crosscheck
def test_crosscheck_jwst():
    ipc_corr = pytest.importorskip("jwst.ipc.ipc_corr")
    rng = np.random.default_rng(2)
    plane = rng.normal(1000, 50, (16, 14)).astype(np.float32)
    nref = ipc_corr.NumRefPixels(bottom_rows=4, top_rows=0, left_columns=4, right_columns=2)
    want = plane.copy()
    ipc_corr.ipc_convolve(want, _kernel(), nref)
    got = convolve_ipc(plane[None, None], _kernel(), (4, 16), (4, 12))[0, 0]
    np.testing.assert_array_equal(got, want)
