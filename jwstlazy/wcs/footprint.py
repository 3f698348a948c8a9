"""Sky footprints of images and the S_REGION keyword ("POLYGON ICRS  ra1 dec1 ... ra4 dec4")."""

from __future__ import annotations

import re

import numpy as np
from gwcs import WCS

from jwstlazy.errors import JwstLazyInputError


def footprint(wcs: WCS, shape: tuple[int, int] | None = None) -> np.ndarray:
    """(4, 2) array of (RA, Dec) deg at the outer pixel corners, clockwise from (x, y) = (−0.5, −0.5).

    Uses the WCS bounding box, or ``shape`` (ny, nx) when given. Corner order as gwcs ``footprint``:
    (x0, y0), (x0, y1), (x1, y1), (x1, y0). RA is wrapped into [0, 360).
    """
    if shape is not None:
        ny, nx = shape
        box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    elif wcs.bounding_box is not None:
        box = wcs.bounding_box.bounding_box(order="F")
    else:
        raise JwstLazyInputError("the WCS has no bounding box; give the array shape",
                                 where="bounding_box")
    (x0, x1), (y0, y1) = box
    x = np.array([x0, x0, x1, x1], dtype=float)
    y = np.array([y0, y1, y1, y0], dtype=float)
    ra, dec = wcs(x, y, with_bounding_box=False)
    return np.column_stack([np.mod(ra, 360.0), dec])


def s_region(corners: np.ndarray) -> str:
    """The S_REGION string of a (N, 2) array of (RA, Dec) deg, formatted as the official products."""
    corners = np.asarray(corners, dtype=float)
    if corners.ndim != 2 or corners.shape[1] != 2 or not np.all(np.isfinite(corners)):
        raise JwstLazyInputError("footprint has bad or non-finite corners", where="S_REGION",
                                 expected="(N, 2) finite (RA, Dec) values")
    return "POLYGON ICRS  " + " ".join(f"{value:.9f}" for value in corners.ravel())


def footprint_from_s_region(region: str) -> np.ndarray:
    """(N, 2) (RA, Dec) deg of an S_REGION ``POLYGON`` string."""
    match = re.fullmatch(r"\s*POLYGON\s+(?:ICRS\s+)?([-+0-9.eE\s]+)", region, flags=re.IGNORECASE)
    values = np.array(match.group(1).split(), dtype=float) if match else np.array([])
    if values.size < 6 or values.size % 2:
        raise JwstLazyInputError(f"cannot read {region!r}", where="S_REGION",
                                 expected="'POLYGON ICRS ra1 dec1 ra2 dec2 ra3 dec3 ...'")
    return values.reshape(-1, 2)
