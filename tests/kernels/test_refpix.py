"""Tests for jwstlazy.kernels.refpix (near-IR), refpix_miri, sigma_clip and orientation."""

import warnings

import numpy as np
import pytest
from scipy import stats

from jwstlazy.datamodels.dqflags import DO_NOT_USE, REFERENCE_PIXEL
from jwstlazy.kernels import orientation
from jwstlazy.kernels.refpix import (
    embed_in_full_frame,
    full_frame_offsets,
    single_output_offsets,
    split_reference_strips,
    subtract_offsets,
)
from jwstlazy.kernels.refpix_miri import miri_reference_offsets, subtract_miri_offsets
from jwstlazy.kernels.sigma_clip import clipped_mean

N = 2048


def reference_clipped_mean(values, sigma=3.0):
    if values.size == 0:
        return None
    if np.std(values, dtype=np.float64) == 0:
        return values.mean(dtype=np.float64)
    return stats.sigmaclip(values.astype(np.float64), sigma, sigma)[0].mean()


def reference_nir_full_frame(group, dq, odd_even=True, use_side=True, length=11, gain=1.0):
    """Literal per-group NIR correction in detector orientation (float64 throughout)."""
    g = group.astype(np.float64).copy()
    good = (dq & DO_NOT_USE) == 0
    for a in range(4):
        cols = slice(512 * a, 512 * a + 512)
        parities = [slice(512 * a, 512 * a + 512, 2), slice(512 * a + 1, 512 * a + 512, 2)] if odd_even else [cols]
        signals = []
        for pc in parities:
            vals = [reference_clipped_mean(g[rows, pc][good[rows, pc]]) for rows in (slice(0, 4), slice(N - 4, N))]
            vals = [v for v in vals if v is not None]
            signals.append(np.mean(vals) if vals else None)
        if all(s is not None for s in signals):
            for pc, s in zip(parities, signals):
                g[:, pc] -= s
    if use_side:
        half = length // 2
        pad_g = np.pad(g, ((half, half), (0, 0)), mode="reflect")
        pad_ok = np.pad(good, ((half, half), (0, 0)), mode="reflect")
        meds = []
        for cols in (slice(0, 4), slice(N - 4, N)):
            masked = np.where(pad_ok[:, cols], pad_g[:, cols].astype(np.float32), np.nan)
            windows = np.lib.stride_tricks.sliding_window_view(masked, (length, 4)).reshape(N, -1)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                meds.append(np.nanmedian(windows, axis=1).astype(np.float64))
        side = np.nan_to_num(np.nanmean(np.stack(meds), axis=0), nan=0.0)
        g -= gain * side[:, None]
    return g


def _nir_frame(rng, ngroups=1):
    data = rng.normal(1000, 5, (1, ngroups, N, N)).astype(np.float32)
    data += rng.normal(0, 20, (1, ngroups, N, 1)).astype(np.float32)  # row (1/f-like) pattern
    data[..., 1::2] += 7  # even/odd column offset
    for a in range(4):
        data[..., 512 * a:512 * a + 512] += 30 * a
    dq = np.zeros((N, N), np.uint32)
    dq[:4, :] |= REFERENCE_PIXEL
    dq[-4:, :] |= REFERENCE_PIXEL
    dq[:, :4] |= REFERENCE_PIXEL
    dq[:, -4:] |= REFERENCE_PIXEL
    dq[1, 100:140] |= DO_NOT_USE
    dq[600:620, 2] |= DO_NOT_USE
    data[0, 0, 2, 700] = 1e5  # outlier that must be clipped
    return data, dq


def _correct_detector(data, dq, **kw):
    b, t, l, r = split_reference_strips(data)
    bq, tq, lq, rq = split_reference_strips(dq)
    cols, rows = full_frame_offsets(b, t, l, r, bq, tq, lq, rq, **kw)
    return subtract_offsets(data, cols, rows, columns_along_x=True), cols, rows


