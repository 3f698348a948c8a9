"""The imaging gwcs against pysiaf's own sci → sky, its round trip, VA scaling and keyword errors."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs import imaging_wcs

FULL_FRAME_CASES = [  # (INSTRUME, DETECTOR, SIAF instrument, full-frame aperture)
    ("NIRCAM", "NRCA1", "NIRCam", "NRCA1_FULL"),
    ("NIRCAM", "NRCBLONG", "NIRCam", "NRCB5_FULL"),
    ("NIRISS", "NIS", "NIRISS", "NIS_CEN"),
    ("MIRI", "MIRIMAGE", "MIRI", "MIRIM_FULL"),
    ("FGS", "GUIDER2", "FGS", "FGS2_FULL"),
]


@pytest.mark.parametrize(("instrument", "detector", "siaf", "name"), FULL_FRAME_CASES)
def test_full_frame_matches_pysiaf_and_round_trips(
    instrument, detector, siaf, name, aperture, pointing_attrs, pysiaf_sky, separation_mas, pixel_grid
):
    full = aperture(siaf, name)
    wcs = imaging_wcs(pointing_attrs(instrument, detector, full))
    assert wcs.pixel_shape == (full.XSciSize, full.YSciSize)
    x, y = pixel_grid(full.XSciSize, full.YSciSize)

    ra, dec = wcs(x, y)
    ra_siaf, dec_siaf = pysiaf_sky(full, full, x + 1, y + 1)
    assert separation_mas(ra, dec, ra_siaf, dec_siaf).max() < 1.0

    x_back, y_back = wcs.invert(ra, dec, with_bounding_box=False)
    assert np.hypot(x_back - x, y_back - y).max() < 0.01


def test_reference_point_lands_on_ra_dec_ref(aperture, pointing_attrs, separation_mas):
    full = aperture("NIRCam", "NRCA3_FULL")
    attrs = pointing_attrs("NIRCAM", "NRCA3", full)
    wcs = imaging_wcs(attrs)
    ra, dec = wcs(full.XSciRef - 1, full.YSciRef - 1)
    assert separation_mas(ra, dec, attrs["RA_REF"], attrs["DEC_REF"]) < 1e-3


def test_subarray_uses_full_frame_geometry_shifted_by_substrt(
    aperture, pointing_attrs, pysiaf_sky, separation_mas, pixel_grid
):
    full = aperture("NIRCam", "NRCB1_FULL")
    sub = aperture("NIRCam", "NRCB1_SUB400P")
    x_start, y_start = (round(v) for v in full.det_to_sci(*sub.sci_to_det(1, 1)))  # 1-based corner
    attrs = pointing_attrs("NIRCAM", "NRCB1", sub, SUBARRAY="SUB400P", SUBSTRT1=x_start,
                           SUBSTRT2=y_start, SUBSIZE1=400, SUBSIZE2=400, APERNAME="NRCB1_SUB400P")
    wcs = imaging_wcs(attrs)
    assert wcs.bounding_box.bounding_box(order="F") == ((-0.5, 399.5), (-0.5, 399.5))
    x, y = pixel_grid(400, 400)
    ra, dec = wcs(x, y)

    ra_full, dec_full = pysiaf_sky(full, sub, x + x_start, y + y_start)
    assert separation_mas(ra, dec, ra_full, dec_full).max() < 1.0
    ra_sub, dec_sub = pysiaf_sky(sub, sub, x + 1, y + 1)  # the subarray's own SIAF fit
    assert separation_mas(ra, dec, ra_sub, dec_sub).max() < 1.0

    x_back, y_back = wcs.invert(ra, dec, with_bounding_box=False)
    assert np.hypot(x_back - x, y_back - y).max() < 0.01


def test_velocity_aberration_scales_about_the_reference_point(aperture, pointing_attrs):
    full = aperture("NIRCam", "NRCA2_FULL")
    va_scale = 1.0001
    wcs = imaging_wcs(pointing_attrs("NIRCAM", "NRCA2", full, VA_SCALE=va_scale))
    correction = wcs.get_transform("v2v3", "v2v3vacorr")
    v2_ref, v3_ref = full.V2Ref, full.V3Ref
    np.testing.assert_allclose(correction(v2_ref, v3_ref), (v2_ref, v3_ref), atol=1e-9)
    v2, v3 = correction(v2_ref + 30.0, v3_ref - 40.0)
    np.testing.assert_allclose((v2 - v2_ref, v3 - v3_ref), (30.0 * va_scale, -40.0 * va_scale),
                               rtol=1e-12)


@pytest.mark.parametrize("keyword", ["INSTRUME", "DETECTOR", "RA_REF", "DEC_REF", "ROLL_REF",
                                     "V2_REF", "V3_REF"])
def test_missing_keyword_is_named(keyword, aperture, pointing_attrs):
    attrs = pointing_attrs("NIRCAM", "NRCA1", aperture("NIRCam", "NRCA1_FULL"))
    del attrs[keyword]
    with pytest.raises(JwstLazyInputError, match=rf"\[{keyword}\]"):
        imaging_wcs(attrs)


def test_bad_values_are_named(aperture, pointing_attrs):
    attrs = pointing_attrs("NIRCAM", "NRCA1", aperture("NIRCam", "NRCA1_FULL"))
    with pytest.raises(JwstLazyInputError, match=r"\[ROLL_REF\]"):
        imaging_wcs({**attrs, "ROLL_REF": "not a number"})
    with pytest.raises(JwstLazyInputError, match=r"\[VA_SCALE\]"):
        imaging_wcs({**attrs, "VA_SCALE": -1.0})
    with pytest.raises(JwstLazyInputError, match=r"\[DETECTOR\]"):
        imaging_wcs({**attrs, "DETECTOR": "NRS1"})
    with pytest.raises(JwstLazyInputError, match=r"\[INSTRUME\]"):
        imaging_wcs({**attrs, "INSTRUME": "MIRI"})
