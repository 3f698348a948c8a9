"""Tests for jwstlazy.kernels.linearity."""

import numpy as np
import pytest

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels.dqflags import NO_LIN_CORR, SATURATED
from jwstlazy.kernels.linearity import correct_linearity, correct_linearity_zeroframe, prepare_coefficients


def reference_prepare(coeffs, lin_dq, pdq):
    coeffs = coeffs.copy()
    identity = np.zeros(coeffs.shape[0], np.float32)
    identity[1] = 1
    flagged = (lin_dq & NO_LIN_CORR) != 0
    bad = np.isnan(coeffs).any(axis=0) | (coeffs[1] == 0)
    coeffs[:, flagged | bad] = identity[:, None]
    return coeffs, pdq | lin_dq | np.where(bad & ~flagged, NO_LIN_CORR, 0).astype(np.uint32)


def reference_polynomial(coeffs, values):
    """Plain power sum (not Horner) in float64."""
    return sum(coeffs[k].astype(np.float64) * values.astype(np.float64) ** k for k in range(coeffs.shape[0]))


def reference_read_level(data, gdq, coeffs, inv, nframes):
    out = data.copy()
    nints, ngroups, ny, nx = data.shape
    first_mean = (nframes + 1) / 2
    for i in range(nints):
        for y in range(ny):
            for x in range(nx):
                c, ic = coeffs[:, y, x], inv[:, y, x]
                sat = (gdq[i, :, y, x] & SATURATED) != 0
                last = max(int((~sat).sum()) - 1, 2) - 1
                lin = [data[i, g, y, x] if sat[g] else reference_polynomial(c[:, None, None], data[i, g, y, x])
                       for g in (0, last)]
                rate = (lin[1] - lin[0]) / (last * nframes)
                for g in range(ngroups):
                    if sat[g]:
                        continue
                    frames = np.arange(g * nframes + 1, (g + 1) * nframes + 1) - first_mean
                    raw = reference_polynomial(ic[:, None, None], lin[0] + rate * frames)
                    raw = raw + data[i, g, y, x] - raw.mean()
                    out[i, g, y, x] = reference_polynomial(c[:, None, None], raw).mean()
    return out


def _case(rng, nints=2, ngroups=5, ny=6, nx=7):
    data = rng.uniform(0, 30000, (nints, ngroups, ny, nx)).astype(np.float32)
    data.sort(axis=1)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[:, -2:, 0, :3] = SATURATED
    coeffs = np.zeros((4, ny, nx), np.float32)
    coeffs[0] = rng.normal(0, 5, (ny, nx))
    coeffs[1] = rng.normal(1, 0.01, (ny, nx))
    coeffs[2] = rng.normal(2e-6, 1e-7, (ny, nx))
    coeffs[3] = rng.normal(1e-11, 1e-12, (ny, nx))
    coeffs[2, 1, 1] = np.nan
    coeffs[1, 2, 2] = 0
    lin_dq = np.zeros((ny, nx), np.uint32)
    lin_dq[3, 3] = NO_LIN_CORR
    lin_dq[4, 4] = dqflags.PIXEL["NONLINEAR"]
    pdq = np.zeros((ny, nx), np.uint32)
    return data, gdq, pdq, coeffs, lin_dq


def test_prepare_coefficients():
    data, gdq, pdq, coeffs, lin_dq = _case(np.random.default_rng(0))
    got = prepare_coefficients(coeffs, lin_dq, pdq)
    want = reference_prepare(coeffs, lin_dq, pdq)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[1][1, 1] == NO_LIN_CORR and got[1][2, 2] == NO_LIN_CORR and got[1][3, 3] == NO_LIN_CORR


def test_classic_matches_reference_and_keeps_saturated():
    data, gdq, pdq, coeffs, lin_dq = _case(np.random.default_rng(1))
    out, out_pdq = correct_linearity(data, gdq, pdq, coeffs, lin_dq)
    prepared, _ = reference_prepare(coeffs, lin_dq, pdq)
    want = np.where(gdq & SATURATED, data, reference_polynomial(prepared[:, None, None], data))
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=1e-3)
    np.testing.assert_array_equal(out[:, :, 3, 3], data[:, :, 3, 3])  # identity for flagged pixel
    np.testing.assert_array_equal(out[gdq != 0], data[gdq != 0])


def test_hand_computed_value():
    coeffs = np.array([1.0, 2.0, 0.5], np.float32).reshape(3, 1, 1)
    data = np.array([3.0], np.float32).reshape(1, 1, 1, 1)
    out, _ = correct_linearity(data, np.zeros(data.shape, np.uint8), np.zeros((1, 1), np.uint32), coeffs,
                               np.zeros((1, 1), np.uint32))
    assert out[0, 0, 0, 0] == pytest.approx(1 + 2 * 3 + 0.5 * 9)


def test_zeroframe_keeps_zeros():
    data, gdq, pdq, coeffs, lin_dq = _case(np.random.default_rng(2))
    zf = data[:, 0].copy()
    zf[0, 1, 2] = 0
    out = correct_linearity_zeroframe(zf, coeffs, lin_dq)
    prepared, _ = reference_prepare(coeffs, lin_dq, pdq)
    want = np.where(zf == 0, 0, reference_polynomial(prepared[:, None], zf))
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=1e-3)


def test_read_level_matches_reference():
    rng = np.random.default_rng(3)
    data, gdq, pdq, coeffs, lin_dq = _case(rng)
    inv = coeffs.copy()
    inv[2] *= -1
    out, _ = correct_linearity(data, gdq, pdq, coeffs, lin_dq, inverse_coeffs=inv, nframes=4)
    prepared, _ = reference_prepare(coeffs, lin_dq, pdq)
    prepared_inv, _ = reference_prepare(inv, lin_dq, pdq)
    want = reference_read_level(data, gdq, prepared, prepared_inv, 4)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-2)


@pytest.mark.crosscheck
@pytest.mark.parametrize("read_level", [False, True])
def test_crosscheck_stcal(read_level):
    stcal_lin = pytest.importorskip("stcal.linearity.linearity")
    data, gdq, pdq, coeffs, lin_dq = _case(np.random.default_rng(4))
    zf = data[:, 0].copy()
    zf[0, 1, 2] = 0
    inv = None
    pattern = None
    if read_level:
        inv = coeffs.copy()
        inv[2] *= -1
        pattern = [[f + 1 + g * 4 for f in range(4)] for g in range(data.shape[1])]
    want_data, want_pdq, want_zf = stcal_lin.linearity_correction(
        data.copy(), gdq.copy(), pdq.copy(), coeffs.copy(), lin_dq.copy(), dqflags.PIXEL, zframe=zf.copy(),
        ilin_coeffs=None if inv is None else inv.copy(), read_pattern=pattern)
    got, got_pdq = correct_linearity(data, gdq, pdq, coeffs, lin_dq, inverse_coeffs=inv, nframes=4)
    if read_level:
        np.testing.assert_allclose(got, want_data, rtol=1e-6, atol=1e-3)
    else:
        np.testing.assert_array_equal(got, want_data)
        np.testing.assert_array_equal(correct_linearity_zeroframe(zf, coeffs, lin_dq), want_zf)
    np.testing.assert_array_equal(got_pdq, want_pdq)