def test_clipped_mean_matches_scipy():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(10, 1, 500), [100, -80, 40]])
    assert clipped_mean(values, 3.0, 3.0) == pytest.approx(reference_clipped_mean(values), rel=1e-12)
    assert np.isnan(clipped_mean(np.zeros(0), 3.0, 3.0))
    assert clipped_mean(np.full(5, 2.5), 3.0, 3.0) == 2.5


@pytest.mark.parametrize("fast,slow", [(-1, 2), (1, -2), (2, 1), (-2, -1), (2, -1)])
def test_orientation_roundtrip_and_vectors(fast, slow):
    a = np.arange(4 * 6).reshape(4, 6) if orientation.is_transposed(fast) is False else np.arange(5 * 5).reshape(5, 5)
    det = orientation.dms_to_detector(a, fast, slow)
    np.testing.assert_array_equal(orientation.detector_to_dms(det, fast, slow), a)
    col_vec = np.arange(det.shape[1]) * 10
    row_vec = np.arange(det.shape[0]) * 1000
    dms_of_det = orientation.detector_to_dms(col_vec[None, :] + row_vec[:, None], fast, slow)
    cvec = orientation.detector_column_vector_to_dms(col_vec, fast, slow)
    rvec = orientation.detector_row_vector_to_dms(row_vec, fast, slow)
    if orientation.is_transposed(fast):
        np.testing.assert_array_equal(dms_of_det, cvec[:, None] + rvec[None, :])
    else:
        np.testing.assert_array_equal(dms_of_det, cvec[None, :] + rvec[:, None])


@pytest.mark.parametrize("odd_even,use_side", [(True, True), (False, False)])
def test_nir_full_frame_matches_reference(odd_even, use_side):
    data, dq = _nir_frame(np.random.default_rng(1))
    got, _, _ = _correct_detector(data, dq, odd_even_columns=odd_even, use_side_ref_pixels=use_side)
    want = reference_nir_full_frame(data[0, 0], dq, odd_even, use_side)
    np.testing.assert_allclose(got[0, 0], want, atol=2e-3)


def test_nir_hand_computed_constant_offsets():
    data = np.zeros((1, 1, N, N), np.float32)
    data[..., 0::2] = 5.0
    data[..., 1::2] = 8.0
    data[..., 512:1024] += 100
    got, cols, rows = _correct_detector(data, np.zeros((N, N), np.uint32))
    assert cols[0, 0, 0] == 5 and cols[0, 0, 1] == 8 and cols[0, 0, 512] == 105
    assert not rows.any()
    assert not got.any()


def test_single_output_subarray():
    data = np.zeros((1, 2, 8, 10), np.float32)
    data[..., 0::2] = 3
    data[..., 1::2] = 4
    dq = np.zeros((8, 10), np.uint32)
    dq[:4] = REFERENCE_PIXEL
    dq[0, 0] |= DO_NOT_USE
    data[0, 0, 0, 0] = 1e6  # DO_NOT_USE: ignored
    cols = single_output_offsets(data, dq, column_origin=1)  # column 0 is an odd full-frame column
    np.testing.assert_array_equal(cols[0, 1, :2], [3, 4])
    out = subtract_offsets(data, cols, None, columns_along_x=True)
    assert not out[0, 1].any()
    assert not single_output_offsets(data, np.zeros((8, 10), np.uint32), 0).any()  # no reference pixels


def test_embed_in_full_frame():
    data = np.ones((1, 1, 3, 4), np.float32)
    full, dq = embed_in_full_frame(data, np.zeros((3, 4), np.uint32), xstart=2, ystart=5, full_shape=(10, 12))
    assert full.shape == (1, 1, 10, 12) and full[0, 0, 4:7, 1:5].all() and full.sum() == 12
    assert dq[0, 0] == DO_NOT_USE | REFERENCE_PIXEL and dq[5, 2] == 0


