"""Telescope pointing: velocity-aberration correction in V2/V3 and the V2/V3 → sky rotation."""

from __future__ import annotations

import numpy as np
from astropy.modeling import Model
from astropy.modeling.models import Identity, RotationSequence3D, Scale, Shift
from gwcs.geometry import CartesianToSpherical, SphericalToCartesian

from jwstlazy.errors import JwstLazyInputError


def velocity_aberration(va_scale: float | None, v2_ref: float, v3_ref: float) -> Model:
    """V2/V3 → aberration-corrected V2/V3 (arcsec): scale by VA_SCALE about (V2_REF, V3_REF).

    ``v' = VA_SCALE * v + (1 − VA_SCALE) * v_ref``, so the reference point stays fixed.
    A missing scale or 1 gives the identity.
    """
    if va_scale is None or va_scale == 1:
        return Identity(2, name="velocity_aberration")
    if not np.isfinite(va_scale) or va_scale <= 0:
        raise JwstLazyInputError(
            f"velocity aberration scale is {va_scale}", where="VA_SCALE", expected="a positive number"
        )
    model = (Scale(va_scale) & Scale(va_scale)) | (
        Shift((1 - va_scale) * v2_ref) & Shift((1 - va_scale) * v3_ref)
    )
    model.name = "velocity_aberration"
    return model


def v2v3_to_sky(v2_ref: float, v3_ref: float, roll_ref: float, ra_ref: float,
                dec_ref: float) -> Model:
    """V2/V3 (arcsec) → ICRS (RA, Dec) in degrees, for a pointing given by the reference point.

    (``v2_ref``, ``v3_ref``) arcsec lands on (``ra_ref``, ``dec_ref``) deg with V3 at position angle
    ``roll_ref`` deg (east of north) there: rotations about z, y, x, y, z by
    (V2_REF, −V3_REF, ROLL_REF, DEC_REF, −RA_REF) applied to unit vectors.
    """
    angles = [v2_ref / 3600.0, -v3_ref / 3600.0, roll_ref, dec_ref, -ra_ref]
    model = (
        (Scale(1 / 3600.0) & Scale(1 / 3600.0))
        | SphericalToCartesian(wrap_lon_at=180)
        | RotationSequence3D(angles, axes_order="zyxyz")
        | CartesianToSpherical(wrap_lon_at=360)
    )
    model.name = "v2v3_to_sky"
    return model
