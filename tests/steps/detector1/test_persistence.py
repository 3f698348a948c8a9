"""PersistenceStep: chunked == kernel on the whole exposure; the state carried to the next exposure."""

import dask.array as da
import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import DO_NOT_USE, PERSISTENCE, SATURATED
from jwstlazy.datamodels.persistence_array import write_persistence_array
from jwstlazy.kernels.persistence import flag_persistence, integration_start_epochs
from jwstlazy.steps.detector1 import PersistenceStep
from jwstlazy.steps.detector1.persistence import STATE_VARIABLE
from ramp_helpers import assert_several_chunks, build_ramp

TIMING = dict(DETECTOR="NRCA1", EXPSTART=60310.0, EFFINTTM=50.0, TGROUP=10.0)


def _exposure(seed, expstart=60310.0):
    """2 integrations x 5 groups; some pixels saturate, some only exceed 3000 DN."""
    rng = np.random.default_rng(seed)
    sci = rng.uniform(0, 4000, (2, 5, 15, 19)).astype(np.float32)
    gdq = np.zeros(sci.shape, np.uint8)
    gdq[rng.random(sci.shape) < 0.03] = SATURATED
    ramp = build_ramp(sci, gdq, **{**TIMING, "EXPSTART": expstart})
    ramp["INT_TIMES.int_start_MJD_UTC"] = (("INT_TIMES_row",), np.array([expstart, expstart + 60 / 86400]))
    return sci, gdq, ramp


def _expected(sci, gdq, state, expstart=60310.0, **options):
    starts = integration_start_epochs(2, expstart, 50.0, [expstart, expstart + 60 / 86400])
    return flag_persistence(sci, gdq, state, starts, 10.0, **options)


def test_chunked_equals_kernel_and_state_is_lazy():
    sci, gdq, ramp = _exposure(0)
    out = PersistenceStep(skip=False, persistence_time=100, dn_threshold=3500.0).run(ramp)
    assert_several_chunks(out["GROUPDQ"])
    assert_several_chunks(out[STATE_VARIABLE])
    gdq_expected, state_expected = _expected(sci, gdq, None, persistence_time=100.0, dn_threshold=3500.0)
    np.testing.assert_array_equal(out["GROUPDQ"].values, gdq_expected)
    np.testing.assert_array_equal(out[STATE_VARIABLE].values, state_expected)
    assert (gdq_expected & PERSISTENCE).any() and not (gdq_expected & DO_NOT_USE).any()
    assert out[STATE_VARIABLE].dims == ("y", "x") and out[STATE_VARIABLE].attrs["pers_time"] == 100
    assert out.attrs["S_PERSIS"] == "COMPLETE"


def test_state_carried_to_next_exposure_of_the_detector(tmp_path):
    sci1, gdq1, ramp1 = _exposure(1)
    step = dict(skip=False, persistence_time=400, persistence_dnu=True)
    first = PersistenceStep(**step).run(ramp1)
    expstart2 = 60310.0 + 150 / 86400  # windows of the first exposure are still open
    sci2, gdq2, ramp2 = _exposure(2, expstart2)
    second = PersistenceStep(**step, persistence_array=first[STATE_VARIABLE]).run(ramp2)
    assert isinstance(second[STATE_VARIABLE].data, da.Array)  # nothing computed to carry it
    _, state1 = _expected(sci1, gdq1, None, persistence_time=400.0, persistence_dnu=True)
    gdq_expected, state_expected = _expected(sci2, gdq2, state1, expstart2, persistence_time=400.0,
                                             persistence_dnu=True)
    np.testing.assert_array_equal(second["GROUPDQ"].values, gdq_expected)
    np.testing.assert_array_equal(second[STATE_VARIABLE].values, state_expected)
    fresh, _ = _expected(sci2, gdq2, None, expstart2, persistence_time=400.0, persistence_dnu=True)
    assert ((gdq_expected & PERSISTENCE) != 0).sum() > ((fresh & PERSISTENCE) != 0).sum()
    # the same state through upstream's ASDF file layout
    path = write_persistence_array(tmp_path / "pers", "NRCA1", first[STATE_VARIABLE].values, 400)
    from_file = PersistenceStep(**step, persistence_array_file=str(path)).run(ramp2)
    np.testing.assert_array_equal(from_file["GROUPDQ"].values, gdq_expected)
    # a state made with another persistence_time is ignored, as upstream ignores such a file
    other = PersistenceStep(skip=False, persistence_time=300, persistence_dnu=True,
                            persistence_array=first[STATE_VARIABLE]).run(ramp2)
    expected_other, _ = _expected(sci2, gdq2, None, expstart2, persistence_time=300.0, persistence_dnu=True)
    np.testing.assert_array_equal(other["GROUPDQ"].values, expected_other)


@pytest.mark.parametrize("parameters", [{}, {"skip": False}, {"skip": False, "persistence_time": 0}])
def test_skipped_by_default_and_without_persistence_time(parameters):
    sci, gdq, ramp = _exposure(0)
    out = PersistenceStep(**parameters).run(ramp)
    assert out.attrs["S_PERSIS"] == "SKIPPED"
    assert STATE_VARIABLE not in out
    np.testing.assert_array_equal(out["GROUPDQ"].values, gdq)


def test_wrong_shape_state_is_an_input_error():
    from jwstlazy.errors import JwstLazyInputError

    sci, gdq, ramp = _exposure(0)
    with pytest.raises(JwstLazyInputError, match="persistence_array"):
        PersistenceStep(skip=False, persistence_time=100, persistence_array=np.zeros((3, 3))).run(ramp)
