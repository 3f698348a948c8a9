"""Output grids for resampling: a tangent-plane (TAN) pixel grid that covers a set of footprints.

Pixel frame: 0-based (x, y) of the output array. Orientation: ``rotation`` is the position angle of
the +y axis, degrees east of north (0 = north up, east left, as FITS images are shown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from astropy import coordinates as coord
from astropy import units as u
from astropy.modeling import Model
from astropy.modeling.models import (
    AffineTransformation2D,
    Pix2Sky_TAN,
    RotateNative2Celestial,
    Scale,
    Shift,
)
from gwcs import WCS
from gwcs import coordinate_frames as cf

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs.footprint import footprint_from_s_region


def _footprint_center(corners: np.ndarray) -> tuple[float, float]:
    """(RA, Dec) deg at the middle of the corners' bounding box in 3-D unit vectors."""
    ra, dec = np.deg2rad(corners[:, 0]), np.deg2rad(corners[:, 1])
    xyz = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    x, y, z = (xyz.max(axis=1) + xyz.min(axis=1)) / 2
    return float(np.rad2deg(np.arctan2(y, x)) % 360.0), float(np.rad2deg(np.arctan2(z, np.hypot(x, y))))


def _pixel_to_intermediate(rotation: float) -> np.ndarray:
    """PC matrix: pixel offsets → (east, north) intermediate offsets, for +y at PA ``rotation`` deg."""
    theta = np.deg2rad(rotation)
    return np.array([[-np.cos(theta), np.sin(theta)], [np.sin(theta), np.cos(theta)]])


@dataclass(frozen=True)
class OutputGrid:
    """A north-referenced TAN grid: ``crval`` (RA, Dec deg) sits on 0-based pixel ``crpix`` (x, y)."""

    crval: tuple[float, float]
    crpix: tuple[float, float]
    pixel_scale: float  #: arcsec per pixel
    rotation: float  #: PA of +y, deg east of north
    shape: tuple[int, int]  #: (ny, nx)

    @property
    def pc(self) -> np.ndarray:
        return _pixel_to_intermediate(self.rotation)

    def pixel_to_sky(self) -> Model:
        """0-based pixels (x, y) → (RA, Dec) deg, with its analytic inverse."""
        scale = self.pixel_scale / 3600.0
        return (
            (Shift(-self.crpix[0]) & Shift(-self.crpix[1]))
            | AffineTransformation2D(matrix=self.pc)
            | (Scale(scale) & Scale(scale))
            | Pix2Sky_TAN()
            | RotateNative2Celestial(self.crval[0], self.crval[1], 180.0)
        )

    @cached_property
    def wcs(self) -> WCS:
        """The gwcs (frames ``detector`` → ``world``) with bounding box and pixel shape set."""
        detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
        world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
        wcs = WCS([(detector, self.pixel_to_sky()), (world, None)])
        ny, nx = self.shape
        wcs.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
        wcs.pixel_shape = (nx, ny)
        return wcs

    def fits_keywords(self) -> dict[str, float | str]:
        """The equivalent FITS WCS keywords (CRPIX 1-based, CDELT in deg, PC matrix)."""
        scale = self.pixel_scale / 3600.0
        keywords: dict[str, float | str] = {
            "CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CUNIT1": "deg", "CUNIT2": "deg",
            "CRPIX1": self.crpix[0] + 1, "CRPIX2": self.crpix[1] + 1,
            "CRVAL1": self.crval[0], "CRVAL2": self.crval[1],
            "CDELT1": scale, "CDELT2": scale, "RADESYS": "ICRS",
        }
        for i in range(2):
            for j in range(2):
                keywords[f"PC{i + 1}_{j + 1}"] = float(self.pc[i, j])
        return keywords


def output_grid(
    footprints: Sequence[np.ndarray | str],
    pixel_scale: float,
    rotation: float = 0.0,
    crval: tuple[float, float] | None = None,
    shape: tuple[int, int] | None = None,
) -> OutputGrid:
    """The output grid covering ``footprints`` ((N, 2) RA/Dec deg arrays or S_REGION strings).

    ``pixel_scale`` arcsec/pixel; ``rotation`` PA of +y (deg, 0 = north up); ``crval`` (RA, Dec deg)
    defaults to the centre of all footprints. Without ``shape`` the grid is the smallest that holds
    every footprint corner; with ``shape`` (ny, nx) crval sits at the array centre.
    """
    if not footprints:
        raise JwstLazyInputError("no footprints to build an output grid from", where="footprints")
    if not pixel_scale > 0:
        raise JwstLazyInputError(f"pixel scale is {pixel_scale}", where="pixel_scale",
                                 expected="a positive number of arcsec")
    corners = np.vstack([footprint_from_s_region(f) if isinstance(f, str) else np.asarray(f, float)
                         for f in footprints])
    crval = _footprint_center(corners) if crval is None else (float(crval[0]), float(crval[1]))
    if shape is not None:
        ny, nx = (int(n) for n in shape)
        return OutputGrid(crval, ((nx - 1) / 2, (ny - 1) / 2), pixel_scale, rotation, (ny, nx))

    provisional = OutputGrid(crval, (0.0, 0.0), pixel_scale, rotation, (1, 1))
    x, y = provisional.pixel_to_sky().inverse(corners[:, 0], corners[:, 1])
    nx, ny = int(np.ceil(x.max() - x.min())), int(np.ceil(y.max() - y.min()))
    crpix = (-0.5 - float(x.min()), -0.5 - float(y.min()))
    return OutputGrid(crval, crpix, pixel_scale, rotation, (max(ny, 1), max(nx, 1)))
