"""Scene rendering: positions, flux conservation and the photometric conversion."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.simulate.calibration import detector_calibration
from jwstlazy.simulate.detectors import get_detector
from jwstlazy.simulate.filters import UJY_TO_MJY, photometric_filter
from jwstlazy.simulate.pointing import Pointing, attitude_matrix, placed_aperture
from jwstlazy.simulate.readout import resolve_subarray
from jwstlazy.simulate.scene import GALAXY, STAR, Scene, Source, render_rate


@pytest.fixture(scope="module")
def geometry():
    det = get_detector("NRCA1")
    sub = resolve_subarray(det, 128)
    aperture = placed_aperture(det, attitude_matrix(Pointing(), det, sub.apername))
    return det, sub, aperture


def sky_at(aperture, sub, x: float, y: float) -> tuple[float, float]:
    ra, dec = aperture.sci_to_sky(x + sub.substrt1, y + sub.substrt2)
    return float(ra), float(dec)


@pytest.mark.parametrize("kind", [STAR, GALAXY])
def test_flux_is_conserved_and_placed(geometry, kind: str) -> None:
    _, sub, aperture = geometry
    band = photometric_filter("F200W")
    pixar_sr = 2.29e-14
    ra, dec = sky_at(aperture, sub, 63.3, 58.7)
    source = Source(ra, dec, 100.0, kind, r_eff_arcsec=0.2, axis_ratio=0.5, position_angle_deg=30.0)
    area = np.ones(sub.shape, np.float32)
    image, table = render_rate(Scene([source], sky_mjysr=0.0), aperture, (sub.substrt1, sub.substrt2),
                               sub.shape, band, pixar_sr, area)
    expected_total = 100.0 * UJY_TO_MJY / (band.photmjsr * pixar_sr)
    assert table["rate_dn"][0] == pytest.approx(expected_total)
    assert image.sum() == pytest.approx(expected_total, rel=0.01)
    yy, xx = np.indices(image.shape)
    centroid = (np.sum(xx * image) / image.sum(), np.sum(yy * image) / image.sum())
    assert centroid == (pytest.approx(63.3, abs=0.05), pytest.approx(58.7, abs=0.05))


def test_sky_scales_with_pixel_area_and_photmjsr(geometry) -> None:
    det, sub, aperture = geometry
    band = photometric_filter("F200W")
    area = detector_calibration(det.name, 0).area[sub.slices]
    image, _ = render_rate(Scene([], sky_mjysr=0.5), aperture, (sub.substrt1, sub.substrt2), sub.shape, band,
                           2.29e-14, area)
    np.testing.assert_allclose(image, 0.5 / band.photmjsr * area, rtol=1e-6)
    assert photometric_filter("CLEAR", "F150W").name == "F150W"  # NIRISS: the pupil sets the band
