"""Detector geometry and nominal electrical properties of the simulated JWST detectors.

Shapes are numpy ``(ny, nx)`` in DMS orientation (as stored in the files). Gains are e-/DN,
read noise is the CDS noise in DN, dark current is e-/s, full well is e-.
"""

from __future__ import annotations

from dataclasses import dataclass

from jwstlazy.errors import JwstLazyInputError


@dataclass(frozen=True)
class Detector:
    """One detector: names, geometry, readout directions and nominal noise/response."""

    instrument: str  #: INSTRUME keyword ("NIRCAM", "NIRISS", "NIRSPEC", "MIRI")
    name: str  #: DETECTOR keyword
    siaf_instrument: str  #: instrument name for ``pysiaf.Siaf``
    siaf_prefix: str  #: aperture-name prefix in SIAF ("NRCA1", "NRCA5", "NIS", "MIRIM")
    full_aperture: str  #: SIAF full-frame aperture name
    shape: tuple[int, int]  #: full-frame (ny, nx), reference pixels included
    fastaxis: int
    slowaxis: int
    module: str | None
    channel: str | None
    pixel_size_um: float
    gain: float  #: e-/DN
    readnoise_cds: float  #: DN, CDS
    dark_current: float  #: e-/s
    full_well: float  #: e-
    nonlinearity_at_full_well: float  #: fractional signal lost at full well (0.08 = 8 %)
    bias_level: float  #: DN
    flicker_noise: float  #: rms of 1/f noise per pixel per group, DN
    default_filter: str
    default_pupil: str
    exp_type: str  #: imaging EXP_TYPE

    @property
    def is_miri(self) -> bool:
        return self.instrument == "MIRI"

    @property
    def reference_border(self) -> int:
        """Width (pixels) of the reference-pixel border of near-IR full frames (0 for MIRI)."""
        return 0 if self.is_miri else 4

    @property
    def pixel_area_cm2(self) -> float:
        return (self.pixel_size_um * 1e-4) ** 2


def _nircam(name: str, long_wave: bool) -> Detector:
    module = name[3]
    prefix = f"NRC{module}5" if long_wave else name
    negative_fast = name in ("NRCA1", "NRCA3", "NRCALONG", "NRCB2", "NRCB4")
    return Detector(
        instrument="NIRCAM",
        name=name,
        siaf_instrument="NIRCam",
        siaf_prefix=prefix,
        full_aperture=f"{prefix}_FULL",
        shape=(2048, 2048),
        fastaxis=-1 if negative_fast else 1,
        slowaxis=2 if negative_fast else -2,
        module=module,
        channel="LONG" if long_wave else "SHORT",
        pixel_size_um=18.0,
        gain=1.82 if long_wave else 2.05,
        readnoise_cds=5.0 if long_wave else 5.5,
        dark_current=0.03 if long_wave else 0.003,
        full_well=8.0e4 if long_wave else 9.0e4,
        nonlinearity_at_full_well=0.08,
        bias_level=12000.0,
        flicker_noise=1.5,
        default_filter="F444W" if long_wave else "F200W",
        default_pupil="CLEAR",
        exp_type="NRC_IMAGE",
    )


def _build_detectors() -> dict[str, Detector]:
    detectors = {}
    for module in "AB":
        for number in "1234":
            detectors[f"NRC{module}{number}"] = _nircam(f"NRC{module}{number}", long_wave=False)
        detectors[f"NRC{module}LONG"] = _nircam(f"NRC{module}LONG", long_wave=True)
    detectors["NIS"] = Detector(
        "NIRISS", "NIS", "NIRISS", "NIS", "NIS_CEN", (2048, 2048), -2, -1, None, None, 18.0,
        gain=1.61, readnoise_cds=7.0, dark_current=0.02, full_well=7.0e4,
        nonlinearity_at_full_well=0.08, bias_level=12000.0, flicker_noise=2.0,
        default_filter="CLEAR", default_pupil="F150W", exp_type="NIS_IMAGE",
    )
    for name, fast, slow, bias in (("NRS1", 2, 1, 10000.0), ("NRS2", -2, -1, 10500.0)):
        detectors[name] = Detector(
            "NIRSPEC", name, "NIRSpec", name, f"{name}_FULL", (2048, 2048), fast, slow, None, None,
            18.0, gain=1.0, readnoise_cds=12.0, dark_current=0.008, full_well=4.5e4,
            nonlinearity_at_full_well=0.08, bias_level=bias, flicker_noise=3.0,
            default_filter="OPAQUE", default_pupil="N/A", exp_type="NRS_DARK",
        )
    detectors["MIRIMAGE"] = Detector(
        "MIRI", "MIRIMAGE", "MIRI", "MIRIM", "MIRIM_FULL", (1024, 1032), 1, 2, None, None, 25.0,
        gain=4.0, readnoise_cds=10.0, dark_current=0.2, full_well=1.9e5,
        nonlinearity_at_full_well=0.10, bias_level=8000.0, flicker_noise=0.5,
        default_filter="F770W", default_pupil="N/A", exp_type="MIR_IMAGE",
    )
    return detectors


DETECTORS: dict[str, Detector] = _build_detectors()

#: MIRI reference columns (0-based, DMS x) of the full frame: 4 on each side.
MIRI_REFERENCE_COLUMNS = (0, 1, 2, 3, 1028, 1029, 1030, 1031)


def get_detector(name: str) -> Detector:
    """Look up a detector by its DETECTOR keyword (case-insensitive)."""
    key = str(name).upper()
    if key not in DETECTORS:
        raise JwstLazyInputError(
            f"unknown detector {name!r}", where="DETECTOR", expected=f"one of {sorted(DETECTORS)}"
        )
    return DETECTORS[key]