def reference_miri(data, dq, odd_even=True):
    out = data.astype(np.float32).copy()
    nints, ngroups = data.shape[:2]
    for i in range(nints):
        first = data[i, 0]
        for g in range(1, ngroups):
            rel = data[i, g] - first
            for amp in range(4):
                for p in range(2) if odd_even else [None]:
                    rows = slice(p, None, 2) if odd_even else slice(None)
                    vals = [reference_clipped_mean(rel[rows, c][(dq[rows, c] & DO_NOT_USE) == 0])
                            for c in (amp, 1028 + amp)]
                    out[i, g, rows, amp::4] = (rel[rows, amp::4] - np.float32(0.5 * (vals[0] + vals[1]))) + first[rows, amp::4]
    return out


def test_miri_matches_reference_and_chunking():
    rng = np.random.default_rng(2)
    data = rng.normal(10000, 10, (2, 3, 64, 1032)).astype(np.float32)
    data += np.arange(3, dtype=np.float32)[None, :, None, None] * 50
    data[:, :, 1::2, 1::4] += 9
    dq = np.zeros((64, 1032), np.uint32)
    dq[10:20, 1] = DO_NOT_USE
    offsets = miri_reference_offsets(data[..., :4], data[..., 1028:], dq[:, :4], dq[:, 1028:])
    whole = subtract_miri_offsets(data, offsets)
    np.testing.assert_allclose(whole, reference_miri(data, dq), atol=2e-3)
    np.testing.assert_array_equal(whole[:, 0], data[:, 0])
    part = subtract_miri_offsets(data[..., 11:30, 7:50], offsets, row_origin=11, column_origin=7)
    np.testing.assert_array_equal(part, whole[..., 11:30, 7:50])


def test_miri_stops_at_first_group_without_reference_pixels():
    data = np.ones((2, 3, 8, 1032), np.float32)
    dq = np.zeros((8, 1032), np.uint32)
    dq[0::2, 2] = DO_NOT_USE  # amplifier C, even rows: nothing left
    data[:, :, :, 0] += 5
    offsets = miri_reference_offsets(data[..., :4], data[..., 1028:], dq[:, :4], dq[:, 1028:])
    assert not offsets.any()


def _ramp_model(data, dq, detector, fast, slow, instrument):
    datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")
    model = datamodels.RampModel(data=data.copy(), pixeldq=dq.copy(), groupdq=np.zeros(data.shape, np.uint8))
    model.meta.instrument.name = instrument
    model.meta.instrument.detector = detector
    model.meta.exposure.noutputs = 4
    model.meta.exposure.zero_frame = False
    model.meta.subarray.name = "FULL"
    model.meta.subarray.xstart = 1
    model.meta.subarray.ystart = 1
    model.meta.subarray.xsize = data.shape[-1]
    model.meta.subarray.ysize = data.shape[-2]
    model.meta.subarray.fastaxis = fast
    model.meta.subarray.slowaxis = slow
    return model


@pytest.mark.crosscheck
@pytest.mark.parametrize("detector,fast,slow", [("NRCA1", -1, 2), ("NIS", -2, -1)])
def test_crosscheck_jwst_nir(detector, fast, slow):
    rp = pytest.importorskip("jwst.refpix.reference_pixels")
    det_data, det_dq = _nir_frame(np.random.default_rng(3))
    data = np.ascontiguousarray(orientation.detector_to_dms(det_data, fast, slow))
    dq = np.ascontiguousarray(orientation.detector_to_dms(det_dq, fast, slow))
    model = _ramp_model(data, dq, detector, fast, slow, "NIRCAM")
    params = {"refpix_algorithm": "median", "sirs_kernel_model": None, "sigreject": 4.0, "gaussmooth": 1.0,
              "halfwidth": 30}
    rp.correct_model(model, True, True, 11, 1.0, True, params, 3.0)
    d = orientation.dms_to_detector(data, fast, slow)
    q = orientation.dms_to_detector(dq, fast, slow)
    b, t, l, r = split_reference_strips(d)
    bq, tq, lq, rq = split_reference_strips(q)
    cols, rows = full_frame_offsets(b, t, l, r, bq, tq, lq, rq)
    got = subtract_offsets(data, orientation.detector_column_vector_to_dms(cols, fast, slow),
                           orientation.detector_row_vector_to_dms(rows, fast, slow),
                           columns_along_x=not orientation.is_transposed(fast))
    np.testing.assert_allclose(got, model.data, atol=2e-3)


