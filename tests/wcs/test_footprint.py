"""Footprints and the S_REGION keyword."""

from __future__ import annotations

import re

import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs import footprint, footprint_from_s_region, imaging_wcs, s_region

OFFICIAL_S_REGION = re.compile(r"POLYGON ICRS  (-?\d+\.\d{9} ){7}-?\d+\.\d{9}")


def test_footprint_is_the_outer_pixel_corners(aperture, pointing_attrs):
    wcs = imaging_wcs(pointing_attrs("NIRCAM", "NRCA1", aperture("NIRCam", "NRCA1_FULL")))
    corners = footprint(wcs)
    expected = np.column_stack(wcs([-0.5, -0.5, 2047.5, 2047.5], [-0.5, 2047.5, 2047.5, -0.5]))
    np.testing.assert_allclose(corners, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(footprint(wcs, shape=(10, 20))[2], wcs(19.5, 9.5), atol=1e-12)


def test_s_region_has_the_official_format_and_parses_back(aperture, pointing_attrs):
    wcs = imaging_wcs(pointing_attrs("NIRISS", "NIS", aperture("NIRISS", "NIS_CEN")))
    corners = footprint(wcs)
    region = s_region(corners)
    assert OFFICIAL_S_REGION.fullmatch(region)
    np.testing.assert_allclose(footprint_from_s_region(region), corners, atol=1e-9)


def test_ra_is_wrapped_into_0_360():
    region = s_region(np.array([[-0.1, 1.0], [0.1, 1.0], [0.1, 1.1], [-0.1, 1.1]]) % [360, 90])
    assert region.startswith("POLYGON ICRS  359.900000000 1.000000000 0.100000000")


def test_bad_s_region_and_corners_are_named():
    with pytest.raises(JwstLazyInputError, match=r"\[S_REGION\]"):
        footprint_from_s_region("CIRCLE ICRS 1 2 3")
    with pytest.raises(JwstLazyInputError, match=r"\[S_REGION\]"):
        s_region(np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]))
