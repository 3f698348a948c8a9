"""Output grids: cover every footprint, north up (or rotated), at the pixel scale asked."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs import footprint, imaging_wcs, output_grid, s_region

PIXEL_SCALE = 0.05  # arcsec


@pytest.fixture(scope="module")
def footprints(aperture, pointing_attrs):
    """Footprints of four detectors of NIRCam module A at one pointing and one dithered pointing."""
    result = []
    for dither in (0.0, 0.01):
        for n in "1234":
            full = aperture("NIRCam", f"NRCA{n}_FULL")
            attrs = pointing_attrs("NIRCAM", f"NRCA{n}", full)
            attrs["RA_REF"] += dither
            result.append(footprint(imaging_wcs(attrs)))
    return result


def _position_angle_of_plus_y(wcs, x, y) -> float:
    """PA (deg east of north) of the direction of +y pixels at (x, y)."""
    start, end = (SkyCoord(*wcs(x, y + dy), unit="deg") for dy in (0.0, 1.0))
    return start.position_angle(end).deg


def test_grid_holds_every_footprint(footprints):
    grid = output_grid(footprints, PIXEL_SCALE)
    ny, nx = grid.shape
    assert grid.wcs.pixel_shape == (nx, ny)
    corners = np.vstack(footprints)
    x, y = grid.wcs.invert(corners[:, 0], corners[:, 1], with_bounding_box=False)
    assert x.min() >= -0.5 - 1e-6 and x.max() <= nx - 0.5 + 1e-6
    assert y.min() >= -0.5 - 1e-6 and y.max() <= ny - 0.5 + 1e-6
    assert min(x.min() + 0.5, y.min() + 0.5) < 1e-6  # tight: some corner on the lower edges
    assert nx - 0.5 - x.max() < 1 and ny - 0.5 - y.max() < 1


def test_grid_is_north_up_east_left_with_the_pixel_scale(footprints):
    grid = output_grid(footprints, PIXEL_SCALE)
    wcs = grid.wcs
    cx, cy = grid.crpix  # north is exactly +y only along the central meridian of a TAN grid
    centre, up, right = (SkyCoord(*wcs(cx + dx, cy + dy), unit="deg")
                         for dx, dy in ((0, 0), (0, 1), (1, 0)))
    assert centre.position_angle(up).deg == pytest.approx(0.0, abs=1e-6)
    assert centre.position_angle(right).deg == pytest.approx(270.0, abs=1e-6)  # +x points west
    assert centre.separation(up).arcsec == pytest.approx(PIXEL_SCALE, rel=1e-6)
    assert centre.separation(right).arcsec == pytest.approx(PIXEL_SCALE, rel=1e-6)


def test_rotation_crval_and_shape(footprints):
    grid = output_grid([s_region(f) for f in footprints], 0.1, rotation=30.0, crval=(53.2, -27.8),
                       shape=(301, 401))
    wcs = grid.wcs
    assert wcs.pixel_shape == (401, 301)
    np.testing.assert_allclose(wcs(200.0, 150.0), (53.2, -27.8), atol=1e-12)
    assert _position_angle_of_plus_y(wcs, 200.0, 150.0) == pytest.approx(30.0, abs=1e-6)


def test_fits_keywords_describe_the_same_grid(footprints):
    from astropy.wcs import WCS as FitsWCS

    grid = output_grid(footprints, PIXEL_SCALE, rotation=12.0)
    fits_wcs = FitsWCS(grid.fits_keywords())
    x, y = np.array([0.0, 100.0, 1234.5]), np.array([0.0, 2000.0, 50.0])
    np.testing.assert_allclose(fits_wcs.all_pix2world(x, y, 0),
                               grid.wcs(x, y, with_bounding_box=False), rtol=0, atol=1e-10)


def test_bad_arguments_are_named(footprints):
    with pytest.raises(JwstLazyInputError, match=r"\[footprints\]"):
        output_grid([], PIXEL_SCALE)
    with pytest.raises(JwstLazyInputError, match=r"\[pixel_scale\]"):
        output_grid(footprints, 0.0)
