"""Aperture geometry from the SIAF (Science Instrument Aperture File), read with pysiaf.

pysiaf ships every SIAF XML offline. Its import makes an online "is the PRD current?" check
(``requests.get`` with no timeout); :func:`import_pysiaf` imports it with that check short-circuited
so that an offline or firewalled machine never waits on it.

Frames (SIAF conventions, JWST-STScI-001550):

- *sci*: 1-based science pixels in DMS orientation (what the FITS files store), full frame.
- *idl*: ideal frame, arcsec, origin at the aperture reference point.
- *tel*: V2/V3, arcsec.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Iterator

from jwstlazy.errors import JwstLazyInputError

#: DETECTOR keyword → (SIAF instrument name, full-frame aperture of that detector).
DETECTOR_APERTURES: dict[str, tuple[str, str]] = {
    **{f"NRC{m}{n}": ("NIRCam", f"NRC{m}{n}_FULL") for m in "AB" for n in "1234"},
    "NRCALONG": ("NIRCam", "NRCA5_FULL"),
    "NRCBLONG": ("NIRCam", "NRCB5_FULL"),
    "NIS": ("NIRISS", "NIS_CEN"),
    "MIRIMAGE": ("MIRI", "MIRIM_FULL"),
    "GUIDER1": ("FGS", "FGS1_FULL"),
    "GUIDER2": ("FGS", "FGS2_FULL"),
}

_import_lock = threading.Lock()


class _OfflineError(ConnectionError):
    """Raised in place of pysiaf's online PRD-version request."""


@contextlib.contextmanager
def _no_online_version_check() -> Iterator[None]:
    """Make ``requests.get`` fail at once and silence pysiaf's resulting warning."""
    import requests

    def refuse(*args, **kwargs):
        raise _OfflineError("jwstlazy imports pysiaf offline")

    original_get = requests.get
    pysiaf_logger = logging.getLogger("pysiaf")
    original_level = pysiaf_logger.level
    requests.get = refuse
    pysiaf_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        requests.get = original_get
        pysiaf_logger.setLevel(original_level)


def import_pysiaf() -> ModuleType:
    """Import pysiaf without its online PRD-version check; returns the module."""
    with _import_lock:
        if "pysiaf" in sys.modules:
            return sys.modules["pysiaf"]
        with _no_online_version_check():
            import pysiaf
    return pysiaf


@functools.lru_cache(maxsize=None)
def _siaf(instrument: str):
    """The pysiaf ``Siaf`` collection of one instrument (parsed once per process)."""
    return import_pysiaf().Siaf(instrument)


def siaf_aperture(instrument: str, aperture_name: str):
    """The pysiaf aperture ``aperture_name`` of SIAF ``instrument`` (e.g. ``"NIRCam"``)."""
    siaf = _siaf(instrument)
    if aperture_name not in siaf.apernames:
        raise JwstLazyInputError(
            f"aperture {aperture_name!r} is not in the {instrument} SIAF", where="APERNAME"
        )
    return siaf[aperture_name]


def full_frame_aperture_name(detector: str) -> tuple[str, str]:
    """(SIAF instrument, full-frame aperture name) for a DETECTOR keyword value."""
    key = detector.strip().upper()
    if key not in DETECTOR_APERTURES:
        raise JwstLazyInputError(
            f"no imaging geometry for detector {detector!r}",
            where="DETECTOR",
            expected="one of " + ", ".join(DETECTOR_APERTURES),
        )
    return DETECTOR_APERTURES[key]


@dataclass(frozen=True)
class ApertureGeometry:
    """The SIAF numbers that define sci ↔ V2/V3 for one aperture (plain floats, picklable).

    Coefficient dicts use astropy ``Polynomial2D`` names: ``c{p}_{q}`` multiplies x**p * y**q,
    with x, y in sci pixels relative to (``x_sci_ref``, ``y_sci_ref``).
    """

    name: str
    x_sci_ref: float  #: reference point, 1-based sci pixels
    y_sci_ref: float
    x_sci_size: int  #: aperture size, pixels
    y_sci_size: int
    v2_ref: float  #: reference point in V2/V3, arcsec
    v3_ref: float
    v3_idl_y_angle: float  #: angle from V3 to the ideal Y axis, deg
    vidl_parity: int  #: ideal X axis parity relative to V2 (+1 or −1)
    degree: int
    sci_to_idl_x: dict[str, float]  #: sci offset (pix) → ideal X (arcsec)
    sci_to_idl_y: dict[str, float]
    idl_to_sci_x: dict[str, float]  #: ideal (arcsec) → sci offset (pix)
    idl_to_sci_y: dict[str, float]


def _polynomial_coefficients(aperture, seed: str) -> dict[str, float]:
    """SIAF ``<seed>{i}{j}`` (term x**(i−j) y**j) as Polynomial2D ``c{i−j}_{j}``."""
    degree = int(aperture.Sci2IdlDeg)
    return {
        f"c{i - j}_{j}": float(getattr(aperture, f"{seed}{i}{j}"))
        for i in range(degree + 1)
        for j in range(i + 1)
    }


@functools.lru_cache(maxsize=None)
def aperture_geometry(instrument: str, aperture_name: str) -> ApertureGeometry:
    """The :class:`ApertureGeometry` of one SIAF aperture (cached)."""
    aperture = siaf_aperture(instrument, aperture_name)
    return ApertureGeometry(
        name=aperture_name,
        x_sci_ref=float(aperture.XSciRef),
        y_sci_ref=float(aperture.YSciRef),
        x_sci_size=int(aperture.XSciSize),
        y_sci_size=int(aperture.YSciSize),
        v2_ref=float(aperture.V2Ref),
        v3_ref=float(aperture.V3Ref),
        v3_idl_y_angle=float(aperture.V3IdlYAngle),
        vidl_parity=int(aperture.VIdlParity),
        degree=int(aperture.Sci2IdlDeg),
        sci_to_idl_x=_polynomial_coefficients(aperture, "Sci2IdlX"),
        sci_to_idl_y=_polynomial_coefficients(aperture, "Sci2IdlY"),
        idl_to_sci_x=_polynomial_coefficients(aperture, "Idl2SciX"),
        idl_to_sci_y=_polynomial_coefficients(aperture, "Idl2SciY"),
    )


def detector_geometry(detector: str) -> ApertureGeometry:
    """The full-frame :class:`ApertureGeometry` of a DETECTOR keyword value (e.g. ``"NRCA1"``)."""
    return aperture_geometry(*full_frame_aperture_name(detector))