@pytest.mark.crosscheck
def test_crosscheck_jwst_miri():
    rp = pytest.importorskip("jwst.refpix.reference_pixels")
    rng = np.random.default_rng(4)
    data = rng.normal(10000, 10, (1, 3, 1024, 1032)).astype(np.float32)
    data[:, :, 1::2, 1::4] += 9
    dq = np.zeros((1024, 1032), np.uint32)
    model = _ramp_model(data, dq, "MIRIMAGE", 1, 2, "MIRI")
    params = {"refpix_algorithm": "median", "sirs_kernel_model": None, "sigreject": 4.0, "gaussmooth": 1.0,
              "halfwidth": 30}
    rp.correct_model(model, True, True, 11, 1.0, True, params, 3.0)
    offsets = miri_reference_offsets(data[..., :4], data[..., 1028:], dq[:, :4], dq[:, 1028:])
    np.testing.assert_allclose(subtract_miri_offsets(data, offsets), model.data, atol=2e-3)


@pytest.mark.parametrize("length", [1, 3, 11])
def test_running_median_kept_sorted_equals_sorting_each_window(length):
    from jwstlazy.kernels.refpix import _running_median, _running_median_by_sorting

    rng = np.random.default_rng(length)
    strip = rng.normal(100, 5, (300, 4)).astype(np.float32)
    strip[50:60] = np.round(strip[50:60])  # ties
    dq = np.where(rng.random((300, 4)) < 0.1, DO_NOT_USE, 0).astype(np.uint32)
    dq[100:120] = DO_NOT_USE  # rows with no good pixel
    offsets = rng.normal(0, 1, 20).astype(np.float32)
    for first_col in (0, 16):
        got = _running_median(strip, dq, offsets, first_col, length)
        want = _running_median_by_sorting(strip, dq, offsets, first_col, length)
        np.testing.assert_array_equal(got, want)
    nan_strip = strip.copy()
    nan_strip[7, 2] = np.nan  # falls back to sorting
    np.testing.assert_array_equal(_running_median(nan_strip, dq * 0, offsets, 0, length),
                                  _running_median_by_sorting(nan_strip, dq * 0, offsets, 0, length))


def _sirs_coefficients(rng, nfreq=1025):
    """Smooth (4, nfreq) gamma and zeta: low-pass transfer functions, different per channel."""
    f = np.arange(nfreq)
    gamma = np.stack([(0.6 + 0.1 * c) * np.exp(-f / (80 + 20 * c)) for c in range(4)]) + rng.normal(0, 1e-3, (4, nfreq))
    zeta = np.stack([(0.4 - 0.05 * c) * np.exp(-f / (120 - 10 * c)) for c in range(4)]) + rng.normal(0, 1e-3, (4, nfreq))
    return gamma, zeta


