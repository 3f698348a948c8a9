"""Telescope pointing: attitude from a target, a position angle and a dither offset (pysiaf).

Convention: the target (TARG_RA/TARG_DEC) lands at ideal coordinates (XOFFSET, YOFFSET) arcsec of the
pointing's reference aperture, with the V3 axis at position angle PA_V3. Every detector's RA_REF/
DEC_REF/ROLL_REF follow from that one attitude at its own aperture's V2Ref/V3Ref. No velocity
aberration is simulated (VA_SCALE = 1).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from jwstlazy.simulate.detectors import Detector
from jwstlazy.simulate.readout import Subarray
from jwstlazy.simulate.siaf import get_aperture


@dataclass(frozen=True)
class Pointing:
    """Target (deg), V3 position angle (deg), dither offset (arcsec, ideal frame) and its bookkeeping."""

    ra: float = 53.16
    dec: float = -27.78
    pa_v3: float = 60.0
    reference_aperture: str | None = None  #: SIAF name; None: the exposure's own aperture (APERNAME)
    xoffset: float = 0.0
    yoffset: float = 0.0
    patt_num: int = 1
    numdthpt: int = 1
    patttype: str = "NONE"


def attitude_matrix(pointing: Pointing, detector: Detector, own_aperture: str | None = None):
    """The 3x3 attitude matrix (``pysiaf.utils.rotations.attitude``) of a pointing.

    ``own_aperture`` (default: the detector's full frame) is used when the pointing names none.
    """
    from pysiaf.utils import rotations

    name = pointing.reference_aperture or own_aperture or detector.full_aperture
    reference = get_aperture(detector.siaf_instrument, name)
    v2, v3 = reference.idl_to_tel(pointing.xoffset, pointing.yoffset)
    return rotations.attitude(float(v2), float(v3), pointing.ra, pointing.dec, pointing.pa_v3)


def placed_aperture(detector: Detector, attitude):
    """The detector's full-frame SIAF aperture with ``attitude`` set (a private copy)."""
    aperture = copy.copy(get_aperture(detector.siaf_instrument, detector.full_aperture))
    aperture.set_attitude_matrix(attitude)
    return aperture


def pointing_keywords(
    pointing: Pointing, detector: Detector, subarray: Subarray, attitude
) -> dict[str, object]:
    """RA_REF, DEC_REF, ROLL_REF, V2_REF, V3_REF, V3I_YANG, VPARITY, PA_V3, RA_V1, DEC_V1, VA_SCALE,
    S_REGION ... for an exposure on ``subarray`` (reference point: the subarray aperture's when SIAF
    has one, else the full-frame aperture's)."""
    from pysiaf.utils import rotations

    full = placed_aperture(detector, attitude)
    if subarray.apername != detector.full_aperture:
        own = get_aperture(detector.siaf_instrument, subarray.apername)
        v2_ref, v3_ref = float(own.V2Ref), float(own.V3Ref)
    else:
        v2_ref, v3_ref = float(full.V2Ref), float(full.V3Ref)
    ra_ref, dec_ref = rotations.pointing(attitude, v2_ref, v3_ref)
    ra_v1, dec_v1 = rotations.pointing(attitude, 0.0, 0.0)
    roll_ref = rotations.posangle(attitude, v2_ref, v3_ref)
    x0, y0 = subarray.substrt1, subarray.substrt2
    corner_x = np.array([x0 - 0.5, x0 + subarray.subsize1 - 0.5, x0 + subarray.subsize1 - 0.5, x0 - 0.5])
    corner_y = np.array([y0 - 0.5, y0 - 0.5, y0 + subarray.subsize2 - 0.5, y0 + subarray.subsize2 - 0.5])
    ra_c, dec_c = full.sci_to_sky(corner_x, corner_y)
    polygon = " ".join(f"{r % 360.0:.9f} {d:.9f}" for r, d in zip(ra_c, dec_c))
    return {
        "RA_REF": float(ra_ref) % 360.0, "DEC_REF": float(dec_ref), "ROLL_REF": float(roll_ref) % 360.0,
        "V2_REF": v2_ref, "V3_REF": v3_ref, "V3I_YANG": float(full.V3IdlYAngle),
        "VPARITY": int(full.VIdlParity), "PA_V3": float(pointing.pa_v3) % 360.0,
        "RA_V1": float(ra_v1) % 360.0, "DEC_V1": float(dec_v1), "VA_SCALE": 1.0,
        "VA_RA": float(ra_ref) % 360.0, "VA_DEC": float(dec_ref), "RADESYS": "ICRS",
        "S_REGION": f"POLYGON ICRS  {polygon}",
        "TARG_RA": float(pointing.ra), "TARG_DEC": float(pointing.dec),
        "XOFFSET": float(pointing.xoffset), "YOFFSET": float(pointing.yoffset),
        "PATT_NUM": int(pointing.patt_num), "NUMDTHPT": int(pointing.numdthpt),
        "PATTTYPE": pointing.patttype,
    }
