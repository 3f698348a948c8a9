"""The imaging gwcs of one exposure, from its header keywords, as the official assign_wcs builds it.

Frames: ``detector`` (0-based pixels of the stored array) → ``v2v3`` (arcsec) → ``v2v3vacorr``
(arcsec, velocity aberration corrected) → ``world`` (ICRS, deg).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path

from astropy import coordinates as coord
from astropy import units as u
from astropy.modeling import Model
from astropy.modeling.models import Shift
from gwcs import WCS
from gwcs import coordinate_frames as cf

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs.distortion import read_distortion_reference, siaf_distortion
from jwstlazy.wcs.pointing import v2v3_to_sky, velocity_aberration
from jwstlazy.wcs.siaf import detector_geometry, full_frame_aperture_name

#: INSTRUME keyword → SIAF instrument name.
_SIAF_INSTRUMENTS = {"NIRCAM": "NIRCam", "NIRISS": "NIRISS", "MIRI": "MIRI", "FGS": "FGS"}

_POINTING_KEYWORDS = ("RA_REF", "DEC_REF", "ROLL_REF", "V2_REF", "V3_REF")


def _required(attrs: Mapping, keyword: str):
    """The keyword's value; JwstLazyInputError naming it when absent or blank."""
    value = attrs.get(keyword)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise JwstLazyInputError("missing keyword needed for the WCS", where=keyword,
                                 path=attrs.get("filename"))
    return value


def _number(attrs: Mapping, keyword: str, default: float | None = None) -> float:
    """A finite float keyword; ``default`` when absent (required when ``default`` is None)."""
    raw = attrs.get(keyword) if default is not None else _required(attrs, keyword)
    if raw is None:
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise JwstLazyInputError(f"value is {raw!r}", where=keyword, path=attrs.get("filename"),
                                 expected="a finite number")
    return value


def _frames() -> tuple[cf.Frame2D, cf.Frame2D, cf.Frame2D, cf.CelestialFrame]:
    """The detector, v2v3, v2v3vacorr and world frames, named and united as the official ones."""
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    v2v3 = cf.Frame2D(name="v2v3", axes_order=(0, 1), axes_names=("v2", "v3"),
                      unit=(u.arcsec, u.arcsec))
    v2v3vacorr = cf.Frame2D(name="v2v3vacorr", axes_order=(0, 1), axes_names=("v2", "v3"),
                            unit=(u.arcsec, u.arcsec))
    world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    return detector, v2v3, v2v3vacorr, world


def _check_instrument(attrs: Mapping, detector: str) -> None:
    instrument = str(_required(attrs, "INSTRUME")).strip().upper()
    siaf_instrument, _ = full_frame_aperture_name(detector)
    if _SIAF_INSTRUMENTS.get(instrument) != siaf_instrument:
        raise JwstLazyInputError(
            f"instrument {instrument!r} does not own detector {detector!r}", where="INSTRUME",
            path=attrs.get("filename"), expected=siaf_instrument.upper(),
        )


def _subarray_offset(attrs: Mapping) -> Model | None:
    """Stored-array pixels → full-frame pixels: Shift(SUBSTRT − 1) per axis; None for full frame."""
    xstart = _number(attrs, "SUBSTRT1", default=1.0)
    ystart = _number(attrs, "SUBSTRT2", default=1.0)
    if xstart == 1 and ystart == 1:
        return None
    return Shift(xstart - 1) & Shift(ystart - 1)


def _array_shape(attrs: Mapping, detector: str) -> tuple[int, int]:
    """(ny, nx) of the stored array: SUBSIZE2/1, else the full-frame aperture size."""
    if attrs.get("SUBSIZE1") is not None and attrs.get("SUBSIZE2") is not None:
        return int(_number(attrs, "SUBSIZE2")), int(_number(attrs, "SUBSIZE1"))
    geometry = detector_geometry(detector)
    return geometry.y_sci_size, geometry.x_sci_size


@functools.lru_cache(maxsize=None)
def _siaf_detector_distortion(detector: str) -> Model:
    """The SIAF distortion of a detector, built once per process (callers get copies)."""
    return siaf_distortion(detector_geometry(detector))


def detector_to_v2v3(attrs: Mapping, distortion_path: str | os.PathLike | None = None) -> Model:
    """Stored-array pixels (0-based) → V2/V3 (arcsec): subarray offset, then the distortion.

    The distortion comes from the DISTORTION reference file when given, else from the SIAF
    full-frame aperture of DETECTOR.
    """
    detector = str(_required(attrs, "DETECTOR")).strip().upper()
    if distortion_path is not None:
        distortion = read_distortion_reference(distortion_path)
    else:
        distortion = _siaf_detector_distortion(detector).copy()
    offset = _subarray_offset(attrs)
    return distortion if offset is None else offset | distortion


def imaging_wcs(attrs: Mapping, distortion_path: str | os.PathLike | Path | None = None) -> WCS:
    """The gwcs of an imaging exposure from its header keywords.

    Needs INSTRUME, DETECTOR, RA_REF, DEC_REF (deg), ROLL_REF (deg), V2_REF, V3_REF (arcsec); uses
    SUBSTRT1/2 (1-based, default 1), SUBSIZE1/2 (default: full frame) and VA_SCALE (default 1)
    when present. APERNAME is not needed: the pointing keywords already refer to it.
    Raises :class:`JwstLazyInputError` naming the first missing or bad keyword.
    """
    detector = str(_required(attrs, "DETECTOR")).strip().upper()
    _check_instrument(attrs, detector)
    ra_ref, dec_ref, roll_ref, v2_ref, v3_ref = (_number(attrs, k) for k in _POINTING_KEYWORDS)
    va_scale = _number(attrs, "VA_SCALE", default=1.0)

    detector_frame, v2v3_frame, v2v3vacorr_frame, world_frame = _frames()
    pipeline = [
        (detector_frame, detector_to_v2v3(attrs, distortion_path)),
        (v2v3_frame, velocity_aberration(va_scale, v2_ref, v3_ref)),
        (v2v3vacorr_frame, v2v3_to_sky(v2_ref, v3_ref, roll_ref, ra_ref, dec_ref)),
        (world_frame, None),
    ]
    wcs = WCS(pipeline)
    ny, nx = _array_shape(attrs, detector)
    wcs.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    wcs.pixel_shape = (nx, ny)
    return wcs
