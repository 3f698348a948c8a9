"""Detector1Pipeline: the step order of calwebb_detector1 (jwst 3.0) and a default run on simulated NIRCam."""

import numpy as np
import pytest
import xarray as xr

from jwstlazy.graphs.detector1 import Detector1Pipeline

NEAR_INFRARED = ["group_scale", "dq_init", "saturation", "ipc", "superbias", "refpix", "linearity", "dark_current"]
MIRI = ["group_scale", "dq_init", "emicorr", "saturation", "ipc", "firstframe", "lastframe", "reset", "linearity",
        "rscd", "dark_current", "refpix"]
TAIL = ["charge_migration", "jump", "picture_frame", "clean_flicker_noise", "persistence", "ramp_fit", "gain_scale"]
OFF_BY_DEFAULT = {"charge_migration", "picture_frame", "clean_flicker_noise", "persistence", "firstframe", "emicorr"}


@pytest.mark.parametrize("instrument, head", [("NIRCAM", NEAR_INFRARED), ("NIRISS", NEAR_INFRARED),
                                              ("MIRI", MIRI)])
def test_step_order_and_default_skips(instrument, head):
    steps = Detector1Pipeline().steps_for(xr.Dataset(attrs={"INSTRUME": instrument}))
    assert [step.name for step in steps] == head + TAIL
    assert {step.name for step in steps if step.parameters.skip} == OFF_BY_DEFAULT & {s.name for s in steps}


def test_tail_steps_are_configurable_by_name():
    pipeline = Detector1Pipeline(steps={"persistence": {"skip": False, "persistence_time": 300},
                                        "clean_flicker_noise": {"n_sigma": 3}})
    steps = {s.name: s for s in pipeline.steps_for(xr.Dataset(attrs={"INSTRUME": "NIRCAM"}))}
    assert steps["persistence"].parameters.persistence_time == 300 and not steps["persistence"].parameters.skip
    assert steps["clean_flicker_noise"].parameters.n_sigma == 3.0


@pytest.mark.slow
def test_simulated_nircam_subarray_runs_with_defaults(tmp_path):
    from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files

    uncal, truth = simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB64P", ngroups=3, nints=1))
    references = write_reference_files("NRCA1", tmp_path, subarray="SUB64P")
    products = Detector1Pipeline(references=references).build(uncal)
    rate = products["rate"]
    for keyword in ("S_CHGMIG", "S_CLNFNS", "S_PERSIS"):
        assert rate.attrs[keyword] == "SKIPPED"
    assert rate.attrs["S_JUMP"] == rate.attrs["S_RAMP"] == "COMPLETE"
    assert "PERSISTENCE_END" not in rate
    sci = rate["SCI"].values
    assert sci.shape == (64, 64) and np.isfinite(sci).mean() > 0.9
