"""CRDS-format reference files describing a simulated detector exactly.

Everything comes from :func:`~jwstlazy.simulate.calibration.detector_calibration` (same detector,
same calibration seed as the exposures):
- mask: DQ (reference pixels REFERENCE_PIXEL only; hot/dead DO_NOT_USE; WARM, LOW_QE);
- saturation: SCI raw DN, bias included (compared before superbias subtraction), DQ;
- superbias: SCI = the per-pixel bias (DN), ERR, DQ;
- linearity: COEFFS (6, ny, nx) acting on bias-free DN (near-IR; MIRI: on raw DN, bias included, as
  MIRI's pipeline has no superbias step), DQ;
- dark: SCI (nframes, ny, nx) DN with NFRAMES=1, GROUPGAP=0 and this subarray's TFRAME (MIRI: 4-D
  (1, nframes, ny, nx)), ERR, DQ;
- gain (e-/DN), readnoise (CDS DN), flat (SCI, ERR, DQ; FILTER/PUPIL 'ANY': the response does not
  depend on the filter), area (SCI relative pixel area; PIXAR_SR, PIXAR_A2), photom (PHOTOM table);
- distortion (ASDF, from SIAF); MIRI also emicorr (ASDF, the simulated EMI lines of
  :mod:`jwstlazy.simulate.emi`, one file for all MIRI detectors and subarrays).
Files are full frame (SUBARRAY='FULL') by default; ``subarray=`` writes them cut to that subarray
(SUBARRAY, SUBSTRT1/2, SUBSIZE1/2 set), as CRDS does for many subarray references.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from jwstlazy.datamodels import dqflags
from jwstlazy.references.crds_format import write_reference_file
from jwstlazy.simulate.calibration import DetectorCalibration, detector_calibration
from jwstlazy.simulate.detectors import Detector, get_detector
from jwstlazy.simulate.emi import write_simulated_emicorr_reference
from jwstlazy.simulate.filters import known_filters, photometric_filter
from jwstlazy.simulate.readout import READOUT_PATTERNS, frame_time, resolve_subarray
from jwstlazy.wcs.siaf import DETECTOR_APERTURES

USEAFTER = "2022-01-01T00:00:00"
_PHOTOM_UNCERTAINTY = 0.01  # relative
_NIRISS_PUPIL_FILTERS = ("F090W", "F115W", "F150W", "F200W")


def _shifted_coefficients(coeffs: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Coefficients c' with ``sum c'_i V^i = b + sum c_i (V - b)^i`` (polynomial in raw DN V)."""
    c = coeffs.astype(np.float64)
    b = bias.astype(np.float64)
    out = np.zeros_like(c)
    for i in range(c.shape[0]):
        for k in range(i + 1):
            out[k] += c[i] * math.comb(i, k) * (-b) ** (i - k)
    out[0] += b
    return out.astype(np.float32)


def _photom_table(det: Detector) -> dict[str, np.ndarray]:
    """PHOTOM rows for every filter of the detector's wavelength range (MIRI: above 5 um)."""
    bands = [photometric_filter(name) for name in known_filters()]
    bands = [band for band in bands if (band.pivot_um > 5.0) == det.is_miri]
    values = np.array([band.photmjsr for band in bands], np.float32)
    columns: dict[str, np.ndarray] = {}
    if det.is_miri:
        columns["filter"] = np.array([band.name for band in bands], dtype="U12")
        columns["subarray"] = np.full(len(bands), "GENERIC", dtype="U15")
    else:
        niriss_pupil = det.instrument == "NIRISS"
        pairs = [("CLEAR", b.name) if niriss_pupil and b.name in _NIRISS_PUPIL_FILTERS
                 else (b.name, "CLEARP" if niriss_pupil else "CLEAR") for b in bands]
        columns["filter"] = np.array([f for f, _ in pairs], dtype="U12")
        columns["pupil"] = np.array([p for _, p in pairs], dtype="U12")
        columns["order"] = np.zeros(len(bands), np.int16)
    columns["photmjsr"] = values
    columns["uncertainty"] = values * np.float32(_PHOTOM_UNCERTAINTY)
    return columns


