"""bkg_subtract: sigma-clipped mean of background exposures, DQ and variances, fitted sky, skip."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from jwstlazy.kernels.background import combine_backgrounds
from jwstlazy.steps.image2 import BackgroundStep

SHAPE = (6, 8)


def _image(level: float, dq_value: int = 0, variance: float = 1e-3) -> xr.Dataset:
    dims = ("y", "x")
    chunked = {"chunks": (3, 4)}
    sci = np.full(SHAPE, level, np.float32)
    dq = np.zeros(SHAPE, np.uint32)
    dq[0, 0] = dq_value
    ds = xr.Dataset({
        "SCI": (dims, da.from_array(sci, **chunked)),
        "DQ": (dims, da.from_array(dq, **chunked)),
        "VAR_POISSON": (dims, da.from_array(np.full(SHAPE, variance, np.float32), **chunked)),
        "VAR_RNOISE": (dims, da.from_array(np.full(SHAPE, 2 * variance, np.float32), **chunked)),
        "ERR": (dims, da.from_array(np.full(SHAPE, np.sqrt(3 * variance), np.float32), **chunked)),
    }, attrs={"INSTRUME": "NIRCAM", "product": "rate"})
    return ds


def test_clipped_mean_kernel_rejects_the_outlier():
    values = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 50.0])[:, None, None]
    zeros = np.zeros_like(values, dtype=np.uint32)
    mean, dq, var_p, var_r = combine_backgrounds(values, zeros, np.ones_like(values), np.ones_like(values))
    assert mean[0, 0] == pytest.approx(1.0, abs=1e-6)
    assert var_p[0, 0] == pytest.approx(7 / 49)  # 7 kept values of variance 1: Σ var / n²


def test_backgrounds_are_combined_and_subtracted():
    science = _image(5.0)
    backgrounds = [_image(1.0, dq_value=4), _image(1.2), _image(0.8)]
    result = BackgroundStep(bkg_list=backgrounds).run(science, {})
    assert isinstance(result.SCI.data, da.Array)
    result = result.compute()
    np.testing.assert_allclose(result.SCI.values, 4.0, rtol=1e-6)
    assert result.DQ.values[0, 0] == 4 and result.DQ.values[1, 1] == 0
    np.testing.assert_allclose(result.VAR_POISSON.values, 1e-3 + 3e-3 / 9, rtol=1e-5)
    np.testing.assert_allclose(result.ERR.values ** 2, 3e-3 + 9e-3 / 9, rtol=1e-5)
    assert result.attrs["S_BKDSUB"] == "COMPLETE"


def test_official_behaviour_leaves_variances_alone():
    result = BackgroundStep(bkg_list=[_image(1.0)], propagate_variance=False).run(_image(5.0), {}).compute()
    np.testing.assert_allclose(result.VAR_POISSON.values, 1e-3)


def test_scaled_background_matches_the_science_level():
    result = BackgroundStep(bkg_list=[_image(2.0)], scale_background=True).run(_image(5.0), {}).compute()
    np.testing.assert_allclose(result.SCI.values, 0.0, atol=1e-6)


def test_fitted_sky_when_no_background():
    science = _image(3.0)
    science["SCI"] = science.SCI + da.from_array(np.pad([[40.0]], ((0, 5), (0, 7))), chunks=(3, 4))  # a "star"
    result = BackgroundStep(sky_when_no_background=True).run(science, {}).compute()
    assert result.SCI.values[1, 1] == pytest.approx(0.0, abs=1e-6)
    assert result.SCI.values[0, 0] == pytest.approx(40.0)


def test_no_background_skips():
    result = BackgroundStep().run(_image(3.0), {})
    assert result.attrs["S_BKDSUB"] == "SKIPPED"
