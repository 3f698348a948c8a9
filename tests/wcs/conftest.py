"""Shared fixtures for the WCS tests: a pointing, pysiaf's own sci → sky, angular differences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from jwstlazy.wcs.siaf import import_pysiaf, siaf_aperture

RA_REF, DEC_REF, ROLL_REF = 53.16, -27.79, 251.3  # deg: a GOODS-S pointing


@pytest.fixture(scope="session")
def aperture() -> Callable:
    """``aperture(instrument, name)``: a pysiaf aperture (each SIAF parsed once per process)."""
    return siaf_aperture


@pytest.fixture(scope="session")
def pointing_attrs() -> Callable[..., dict]:
    """``pointing_attrs(instrument, detector, aperture, **extra)``: header keywords of an exposure
    pointed with ``aperture``'s reference point at the test pointing (VA_SCALE 1)."""

    def make(instrument: str, detector: str, aperture, **extra) -> dict:
        attrs = dict(INSTRUME=instrument, DETECTOR=detector, RA_REF=RA_REF, DEC_REF=DEC_REF,
                     ROLL_REF=ROLL_REF, V2_REF=aperture.V2Ref, V3_REF=aperture.V3Ref, VA_SCALE=1.0)
        attrs.update(extra)
        return attrs

    return make


@pytest.fixture(scope="session")
def pysiaf_sky() -> Callable:
    """``pysiaf_sky(aperture, attitude_aperture, x_sci, y_sci)``: pysiaf's (RA, Dec) deg of 1-based sci
    pixels of ``aperture``, with ``attitude_aperture``'s reference point at the test pointing."""
    pysiaf = import_pysiaf()

    def sky(aperture, attitude_aperture, x_sci, y_sci):
        attitude = pysiaf.utils.rotations.attitude(attitude_aperture.V2Ref, attitude_aperture.V3Ref,
                                                   RA_REF, DEC_REF, ROLL_REF)
        aperture.set_attitude_matrix(attitude)
        return aperture.sci_to_sky(np.ravel(x_sci), np.ravel(y_sci))

    return sky


@pytest.fixture(scope="session")
def separation_mas() -> Callable:
    """``separation_mas(ra1, dec1, ra2, dec2)``: small angular separations (deg in, mas out)."""

    def separation(ra1, dec1, ra2, dec2) -> np.ndarray:
        dra = (np.asarray(ra1) - np.asarray(ra2) + 180.0) % 360.0 - 180.0
        ddec = np.asarray(dec1) - np.asarray(dec2)
        return np.hypot(dra * np.cos(np.deg2rad(dec1)), ddec) * 3.6e6

    return separation


@pytest.fixture(scope="session")
def pixel_grid() -> Callable:
    """``pixel_grid(nx, ny, n=15)``: flattened n×n 0-based pixel positions spanning the outer edges."""

    def grid(nx: int, ny: int, n: int = 15) -> tuple[np.ndarray, np.ndarray]:
        x, y = np.meshgrid(np.linspace(-0.5, nx - 0.5, n), np.linspace(-0.5, ny - 0.5, n))
        return x.ravel(), y.ravel()

    return grid