def write_reference_files(
    detector: str,
    outdir: str | Path,
    calibration_seed: int = 0,
    subarray: str | int = "FULL",
    dark_frames: int = 20,
    dark_readpatt: str | None = None,
) -> dict[str, Path]:
    """Write mask, saturation, superbias, linearity, dark, gain, readnoise, flat, area, photom, distortion
    (and emicorr for MIRI).

    ``dark_frames``: frames in the dark (at least the frames per integration of any exposure it serves,
    ``ngroups * (nframes + groupgap) - groupgap``); ``dark_readpatt`` sets its TFRAME for MIRI SLOW.
    Returns {reftype: path}; names are ``jwst_<instrument>_<reftype>_<detector>[_<subarray>].fits``.
    """
    det = get_detector(detector)
    sub = resolve_subarray(det, subarray)
    cal = detector_calibration(det.name, calibration_seed)
    outdir = Path(outdir)
    sl = sub.slices
    suffix = "" if sub.name == "FULL" else f"_{sub.name.lower()}"
    base = {"USEAFTER": USEAFTER, "PEDIGREE": "DUMMY", "AUTHOR": "jwstlazy.simulate",
            "INSTRUME": det.instrument, "DETECTOR": det.name, "SUBARRAY": sub.name,
            "SUBSTRT1": sub.substrt1, "SUBSTRT2": sub.substrt2, "SUBSIZE1": sub.subsize1,
            "SUBSIZE2": sub.subsize2, "CALSEED": calibration_seed}
    zeros_dq = np.zeros(sub.shape, dtype=np.uint32)
    readpatt = (dark_readpatt or ("FAST" if det.is_miri else "RAPID")).upper()
    tframe = frame_time(det, sub, readpatt if readpatt in READOUT_PATTERNS else "RAPID")
    written: dict[str, Path] = {}

    def write(reftype: str, descrip: str, arrays: dict, tables: dict | None = None, **extra) -> None:
        path = outdir / f"jwst_{det.instrument.lower()}_{reftype}_{det.name.lower()}{suffix}.fits"
        header = {**base, "DESCRIP": descrip, **extra}
        written[reftype] = write_reference_file(path, reftype, header, arrays, tables)

    def cut(array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array[..., sl[0], sl[1]])

    write("mask", "Simulated bad-pixel mask", {"DQ": cut(cal.mask)})
    write("saturation", "Simulated saturation (raw DN, bias included)",
          {"SCI": (cut(cal.saturation), {"BUNIT": "DN"}), "DQ": zeros_dq})
    write("superbias", "Simulated superbias",
          {"SCI": (cut(cal.bias), {"BUNIT": "DN"}), "ERR": np.full(sub.shape, 1.0, np.float32), "DQ": zeros_dq})
    coeffs = cal.linearity_coefficients()
    if det.is_miri:
        coeffs = _shifted_coefficients(coeffs, cal.bias)
    write("linearity", "Simulated classical non-linearity", {"COEFFS": cut(coeffs), "DQ": zeros_dq})
    write_dark(det, cal, write, cut, dark_frames, tframe, readpatt)
    write("gain", "Simulated gain", {"SCI": (cut(cal.gain), {"BUNIT": "electrons/DN"})})
    write("readnoise", "Simulated CDS read noise", {"SCI": (cut(cal.readnoise), {"BUNIT": "DN"})})
    flat_dq = np.where(cal.response == 0, dqflags.NO_FLAT_FIELD, 0).astype(np.uint32)
    flat_dq[cal.reference] = 0
    write("flat", "Simulated pixel flat", {"SCI": cut(cal.flat), "ERR": np.full(sub.shape, 0.005, np.float32),
                                           "DQ": cut(flat_dq)}, FILTER="ANY", PUPIL="ANY")
    pixar = {"PIXAR_SR": cal.pixar_sr, "PIXAR_A2": cal.pixar_a2}
    write("area", "Simulated relative pixel area", {"SCI": cut(cal.area)}, **pixar)
    write("photom", "Simulated photometric calibration", {}, {"PHOTOM": _photom_table(det)}, **pixar)
    if det.name in DETECTOR_APERTURES:  # imaging detectors; NIRSpec's spectral WCS is not built here
        written["distortion"] = _write_distortion(det, outdir)
    if det.is_miri:
        written["emicorr"] = _write_emicorr(outdir)
    return written


def _write_emicorr(outdir: Path) -> Path:
    """The EMICORR reference (ASDF) of the simulated EMI lines; one for every MIRI detector and subarray."""
    path = outdir / "jwst_miri_emicorr.asdf"
    if not path.exists():
        write_simulated_emicorr_reference(path)
    return path


def _write_distortion(det: Detector, outdir: Path) -> Path:
    """The DISTORTION reference (ASDF) from the detector's SIAF polynomials, as CRDS distributes one."""
    from jwstlazy.wcs.distortion import siaf_distortion, write_distortion_reference
    from jwstlazy.wcs.siaf import detector_geometry

    path = outdir / f"jwst_{det.instrument.lower()}_distortion_{det.name.lower()}.asdf"
    if not path.exists():  # one per detector, whatever the subarray
        write_distortion_reference(path, siaf_distortion(detector_geometry(det.name)), det.instrument, det.name)
    return path


def write_dark(det: Detector, cal: DetectorCalibration, write, cut, nframes: int, tframe: float,
               readpatt: str) -> None:
    """The dark reference: NFRAMES=1, GROUPGAP=0 frames of this subarray's TFRAME."""
    sci = cal.dark_ramp(tframe, nframes, cut)
    err = np.full(sci.shape, 0.01, np.float32)
    dq = np.zeros(sci.shape[-2:], np.uint32)
    if det.is_miri:
        sci, err, dq = sci[None], err[None], dq[None, None]
    write("dark", "Simulated dark current", {"SCI": (sci, {"BUNIT": "DN"}), "ERR": err, "DQ": dq},
          NFRAMES=1, GROUPGAP=0, NGROUPS=nframes, NINTS=1, TFRAME=tframe, READPATT="ANY")
