"""Tests for jwstlazy.kernels.dark."""

import numpy as np
import pytest

from jwstlazy.kernels.dark import collapse_dark_dq, dark_matches_readout, resample_dark, subtract_dark


def reference_resample(dark, ngroups, nframes, groupgap):
    """Literal frame bookkeeping for an NFRAMES=1 GROUPGAP=0 dark (3-D or 4-D)."""
    planes = dark if dark.ndim == 4 else dark[None]
    planes = planes.astype(np.float64)
    need = ngroups * nframes + (ngroups - 1) * groupgap
    while planes.shape[1] < need:
        nxt = 2 * planes[:, -1] - planes[:, -2]
        planes = np.concatenate([planes, nxt[:, None]], axis=1)
    planes = np.nan_to_num(planes, nan=0.0)
    groups = []
    for g in range(ngroups):
        first = g * (nframes + groupgap)
        groups.append(planes[:, first:first + nframes].mean(axis=1))
    return np.stack(groups, axis=1)


@pytest.mark.parametrize("nframes,groupgap", [(1, 0), (4, 1), (2, 0), (5, 3)])
@pytest.mark.parametrize("ndim", [3, 4])
def test_resample_matches_reference(nframes, groupgap, ndim):
    rng = np.random.default_rng(nframes * 10 + groupgap)
    shape = (12, 4, 5) if ndim == 3 else (2, 12, 4, 5)
    dark = rng.normal(10, 3, shape).astype(np.float32)
    dark[..., 2, 1, 1] = np.nan
    got = resample_dark(dark, 3, 4, nframes, groupgap)
    want = reference_resample(dark, 4, nframes, groupgap)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert got.dtype == np.float32 and not np.isnan(got).any()


def test_hand_computed_average():
    dark = np.arange(6, dtype=np.float32).reshape(6, 1, 1)  # frames 0..5
    got = resample_dark(dark, 1, 2, sci_nframes=2, sci_groupgap=1)  # groups: mean(0,1), mean(3,4)
    np.testing.assert_array_equal(got[0, :, 0, 0], [0.5, 3.5])
    extrapolated = resample_dark(dark, 1, 4, sci_nframes=2, sci_groupgap=0)  # needs frames 0..7: 6, 7 extrapolated
    np.testing.assert_array_equal(extrapolated[0, :, 0, 0], [0.5, 2.5, 4.5, 6.5])


def test_skip_when_dark_readout_is_coarser():
    assert not dark_matches_readout(1, 0, 2, 0)
    with pytest.raises(ValueError):
        resample_dark(np.zeros((5, 1, 1), np.float32), 1, 2, 1, 0, dark_nframes=2)


def test_subtract_uses_integration_dependent_dark():
    data = np.full((4, 2, 2, 2), 100, np.float32)
    dark = np.stack([np.full((2, 2, 2), v, np.float32) for v in (1, 2)])
    pdq = np.zeros((2, 2), np.uint32)
    ddq = np.array([[0, 4], [0, 0]], np.uint32)
    out, out_pdq = subtract_dark(data[1:], pdq, dark, ddq, integration_offset=1)
    assert list(out[:, 0, 0, 0]) == [98, 98, 98]
    out0, _ = subtract_dark(data, pdq, dark, ddq)
    assert list(out0[:, 0, 0, 0]) == [99, 98, 98, 98]
    segmented, _ = subtract_dark(data, pdq, dark, ddq, integration_start=5)
    assert list(segmented[:, 0, 0, 0]) == [98, 98, 98, 98]
    assert out_pdq[0, 1] == 4


def test_collapse_dark_dq():
    dq = np.zeros((3, 5, 2, 2), np.uint32)
    dq[1, 0, 0, 0] = 1
    dq[2, 1, 1, 1] = 2  # not group 0: ignored
    np.testing.assert_array_equal(collapse_dark_dq(dq), [[1, 0], [0, 0]])


@pytest.mark.crosscheck
@pytest.mark.parametrize("miri", [False, True])
def test_crosscheck_stcal(miri):
    dark_sub = pytest.importorskip("stcal.dark_current.dark_sub")
    dark_class = pytest.importorskip("stcal.dark_current.dark_class")
    rng = np.random.default_rng(5)
    nints, ngroups, nframes, groupgap = 3, 4, 2, 1
    sci = dark_class.ScienceData()
    sci.data = rng.normal(1000, 10, (nints, ngroups, 6, 5)).astype(np.float32)
    sci.groupdq = np.zeros(sci.data.shape, np.uint8)
    sci.pixeldq = np.zeros((6, 5), np.uint32)
    sci.exp_nframes, sci.exp_groupgap, sci.exp_intstart = nframes, groupgap, 1
    drk = dark_class.DarkData()
    shape = (2, 9, 6, 5) if miri else (9, 6, 5)
    drk.data = rng.normal(5, 1, shape).astype(np.float32)
    drk.data[..., 1, 2, 2] = np.nan
    drk.groupdq = np.zeros((2, 9, 6, 5) if miri else (6, 5), np.uint32)
    drk.groupdq[..., 0, 0] = 4
    drk.exp_nframes, drk.exp_groupgap, drk.exp_ngroups = 1, 0, 9
    data_in = sci.data.copy()
    raw_dark = drk.data.copy()
    out, _ = dark_sub.do_correction_data(sci, drk)
    matched = resample_dark(raw_dark, nints, ngroups, nframes, groupgap)
    got, got_pdq = subtract_dark(data_in, np.zeros((6, 5), np.uint32), matched, collapse_dark_dq(drk.groupdq))
    np.testing.assert_allclose(got, out.data, rtol=0, atol=2e-4)
    np.testing.assert_array_equal(got_pdq, out.pixeldq)


def test_a_dark_in_the_science_readout_can_be_used_as_read():
    """``nan_as_zero=False``: no copy and NaN kept (apply_corrections counts NaN as 0); the result subtracts the same."""
    dark = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    dark[1, 0, 1] = np.nan
    as_read = resample_dark(dark, 1, 2, 1, 0, nan_as_zero=False)
    assert np.shares_memory(as_read, dark) and np.isnan(as_read[0, 1, 0, 1])
    zeroed = resample_dark(dark, 1, 2, 1, 0)
    data = np.ones((1, 2, 2, 2), np.float32)
    pdq = np.zeros((2, 2), np.uint32)
    np.testing.assert_array_equal(subtract_dark(data, pdq, as_read, pdq)[0], subtract_dark(data, pdq, zeroed, pdq)[0])
