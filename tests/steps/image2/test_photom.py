"""photom: conversion from the PHOTOM row, header keywords, AREA, errors; star photometry vs truth."""

from __future__ import annotations

import numpy as np
import pytest
from photutils.aperture import CircularAperture, aperture_photometry

import jwstlazy
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.steps.image2 import FlatFieldStep, PhotomStep
from jwstlazy.steps.image2.photom import MJSR_TO_UJA2

REFS = ("photom", "area")


@pytest.fixture(scope="module")
def calibrated(exposure):
    references = {k: exposure.references[k] for k in ("flat", *REFS)}
    rate = jwstlazy.open(exposure.rate)
    flat_fielded = FlatFieldStep().run(rate, references)
    return flat_fielded.compute(), PhotomStep().run(flat_fielded, references).compute()


def test_scales_science_error_and_variances(calibrated, exposure):
    photmjsr = exposure.photmjsr
    before, after = calibrated
    good = np.isfinite(before.SCI.values)
    np.testing.assert_allclose(after.SCI.values[good], before.SCI.values[good] * photmjsr, rtol=1e-6)
    np.testing.assert_allclose(after.ERR.values[good], before.ERR.values[good] * photmjsr, rtol=1e-6)
    for name in ("VAR_POISSON", "VAR_RNOISE", "VAR_FLAT"):
        np.testing.assert_allclose(after[name].values[good], before[name].values[good] * photmjsr**2, rtol=1e-5)
    assert after.SCI.attrs["BUNIT"] == "MJy/sr" and after.VAR_RNOISE.attrs["BUNIT"] == "(MJy/sr)^2"


def test_header_keywords_and_area(calibrated, exposure):
    _, after = calibrated
    assert after.attrs["PHOTMJSR"] == pytest.approx(exposure.photmjsr)
    assert after.attrs["PHOTUJA2"] == pytest.approx(exposure.photmjsr * MJSR_TO_UJA2)
    assert MJSR_TO_UJA2 == pytest.approx(23.5044305391, rel=1e-9)
    assert after.attrs["PIXAR_SR"] == pytest.approx(exposure.pixar_sr)
    assert after.attrs["S_PHOTOM"] == "COMPLETE" and after.attrs["R_AREA"] == "tiny_area.fits"
    y0, x0 = after.attrs["SUBSTRT2"] - 1, after.attrs["SUBSTRT1"] - 1
    expected = exposure.full_frame_area()[y0:y0 + after.sizes["y"], x0:x0 + after.sizes["x"]]
    np.testing.assert_array_equal(after.AREA.values, expected)


def test_no_matching_row_names_the_file(exposure):
    rate = jwstlazy.open(exposure.rate)
    rate.attrs["FILTER"] = "F444W"
    with pytest.raises(JwstLazyInputError, match=r"tiny_photom.fits.*PHOTOM.*0 rows match filter='F444W'"):
        PhotomStep().run(rate, {k: exposure.references[k] for k in REFS})


def test_star_flux_density_recovered_to_one_percent(calibrated, exposure):
    _, cal = calibrated
    image = np.nan_to_num(cal.SCI.values - exposure.sky)
    for x, y, flux_mjy in exposure.stars:
        aperture = CircularAperture((x, y), r=7.0)
        measured = aperture_photometry(image, aperture)["aperture_sum"][0] * cal.attrs["PIXAR_SR"]
        assert measured == pytest.approx(flux_mjy, rel=0.01)