def _sirs_correct(data_dms, dq_dms, fast, slow, kernels):
    """Our SIRS path on a DMS frame: strips -> column offsets + per-channel row offsets -> fused apply."""
    from jwstlazy.kernels.corrections import Corrections, apply_corrections
    from jwstlazy.kernels.refpix import sirs_row_offsets

    d = orientation.dms_to_detector(data_dms, fast, slow)
    q = orientation.dms_to_detector(dq_dms, fast, slow)
    b, t, l, r = split_reference_strips(d)
    bq, tq, lq, rq = split_reference_strips(q)
    cols, _ = full_frame_offsets(b, t, l, r, bq, tq, lq, rq, use_side_ref_pixels=False)
    rows = sirs_row_offsets(l, r, cols, *kernels)  # (nints, ngroups, nchan, rows)
    rows = orientation.detector_row_vector_to_dms(rows, fast, slow)
    amplifiers = orientation.detector_column_vector_to_dms(np.arange(N) // 512, fast, slow)
    corrections = Corrections(column_offsets=orientation.detector_column_vector_to_dms(cols, fast, slow),
                              row_offsets=np.moveaxis(rows, 2, -1), amplifiers=amplifiers,
                              columns_along_x=not orientation.is_transposed(fast))
    return apply_corrections(data_dms, None, corrections)


def test_sirs_kernels_are_normalised_low_pass_filters():
    from jwstlazy.kernels.refpix import sirs_kernels

    gamma, zeta = _sirs_coefficients(np.random.default_rng(1))
    left, right = sirs_kernels(gamma, zeta, gaussmooth=1.0, halfwidth=30)
    assert left.shape == right.shape == (4, 61)
    # a kernel is the inverse FFT of its coefficients, cut around the centre: its sum is close to the
    # zero-frequency gain (less what the cut and the smoothing's edges lose)
    assert np.allclose(left.sum(axis=1), gamma[:, 0], rtol=0.15) and np.allclose(right.sum(axis=1), zeta[:, 0], rtol=0.15)
    assert np.argmax(np.abs(left[0])) == 30  # centred


def test_sirs_subtracts_the_convolved_side_signal_per_channel():
    from jwstlazy.kernels.refpix import sirs_kernels

    rng = np.random.default_rng(2)
    data, dq = _nir_frame(rng)
    kernels = sirs_kernels(*_sirs_coefficients(rng))
    got = _sirs_correct(data, dq, 1, 2, kernels)
    plain, cols, _ = _correct_detector(data, dq, use_side_ref_pixels=False)
    removed = plain.astype(np.float64) - got  # the SIRS template, one value per row and channel
    for c in range(4):
        block = removed[0, 0, :, 512 * c + 10: 512 * c + 500]
        assert np.allclose(block, block[:, :1], atol=0.02)  # constant along each row within a channel (float32)
    assert not np.allclose(removed[0, 0, :, 100], removed[0, 0, :, 1600], atol=1e-3)  # channels differ


@pytest.mark.crosscheck
@pytest.mark.parametrize("detector,fast,slow", [("NRCA1", -1, 2), ("NIS", -2, -1)])
def test_sirs_crosscheck_jwst(tmp_path, detector, fast, slow):
    rp = pytest.importorskip("jwst.refpix.reference_pixels")
    from stdatamodels.jwst import datamodels

    from jwstlazy.kernels.refpix import sirs_kernels
    from jwstlazy.references.sirs_kernel import read_sirs_kernel, write_sirs_kernel_reference

    rng = np.random.default_rng(4)
    coefficients = _sirs_coefficients(rng)
    path = write_sirs_kernel_reference(tmp_path / "sirs.asdf", {detector: coefficients}, "NIRCAM")
    det_data, det_dq = _nir_frame(rng, ngroups=2)
    data = np.ascontiguousarray(orientation.detector_to_dms(det_data, fast, slow))
    dq = np.ascontiguousarray(orientation.detector_to_dms(det_dq, fast, slow))
    model = _ramp_model(data, dq, detector, fast, slow, "NIRCAM")
    params = {"refpix_algorithm": "sirs", "sirs_kernel_model": datamodels.SIRSKernelModel(str(path)),
              "sigreject": 4.0, "gaussmooth": 1.0, "halfwidth": 30}
    rp.correct_model(model, True, True, 11, 1.0, True, params, 3.0)
    got = _sirs_correct(data, dq, fast, slow, sirs_kernels(*read_sirs_kernel(path, detector)))
    np.testing.assert_allclose(got, model.data, atol=2e-3)
