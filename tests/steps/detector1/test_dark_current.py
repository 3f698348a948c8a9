"""dark_current on an averaged readout: the dark matched per pixel block, cached for a program's next exposures."""

from __future__ import annotations

import dask
import numpy as np
import pytest

from jwstlazy.references import ReferenceFinder
from jwstlazy.references.derived import CACHE_CONFIG
from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files
from jwstlazy.steps.detector1 import DarkCurrentStep


@pytest.fixture(scope="module")
def shallow4(tmp_path_factory):
    """Two SHALLOW4 exposures (NFRAMES=4, GROUPGAP=1, 3 groups: 14 dark frames each) and their references."""
    folder = tmp_path_factory.mktemp("dark")
    write_reference_files("NRCA1", folder, subarray="SUB160", dark_frames=16)
    exposures = [simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB160", readpatt="SHALLOW4", ngroups=3,
                                                  seed=seed))[0].chunk({"y": 64, "x": 80}) for seed in (1, 2)]
    return exposures, ReferenceFinder(directories=[folder])


def _subtracted(uncal, finder) -> np.ndarray:
    return DarkCurrentStep().run(uncal, finder)["SCI"].values


def test_cached_dark_gives_the_same_bits_and_the_next_exposure_reads_it(shallow4, tmp_path):
    (first, second), finder = shallow4
    uncached = [_subtracted(uncal, finder) for uncal in (first, second)]
    folder = tmp_path / "derived"
    with dask.config.set({CACHE_CONFIG: str(folder)}):
        assert np.array_equal(_subtracted(first, finder), uncached[0])
        entries = sorted(folder.iterdir())
        assert len(entries) == 3 * 2  # one per pixel block of 160 x 160 in 64 x 80 blocks
        assert np.array_equal(_subtracted(second, finder), uncached[1])
        for entry in entries:  # a dark of 1 DN in every group: only the cache can say so
            np.save(entry, np.ones_like(np.load(entry)))
        np.testing.assert_allclose(_subtracted(second, finder), second["SCI"].values.astype(np.float32) - 1)
    assert sorted(folder.iterdir()) == entries


def test_a_dark_in_the_science_readout_is_not_cached(tmp_path):
    folder = tmp_path / "refs"
    write_reference_files("NRCA1", folder, subarray="SUB160", dark_frames=4)
    uncal, _ = simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB160", ngroups=3, seed=1))
    with dask.config.set({CACHE_CONFIG: str(tmp_path / "derived")}):
        DarkCurrentStep().run(uncal, ReferenceFinder(directories=[folder]))["SCI"].values
    assert not (tmp_path / "derived").exists()
