"""JumpStep with find_showers: the simulator's MIRI shower halos get flagged, as the kernel does."""

import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import JUMP_DET
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.kernels.showers import flag_showers
from jwstlazy.references import ReferenceFinder
from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files
from jwstlazy.simulate.cosmic_rays import KIND_SHOWER

BRIGHT_HALO = 50.0  # e-: halo pixels well above the read noise (~40 e- CDS)


@pytest.fixture(scope="module")
def showery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("showers")
    write_reference_files("MIRIMAGE", folder, subarray="SUB256")
    # SLOW readout: TGROUP 2.58 s, so 15 s masks 5 more groups and jwst's amplitude limit is 6 x TGROUP e-
    uncal, truth = simulate_exposure(ExposureConfig(detector="MIRIMAGE", subarray="SUB256", readpatt="SLOW",
                                                    nints=2, ngroups=10, seed=6, large_event_rate=0.3))
    uncal = uncal.chunk({"y": 100, "x": 90})  # several pixel blocks
    finder = ReferenceFinder(directories=[folder])
    plain = Detector1Pipeline(references=finder).build(uncal, stop="jump").compute()
    showers = Detector1Pipeline(steps={"jump": {"find_showers": True}}, references=finder).build(
        uncal, stop="jump").compute()
    return plain, showers, truth, finder


def _showers(truth, ngroups):
    """Per simulated shower seen by a difference (not in group 0 or MIRI's DO_NOT_USE last group):
    (integration, group, rows, columns, charge, centre, radius)."""
    hits = truth.cosmic_rays.columns()
    for event in np.unique(hits["event"][hits["kind"] == KIND_SHOWER]):
        sel = hits["event"] == event
        i, g = hits["integration"][sel][0], hits["group"][sel][0]
        y, x, q = hits["y"][sel], hits["x"][sel], hits["charge"][sel]
        if 1 <= g < ngroups - 1:
            core = np.argmax(q)
            yield i, g, y, x, q, (y[core], x[core]), np.hypot(y - y[core], x - x[core]).max()


def _kernel_on(plain, finder, **options):
    gain = finder.load("gain", plain)["SCI"].values
    readnoise = finder.load("readnoise", plain)["SCI"].values
    return flag_showers(plain["SCI"].values, plain["GROUPDQ"].values, plain["PIXELDQ"].values, gain, readnoise,
                        nframes=int(plain.attrs["NFRAMES"]), group_time=float(plain.attrs["TGROUP"]), **options)


def test_step_equals_the_kernel_on_the_whole_exposure(showery):
    plain, showers, _, finder = showery
    expected = _kernel_on(plain, finder)
    assert expected.n_showers >= 5
    np.testing.assert_array_equal(showers["GROUPDQ"].values, expected.groupdq)
    np.testing.assert_array_equal(showers["PIXELDQ"].values, plain["PIXELDQ"].values)


def test_sigma_clipping_regime_equals_the_kernel(tmp_path):
    """With nints >= minimum_sigclip_groups the statistics are clipped per difference across integrations."""
    write_reference_files("MIRIMAGE", tmp_path, subarray="SUB128")
    uncal, _ = simulate_exposure(ExposureConfig(detector="MIRIMAGE", subarray="SUB128", readpatt="SLOW", nints=6,
                                                ngroups=5, seed=2, large_event_rate=2.0))
    uncal = uncal.chunk({"y": 50, "x": 60})
    finder = ReferenceFinder(directories=[tmp_path])
    clipped = {"minimum_sigclip_groups": 5}
    plain = Detector1Pipeline(steps={"jump": clipped}, references=finder).build(uncal, stop="jump").compute()
    showers = Detector1Pipeline(steps={"jump": {**clipped, "find_showers": True}}, references=finder).build(
        uncal, stop="jump").compute()
    expected = _kernel_on(plain, finder, minimum_sigclip_groups=5)
    assert expected.n_showers > 0 and not np.array_equal(expected.groupdq, plain["GROUPDQ"].values)
    np.testing.assert_array_equal(showers["GROUPDQ"].values, expected.groupdq)


def test_most_shower_halos_are_flagged_and_nothing_far_from_them(showery):
    plain, showers, truth, _ = showery
    before, after = plain["GROUPDQ"].values, showers["GROUPDQ"].values
    ngroups = before.shape[1]
    fractions, missed, near = [], [], np.zeros(before.shape[2:], bool)
    yy, xx = np.mgrid[0 : near.shape[0], 0 : near.shape[1]]
    for i, g, y, x, q, (cy, cx), radius in _showers(truth, ngroups):
        halo = q >= BRIGHT_HALO
        fractions.append(np.mean(after[i, g, y[halo], x[halo]] & JUMP_DET != 0))
        missed.append(np.mean(before[i, g, y[halo], x[halo]] & JUMP_DET == 0))
        near |= np.hypot(yy - cy, xx - cx) <= 1.3 * radius + 3
    assert len(fractions) >= 6
    assert np.median(missed) > 0.8  # the two-point detection alone misses most of each halo
    # jwst's amplitude test (6 x TGROUP e-/group) gives part of each halo back: measured 0.24-1.0, median 0.70
    assert np.median(fractions) > 0.6 and np.mean(np.array(fractions) > 0.5) >= 0.7
    added = (after & JUMP_DET != 0) & (before & JUMP_DET == 0)
    assert added.sum() > 5000
    assert not added.any(axis=(0, 1))[~near].any()


def test_off_by_default(showery):
    from jwstlazy.steps.detector1.jump import JumpStep

    plain, showers, _, _ = showery
    assert JumpStep.Parameters().find_showers is False
    assert not np.array_equal(plain["GROUPDQ"].values, showers["GROUPDQ"].values)
