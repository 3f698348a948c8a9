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


def _full_frame_ramp(seed=5):
    """A 1-integration, 2-group NRCA1 full frame with 1/f rows, lazily chunked in row blocks."""
    from ramp_helpers import build_ramp

    rng = np.random.default_rng(seed)
    sci = (rng.normal(1000, 5, (1, 2, 2048, 2048)) + rng.normal(0, 20, (1, 2, 2048, 1))).astype(np.float32)
    pixeldq = np.zeros((2048, 2048), np.uint32)
    attrs = dict(INSTRUME="NIRCAM", DETECTOR="NRCA1", SUBARRAY="FULL", FASTAXIS=-1, SLOWAXIS=2, NOUTPUTS=4,
                 SUBSTRT1=1, SUBSTRT2=1, SUBSIZE1=2048, SUBSIZE2=2048)
    return build_ramp(sci, pixeldq=pixeldq, chunks=(512, 2048), **attrs), sci, pixeldq


def test_sirs_step_equals_the_kernels_and_falls_back_to_the_running_median(tmp_path):
    import sys
    from pathlib import Path

    from jwstlazy.kernels.refpix import sirs_kernels
    from jwstlazy.references.sirs_kernel import read_sirs_kernel, write_sirs_kernel_reference

    sys.path.insert(0, str(Path(__file__).parents[2] / "kernels"))
    from test_refpix import _sirs_coefficients, _sirs_correct

    ramp, sci, pixeldq = _full_frame_ramp()
    path = write_sirs_kernel_reference(tmp_path / "jwst_nircam_sirskernel_0001.asdf",
                                       {"NRCA1": _sirs_coefficients(np.random.default_rng(6))}, "NIRCAM")
    out = RefPixStep(refpix_algorithm="sirs").run(ramp, {"sirskernel": str(path)})
    assert out.attrs["S_REFPIX"] == "COMPLETE" and out.attrs["R_SIRSKL"] == path.name
    expected = _sirs_correct(sci, pixeldq, -1, 2, sirs_kernels(*read_sirs_kernel(path, "NRCA1")))
    np.testing.assert_array_equal(out["SCI"].values, expected)
    median = RefPixStep().run(ramp)["SCI"].values
    assert not np.array_equal(expected, median)
    # a file without this detector, or an override of N/A: the running median, as upstream
    other = write_sirs_kernel_reference(tmp_path / "other.asdf", {"NRCB1": _sirs_coefficients(np.random.default_rng(7))},
                                        "NIRCAM")  # fmt: skip
    np.testing.assert_array_equal(RefPixStep(refpix_algorithm="sirs").run(ramp, {"sirskernel": str(other)})["SCI"].values,
                                  median)  # fmt: skip
    np.testing.assert_array_equal(RefPixStep(refpix_algorithm="sirs").run(ramp, {"sirskernel": "N/A"})["SCI"].values,
                                  median)  # fmt: skip
