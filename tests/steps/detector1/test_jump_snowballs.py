"""JumpStep with expand_large_events: snowballs of the simulator get their halos flagged, as the kernel does."""

import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import JUMP_DET
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.kernels.snowballs import flag_snowballs
from jwstlazy.references import ReferenceFinder
from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files


@pytest.fixture(scope="module")
def snowy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snowballs")
    write_reference_files("NRCA1", folder, subarray="SUB160")
    uncal, truth = simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB160", ngroups=6, seed=4,
                                                    large_event_rate=60.0))
    return uncal, truth, ReferenceFinder(directories=[folder])


def test_expansion_matches_the_kernel_and_adds_flags_around_snowballs(snowy):
    uncal, truth, finder = snowy
    assert (truth.cosmic_rays.columns()["kind"] == 1).any(), "the scenario must contain snowballs"
    plain = Detector1Pipeline(references=finder).build(uncal, stop="jump").compute()
    expanded = Detector1Pipeline(steps={"jump": {"expand_large_events": True}}, references=finder).build(
        uncal, stop="jump").compute()
    expected = flag_snowballs(plain["GROUPDQ"].values, group_time=float(plain.attrs["TGROUP"])).groupdq
    np.testing.assert_array_equal(expanded["GROUPDQ"].values, expected)
    added = ((expanded["GROUPDQ"].values & JUMP_DET) != 0).sum() - ((plain["GROUPDQ"].values & JUMP_DET) != 0).sum()
    assert added > 0
