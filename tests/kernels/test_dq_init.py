"""Tests for jwstlazy.kernels.dq_init."""

import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import DO_NOT_USE, HOT, NON_SCIENCE, REFERENCE_PIXEL
from jwstlazy.kernels.dq_init import initialize_dq


def reference_dq_init(mask, shape, pdq, gdq):
    return pdq | mask, gdq | (mask & DO_NOT_USE).astype(np.uint8)[None, None]


def test_matches_reference_on_random_masks():
    rng = np.random.default_rng(0)
    mask = rng.integers(0, 2**32, (9, 7), dtype=np.uint64).astype(np.uint32)
    pdq = rng.integers(0, 2**32, (9, 7), dtype=np.uint64).astype(np.uint32)
    gdq = rng.integers(0, 256, (2, 3, 9, 7)).astype(np.uint8)
    got = initialize_dq(mask, gdq.shape, pdq, gdq)
    want = reference_dq_init(mask, gdq.shape, pdq, gdq)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[0].dtype == np.uint32 and got[1].dtype == np.uint8


def test_hand_computed_flags():
    mask = np.array([[0, DO_NOT_USE | NON_SCIENCE], [HOT, REFERENCE_PIXEL]], np.uint32)
    user = np.array([[DO_NOT_USE, 0], [0, 0]])
    pdq, gdq = initialize_dq(mask, (1, 2, 2, 2), user_dq=user)
    assert pdq[0, 0] == DO_NOT_USE and pdq[0, 1] == DO_NOT_USE | NON_SCIENCE and pdq[1, 0] == HOT
    assert gdq[0, :, 0, 0].tolist() == [1, 1] and gdq[0, :, 0, 1].tolist() == [1, 1]
    assert not gdq[0, :, 1].any()
    with pytest.raises(ValueError):
        initialize_dq(mask, (1, 2, 2, 2), user_dq=np.zeros((3, 3)))
