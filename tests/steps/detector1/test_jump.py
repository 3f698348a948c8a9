"""JumpStep on a ramp split into pixel blocks gives the kernel's flags on the whole ramp at once."""

import importlib.util
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from ramp_helpers import assert_several_chunks, build_ramp

from jwstlazy.datamodels.dqflags import JUMP_DET
from jwstlazy.kernels.jump import detect_jumps
from jwstlazy.steps.detector1 import JumpStep

_spec = importlib.util.spec_from_file_location("kernel_jump_tests", Path(__file__).parents[2] / "kernels" / "test_jump.py")
_kernel_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_kernel_tests)
random_ramps = _kernel_tests.random_ramps


def _reference(image: np.ndarray) -> dict:
    return {"SCI": (("y", "x"), da.from_array(image, chunks=(7, 9)))}


@pytest.mark.parametrize("after_jump", [False, True])
def test_blocks_give_the_whole_ramp_flags(after_jump):
    data, gdq, pdq, gain, rn = random_ramps(nints=2, ngroups=8, ny=20, nx=23, seed=5)
    tgroup = 10.0
    options = dict(after_jump_flag_dn1=50.0, after_jump_flag_time1=25.0, after_jump_flag_dn2=500.0,
                   after_jump_flag_time2=45.0) if after_jump else {}
    ramp = build_ramp(data, gdq, pdq, TGROUP=tgroup)
    references = {"gain": xr.Dataset(_reference(gain)), "readnoise": xr.Dataset(_reference(rn))}
    flagged = JumpStep(**options).process(ramp, references)
    assert_several_chunks(flagged["GROUPDQ"])

    # the whole detector's median gain sets the after-jump thresholds, whatever the block
    n1, n2 = (2, 4) if after_jump else (0, 0)
    expected = detect_jumps(data, gdq, pdq, gain, rn, nframes=1, after_jump_flag_dn1=options.get("after_jump_flag_dn1", 0.0),
                            after_jump_flag_n1=n1, after_jump_flag_dn2=options.get("after_jump_flag_dn2", 0.0),
                            after_jump_flag_n2=n2, gain_median=float(np.nanmedian(gain)))
    np.testing.assert_array_equal(flagged["GROUPDQ"].values, expected.groupdq)
    jumps = ((expected.groupdq & JUMP_DET) != 0).sum()
    assert jumps > 0
    if after_jump:  # more flags than without, and a 10% different median gain would change them
        assert jumps > ((detect_jumps(data, gdq, pdq, gain, rn, nframes=1).groupdq & JUMP_DET) != 0).sum()
        shifted = detect_jumps(data, gdq, pdq, gain, rn, nframes=1, after_jump_flag_dn1=50.0, after_jump_flag_n1=n1,
                               after_jump_flag_dn2=500.0, after_jump_flag_n2=n2, gain_median=1.1 * float(np.nanmedian(gain)))
        assert (shifted.groupdq != expected.groupdq).any()
