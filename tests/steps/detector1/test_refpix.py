"""RefPixStep graph shapes: what needs an exposure-wide reduction and what does not."""

import dask
import numpy as np

from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files
from jwstlazy.steps.detector1 import RefPixStep


def test_centred_subarray_without_reference_pixels_is_left_as_is_without_a_reduction(tmp_path):
    """A one-output subarray 4+ pixels from every edge holds no reference pixel: offsets are 0, so the step
    keeps the ramp and adds no exposure-wide task (which would hold every integration in memory at once)."""
    write_reference_files("NRCA1", tmp_path, subarray="SUB160P")
    ds, _ = simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB160P", ngroups=4, nints=3, seed=2))
    pipeline = Detector1Pipeline(references=ReferenceFinder(directories=[tmp_path]))
    before = pipeline.build(ds.chunk({"y": 40}), stop="superbias")
    after = RefPixStep().run(before, pipeline.references)
    assert after.attrs["S_REFPIX"] == "COMPLETE"
    keys = {str(key[0] if isinstance(key, tuple) else key) for key in dict(after["SCI"].data.__dask_graph__())}
    assert not any("single_output" in key for key in keys)
    np.testing.assert_array_equal(*dask.compute(after["SCI"].data, before["SCI"].data))
