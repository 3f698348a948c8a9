"""Photometric properties of the simulated filters (representative values, not the flight calibration).

Conversion used everywhere in the simulator and written to the photom reference:
a surface brightness ``S`` (MJy/sr) gives ``S / PHOTMJSR`` DN/s per pixel of nominal area (``PIXAR_SR``),
so a point source of flux density ``F`` (uJy) gives ``F * 1e-12 / (PHOTMJSR * PIXAR_SR)`` DN/s in total,
before the flat-field response. The PSF FWHM is the diffraction value ``1.03 lambda / D`` (D = 6.5 m).
"""

from __future__ import annotations

from dataclasses import dataclass

from jwstlazy.errors import JwstLazyInputError

UJY_TO_MJY = 1e-12
_ARCSEC_PER_MICRON = 1.03 * 1e-6 / 6.5 * 206264.806


@dataclass(frozen=True)
class Filter:
    """One imaging filter: pivot wavelength (um), PHOTMJSR (MJy/sr per DN/s), sky (MJy/sr)."""

    name: str
    pivot_um: float
    photmjsr: float
    sky_mjysr: float

    @property
    def psf_fwhm_arcsec(self) -> float:
        return _ARCSEC_PER_MICRON * self.pivot_um


_TABLE = {
    # NIRCam short wave
    "F070W": (0.704, 0.50, 0.08), "F090W": (0.901, 0.36, 0.10), "F115W": (1.154, 0.30, 0.11),
    "F150W": (1.501, 0.24, 0.12), "F200W": (1.990, 0.21, 0.13), "F182M": (1.845, 0.55, 0.13),
    "F210M": (2.093, 0.62, 0.13),
    # NIRCam long wave / NIRISS
    "F277W": (2.786, 0.13, 0.18), "F356W": (3.563, 0.12, 0.22), "F444W": (4.421, 0.15, 0.35),
    "F335M": (3.365, 0.36, 0.20), "F410M": (4.092, 0.30, 0.30),
    # MIRI
    "F560W": (5.635, 0.60, 2.0), "F770W": (7.639, 0.25, 6.0), "F1000W": (9.953, 0.70, 20.0),
    "F1130W": (11.309, 2.50, 30.0), "F1280W": (12.810, 0.90, 40.0), "F1500W": (15.064, 0.90, 55.0),
    "F1800W": (17.984, 1.60, 90.0), "F2100W": (20.795, 1.00, 150.0), "F2550W": (25.365, 3.60, 300.0),
}


def photometric_filter(filter_name: str, pupil: str | None = None) -> Filter:
    """The filter that sets the bandpass: FILTER, or PUPIL when FILTER is CLEAR (NIRISS imaging)."""
    name = str(filter_name).upper()
    if name in ("CLEAR", "CLEARP") and pupil:
        name = str(pupil).upper()
    if name not in _TABLE:
        raise JwstLazyInputError(
            f"no photometric data for filter {filter_name!r} (pupil {pupil!r})", where="FILTER",
            expected=f"one of {sorted(_TABLE)}",
        )
    return Filter(name, *_TABLE[name])


def known_filters() -> list[str]:
    return sorted(_TABLE)
