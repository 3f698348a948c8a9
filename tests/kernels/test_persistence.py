"""Tests for jwstlazy.kernels.persistence (jwst 3.0 persistence-window flagging)."""

import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import DO_NOT_USE, PERSISTENCE, SATURATED
from jwstlazy.kernels.persistence import (
    epoch_to_mjd,
    flag_persistence,
    integration_start_epochs,
    mjd_to_epoch,
)


def reference_persistence(data, gdq, state, starts, tgroup, ptime, dn=None, dnu=False):
    """Slow whole-plane version of the module docstring's steps."""
    gdq, state = gdq.copy(), state.copy()
    flag = PERSISTENCE | (DO_NOT_USE if dnu else 0)
    for i in range(data.shape[0]):
        t = starts[i]
        count = np.zeros(state.shape, int)
        for g in range(data.shape[1]):
            t = t + tgroup
            state[state < t] = 0.0
            end = t + ptime
            count += (gdq[i, g] & SATURATED) > 0
            state[count == 1] = end
            if dn is not None:
                state[(data[i, g] > np.float32(dn)) & ~(state > 0)] = end
            state[(state != 0) & (state - end > 0)] = 0.0
            gdq[i, g][state > 0] |= flag
    return gdq, state


def _random_case(rng, nints=3, ngroups=6, ny=8, nx=9):
    first_sat = rng.integers(0, ngroups + 6, size=(nints, ny, nx))
    g = np.arange(ngroups)[None, :, None, None]
    gdq = np.where(g >= first_sat[:, None], SATURATED, 0).astype(np.uint8)
    gdq[0, 2, 0, 0] = SATURATED  # a saturation gap: the count stays 1 and the window keeps reopening
    gdq[0, 3:, 0, 0] = 0
    data = rng.uniform(0, 60000, gdq.shape).astype(np.float32)
    start = mjd_to_epoch(60000.5)
    state = np.where(rng.random((ny, nx)) < 0.4, start + rng.uniform(-100, 400, (ny, nx)), 0.0)
    state[1, 1] = start + 1e6  # a "backwards" window, reset at once
    return data, gdq, state


@pytest.mark.parametrize("dn", [None, 30000.0])
@pytest.mark.parametrize("dnu", [False, True])
def test_matches_reference(dn, dnu):
    data, gdq, state = _random_case(np.random.default_rng(3))
    starts = integration_start_epochs(3, 60000.5, 70.0)
    got = flag_persistence(data, gdq, state, starts, 10.737, 150.0, dn, dnu)
    want = reference_persistence(data, gdq, state, starts, 10.737, 150.0, dn, dnu)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_hand_computed_window():
    # one pixel, 1 integration of 5 groups of 10 s from t0; saturated from group 1; window 25 s
    gdq = np.zeros((2, 5, 1, 1), np.uint8)
    gdq[0, 1:, 0, 0] = SATURATED
    t0 = 1000.0
    out, state = flag_persistence(np.zeros(gdq.shape, np.float32), gdq, None, np.array([t0, t0 + 100]),
                                  10.0, 25.0)
    # group g is at t0 + 10 (g + 1); the first SATURATED group (1, t0 + 20) opens a window to t0 + 45,
    # which covers groups 1-3 and is closed at group 4 (t0 + 50); SATURATED itself does not flag
    assert list(out[0, :, 0, 0] & PERSISTENCE) == [0, PERSISTENCE, PERSISTENCE, PERSISTENCE, 0]
    assert not (out[1] & PERSISTENCE).any()  # integration 2 starts after the window ended
    assert state[0, 0] == 0.0
    # a window carried in from the previous exposure flags the groups it covers, then closes
    out, state = flag_persistence(np.zeros(gdq.shape, np.float32), np.zeros_like(gdq), np.array([[t0 + 30.0]]),
                                  np.array([t0, t0 + 100]), 10.0, 25.0, persistence_dnu=True)
    assert list(out[0, :, 0, 0]) == [PERSISTENCE | DO_NOT_USE] * 3 + [0, 0]


def test_time_helpers():
    assert mjd_to_epoch(40587.0) == 0.0 and epoch_to_mjd(86400.0) == 40588.0
    starts = integration_start_epochs(3, 60000.0, 50.0, int_start_mjd=[60000.001])
    assert starts[0] == mjd_to_epoch(60000.001) and starts[2] == mjd_to_epoch(60000.0) + 100.0


@pytest.mark.crosscheck
@pytest.mark.parametrize("dn", [None, 30000.0])
def test_crosscheck_jwst(dn):
    pers = pytest.importorskip("jwst.persistence.persistence")
    from stdatamodels.jwst import datamodels

    data, gdq, state = _random_case(np.random.default_rng(8))
    model = datamodels.RampModel(data=data.copy(), groupdq=gdq.copy(), pixeldq=np.zeros(state.shape, np.uint32))
    model.meta.exposure.start_time = 60000.5
    model.meta.exposure.integration_time = 70.0
    model.meta.exposure.group_time = 10.737
    ds = pers.DataSet(model, None, 150, dn, state.copy(), True)
    ds.do_all()
    starts = integration_start_epochs(3, 60000.5, 70.0)
    got = flag_persistence(data, gdq, state, starts, 10.737, 150, dn, True)
    np.testing.assert_array_equal(got[0], model.groupdq)
    np.testing.assert_array_equal(got[1], ds.persistence_array)
