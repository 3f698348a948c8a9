"""Tests for jwstlazy.kernels.rscd."""

import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import DO_NOT_USE, FLUX_ESTIMATED, SATURATED
from jwstlazy.kernels.rscd import flag_rscd, rscd_group_skip, rscd_skip_counts


def reference_flag_rscd(gdq, pdq, skip1, skip2p, first_integration=0):
    """Slow version: per pixel and integration, walk down from the second kept group while SATURATED."""
    gdq, pdq = gdq.copy(), pdq.copy()
    nints, ngroups, ny, nx = gdq.shape
    for i in range(nints):
        skip0 = skip1 if first_integration + i == 0 else skip2p
        for y in range(ny):
            for x in range(nx):
                sat = (gdq[i, :, y, x] & SATURATED) != 0
                skip = skip0
                if not sat[0]:
                    for level in range(skip0 + 1, 0, -1):
                        if not sat[level]:
                            break
                        skip = max(skip - 1, 0)
                if skip < skip0:
                    pdq[y, x] |= FLUX_ESTIMATED
                gdq[i, :skip, y, x] |= DO_NOT_USE
    return gdq, pdq


def _random_case(rng, nints=3, ngroups=8, ny=9, nx=11):
    first_sat = rng.integers(0, ngroups + 4, size=(nints, ny, nx))  # >= ngroups: never saturates
    g = np.arange(ngroups)[None, :, None, None]
    gdq = np.where(g >= first_sat[:, None], SATURATED, 0).astype(np.uint8)
    gdq |= rng.choice(np.array([0, 0, 0, 4], np.uint8), size=gdq.shape)
    return gdq, rng.choice(np.array([0, 0, 1, 2048], np.uint32), size=(ny, nx))


@pytest.mark.parametrize("skips", [(3, 2), (1, 4), (0, 0)])
@pytest.mark.parametrize("first", [0, 2])
def test_matches_reference(skips, first):
    gdq, pdq = _random_case(np.random.default_rng(sum(skips) + first))
    got = flag_rscd(gdq, pdq, *skips, first_integration=first)
    want = reference_flag_rscd(gdq, pdq, *skips, first_integration=first)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_hand_computed():
    gdq = np.zeros((2, 6, 1, 3), np.uint8)
    # int 1, skip 3, saturated from group 3: second kept group index 4 is SAT -> 2, index 3 SAT -> 1,
    # index 2 fine: skip 1 and FLUX_ESTIMATED
    gdq[0, 3:, 0, 1] = SATURATED
    gdq[:, :, 0, 2] = SATURATED  # saturated from group 0: unrecoverable, no back-off
    out, pdq = flag_rscd(gdq, np.zeros((1, 3), np.uint32), 3, 2)
    assert list(out[0, :, 0, 0] & DO_NOT_USE) == [1, 1, 1, 0, 0, 0]
    assert list(out[1, :, 0, 0] & DO_NOT_USE) == [1, 1, 0, 0, 0, 0]
    assert list(out[0, :, 0, 1] & DO_NOT_USE) == [1, 0, 0, 0, 0, 0]
    assert list(out[0, :, 0, 2] & DO_NOT_USE) == [1, 1, 1, 0, 0, 0]
    assert list(pdq[0]) == [0, FLUX_ESTIMATED, 0]


def test_table_and_counts():
    cols = (["FULL", "SLITLESSPRISM", "FULL"], ["SLOW", "FAST", "FAST"], [-1, 4, 3], [2, 3, 2])
    assert rscd_group_skip(*cols, "FULL", "FAST") == (3, 2)
    assert rscd_group_skip(*cols, "SUBPRISM", "FAST") == (4, 3)
    assert rscd_group_skip(*cols, "FULL", "SLOW") == (1, 2)
    assert rscd_group_skip(*cols, "MASK1065", "FAST") is None
    assert rscd_skip_counts(3, 2, ngroups=2, nints=1) is None
    assert rscd_skip_counts(3, 2, ngroups=5, nints=2) == (1, 1)
    assert rscd_skip_counts(3, 2, ngroups=3, nints=2) == (0, 0)
    assert rscd_skip_counts(4, 5, ngroups=7, nints=2) == (4, 4)
    assert rscd_skip_counts(4, 5, ngroups=7, nints=1) == (4, 5)


@pytest.mark.crosscheck
@pytest.mark.parametrize("int_start", [1, 3])
def test_crosscheck_jwst(int_start):
    rscd_sub = pytest.importorskip("jwst.rscd.rscd_sub")
    from stdatamodels.jwst import datamodels

    gdq, pdq = _random_case(np.random.default_rng(11 + int_start), nints=3, ngroups=9)
    model = datamodels.RampModel(data=np.zeros(gdq.shape, np.float32), groupdq=gdq.copy(), pixeldq=pdq.copy())
    model.meta.exposure.ngroups, model.meta.exposure.nints = 9, 5
    model.meta.exposure.integration_start = int_start
    want = rscd_sub.correction_skip_groups(model, 4, 2)
    skips = rscd_skip_counts(4, 2, 9, 5)
    got = flag_rscd(gdq, pdq, *skips, first_integration=int_start - 1)
    np.testing.assert_array_equal(got[0], want.groupdq)
    np.testing.assert_array_equal(got[1], want.pixeldq)
