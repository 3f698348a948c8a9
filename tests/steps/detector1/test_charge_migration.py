"""ChargeMigrationStep: chunked (halo 1) == the kernel on the whole array; upstream skip rules."""

import numpy as np

from ramp_helpers import assert_several_chunks, build_ramp
from jwstlazy.datamodels.dqflags import CHARGELOSS, DO_NOT_USE
from jwstlazy.kernels.charge_migration import flag_charge_migration
from jwstlazy.steps.detector1 import ChargeMigrationStep


def _bright_ramp(ngroups=5, seed=1):
    rng = np.random.default_rng(seed)
    sci = rng.uniform(0, 20000, (2, ngroups, 20, 25)).astype(np.float32)
    hits = rng.random(sci.shape) < 0.01
    sci[hits] = 30000.0  # above the default threshold, some of them at chunk edges
    sci[0, -1, 6, 8] = sci[0, -1, 7, 9] = 30000.0  # corners of the (7, 9) blocks
    gdq = np.where(rng.random(sci.shape) < 0.05, DO_NOT_USE, 0).astype(np.uint8)
    return sci, gdq


def test_chunked_equals_whole_array_kernel():
    sci, gdq = _bright_ramp()
    ramp = build_ramp(sci, gdq)
    out = ChargeMigrationStep(skip=False).run(ramp)
    assert_several_chunks(out["GROUPDQ"])
    expected = flag_charge_migration(sci, gdq)
    np.testing.assert_array_equal(out["GROUPDQ"].values, expected)
    assert ((expected & CHARGELOSS) != 0).sum() > 100  # the test flags something, across chunk edges
    assert out["GROUPDQ"].values[0, -1, 6, 9] & CHARGELOSS  # neighbour in the next block
    assert out.attrs["S_CHGMIG"] == "COMPLETE"
    np.testing.assert_array_equal(out["SCI"].values, sci)


def test_threshold_parameter():
    sci, gdq = _bright_ramp()
    out = ChargeMigrationStep(skip=False, signal_threshold=15000).run(build_ramp(sci, gdq))
    np.testing.assert_array_equal(out["GROUPDQ"].values, flag_charge_migration(sci, gdq, 15000.0))


def test_off_by_default_and_skipped_with_two_groups():
    sci, gdq = _bright_ramp()
    default = ChargeMigrationStep().run(build_ramp(sci, gdq))
    assert default.attrs["S_CHGMIG"] == "SKIPPED"
    np.testing.assert_array_equal(default["GROUPDQ"].values, gdq)
    sci2, gdq2 = _bright_ramp(ngroups=2)
    short = ChargeMigrationStep(skip=False).run(build_ramp(sci2, gdq2))
    assert short.attrs["S_CHGMIG"] == "SKIPPED"
    np.testing.assert_array_equal(short["GROUPDQ"].values, gdq2)
