"""resample (single exposure): flux conservation, WHT/CON, fill values, bad pixels, north-up grid."""

from __future__ import annotations

import numpy as np
import pytest

import jwstlazy
from jwstlazy.steps.image2 import AssignWcsStep, FlatFieldStep, PhotomStep, ResampleStep


@pytest.fixture(scope="module")
def cal_and_i2d(exposure):
    data = jwstlazy.open(exposure.rate)
    for step in (AssignWcsStep(), FlatFieldStep(), PhotomStep()):
        data = step.run(data, exposure.references)
    return data, ResampleStep(tile_size=48).run(data, {})  # several tiles


def test_output_products_and_keywords(cal_and_i2d):
    cal, i2d = cal_and_i2d
    assert set(i2d.data_vars) == {"SCI", "ERR", "CON", "WHT", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"}
    assert i2d.CON.dtype == np.int32 and i2d.CON.dims == ("plane", "y", "x")
    assert i2d.attrs["product"] == "i2d" and i2d.attrs["S_RESAMP"] == "COMPLETE"
    assert i2d.attrs["CTYPE1"] == "RA---TAN" and i2d.attrs["PC2_2"] == pytest.approx(1.0)  # north up
    assert i2d.attrs["PIXAR_SR"] == pytest.approx(cal.attrs["PIXAR_SR"], rel=0.01)


def test_flux_is_conserved_and_empty_pixels_are_filled(cal_and_i2d):
    cal, i2d = cal_and_i2d
    cal, i2d = cal.compute(), i2d.compute()
    cal_flux = np.nansum(cal.SCI.values) * cal.attrs["PIXAR_SR"]
    i2d_flux = np.nansum(i2d.SCI.values) * i2d.attrs["PIXAR_SR"]
    assert i2d_flux == pytest.approx(cal_flux, rel=2e-3)
    empty = i2d.WHT.values == 0
    assert empty.any() and np.isnan(i2d.SCI.values[empty]).all() and np.isnan(i2d.ERR.values[empty]).all()
    assert (i2d.CON.values[0][~empty] == 1).all() and (i2d.CON.values[0][empty] == 0).all()


def test_weights_are_inverse_read_noise_variance(cal_and_i2d):
    cal, i2d = cal_and_i2d
    i2d = i2d.compute()
    covered = i2d.WHT.values > 0
    interior = covered & np.roll(covered, 3, 0) & np.roll(covered, -3, 0) & np.roll(covered, 3, 1) & np.roll(covered, -3, 1)
    expected = 1 / np.nanmedian(cal.VAR_RNOISE.values)
    assert np.median(i2d.WHT.values[interior]) == pytest.approx(expected, rel=0.05)
    # one exposure: no averaging of independent pixels, so ERR ~ the input error per unit area
    assert np.isfinite(i2d.ERR.values[interior]).all()


def test_exposure_without_wcs_is_refused(exposure):
    with pytest.raises(jwstlazy.errors.JwstLazyInputError, match="assign_wcs"):
        ResampleStep().run(jwstlazy.open(exposure.rate), {})


def test_tiles_and_the_spline_pixel_map_reproduce_one_exact_tile(cal_and_i2d, monkeypatch):
    from jwstlazy.steps.image2 import resample
    from jwstlazy.wcs.pixmap import PixelMap

    cal, tiled = cal_and_i2d
    tiled = tiled.compute()
    monkeypatch.setattr(resample, "fit_pixel_map",  # the exact gwcs at every pixel, as before PixelMap
                        lambda wcs, grid, shape: PixelMap(wcs.forward_transform | grid.pixel_to_sky().inverse,
                                                          tuple(shape)))
    exact = ResampleStep(tile_size=4096).run(cal, {}).compute()
    assert tiled.SCI.shape == exact.SCI.shape
    for name in ("SCI", "WHT", "VAR_RNOISE", "ERR"):
        a, b = tiled[name].values, exact[name].values
        assert np.array_equal(np.isnan(a), np.isnan(b))
        ok = ~np.isnan(b) & (exact.WHT.values > 1e-3 * np.nanmax(exact.WHT.values))  # not the edge slivers
        np.testing.assert_allclose(a[ok], b[ok], rtol=1e-6)
    assert np.array_equal(tiled.CON.values, exact.CON.values)


def test_lazy_pixel_map_is_the_fitted_spline_map(cal_and_i2d):
    from jwstlazy.steps.image2 import resample

    cal, _ = cal_and_i2d
    step = ResampleStep()
    wcs = cal.attrs["wcs"]
    grid = step.grid(cal, wcs)
    sci = resample.pixel_array(cal, "SCI").rechunk((17, 23))
    map_x, map_y = resample.pixel_map(wcs, grid, sci)
    assert map_x.chunks == sci.chunks
    fitted = resample.fit_pixel_map(wcs, grid, sci.shape)
    expected = fitted.block(0, sci.shape[0], 0, sci.shape[1])
    np.testing.assert_array_equal(map_x.compute(), expected[0])
    np.testing.assert_array_equal(map_y.compute(), expected[1])
    gx, gy = np.meshgrid(np.arange(sci.shape[1], dtype=float), np.arange(sci.shape[0], dtype=float))
    exact = (wcs.forward_transform | grid.pixel_to_sky().inverse)(gx, gy)
    assert max(np.abs(expected[0] - exact[0]).max(), np.abs(expected[1] - exact[1]).max()) < 1e-3
