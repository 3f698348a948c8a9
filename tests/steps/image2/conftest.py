"""A tiny synthetic NIRCam imaging exposure for the image2 tests: a `_rate.fits` with stars of known flux
density, and the DISTORTION (SIAF), FLAT, PHOTOM and AREA references that calibrate it.

Files are written with the OFFICIAL stdatamodels so that the official image2 can run on the same inputs.
Truth: surface brightness S (MJy/sr) = stars on a flat sky; rate = S / PHOTMJSR × flat (DN/s).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")

from jwstlazy.wcs import detector_geometry, imaging_wcs, siaf_distortion, write_distortion_reference  # noqa: E402
from jwstlazy.wcs.siaf import siaf_aperture  # noqa: E402

DETECTOR, APERTURE = "NRCA2", "NRCA2_FULL"
NY, NX = 80, 96  # y, x of the subarray (different, to catch swapped axes)
XSTART, YSTART = 1025, 1001  # 1-based subarray origin on the detector
PHOTMJSR = 0.25  # (MJy/sr) per (DN/s)
SKY_MJYSR = 0.05
RA_REF, DEC_REF, ROLL_REF = 53.16, -27.79, 251.3
EXPOSURE_TIME = 100.0  # s
STARS = ((30.3, 40.6, 1.2e-5), (70.8, 25.2, 6.0e-6))  # (x, y, flux density MJy) in 0-based pixels
PSF_SIGMA = 1.1  # pixels
FLAGGED_FLAT = {"nan": (5, 7), "zero": (6, 8), "no_flat": (7, 9)}  # name -> (y, x)


@dataclass
class Exposure:
    """Paths of the rate file and its references, and the truth used to build them."""

    rate: Path
    references: dict[str, Path]
    flat: np.ndarray
    flat_err: np.ndarray
    rate_sci: np.ndarray
    pixar_sr: float
    photmjsr: float = PHOTMJSR
    sky: float = SKY_MJYSR
    stars: tuple = STARS
    flagged_flat: dict = dataclasses.field(default_factory=lambda: dict(FLAGGED_FLAT))

    @staticmethod
    def full_frame_area() -> np.ndarray:
        return full_frame_area()


def _pointing() -> dict:
    aperture = siaf_aperture("NIRCam", APERTURE)
    return dict(V2_REF=aperture.V2Ref, V3_REF=aperture.V3Ref, V3I_YANG=aperture.V3IdlYAngle,
                VPARITY=aperture.VIdlParity, RA_REF=RA_REF, DEC_REF=DEC_REF, ROLL_REF=ROLL_REF, VA_SCALE=1.0)


def _header_attrs() -> dict:
    return dict(INSTRUME="NIRCAM", DETECTOR=DETECTOR, SUBSTRT1=XSTART, SUBSTRT2=YSTART,
                SUBSIZE1=NX, SUBSIZE2=NY, **_pointing())


def _pixel_area_sr() -> float:
    """The true pixel area (sr) at the subarray centre, from the SIAF WCS."""
    wcs = imaging_wcs(_header_attrs())
    x, y = (NX - 1) / 2, (NY - 1) / 2
    ra, dec = wcs([x - 0.5, x + 0.5, x - 0.5], [y - 0.5, y - 0.5, y + 0.5])
    cos_dec = np.cos(np.deg2rad(dec[0]))
    ex = np.array([(ra[1] - ra[0]) * cos_dec, dec[1] - dec[0]])
    ey = np.array([(ra[2] - ra[0]) * cos_dec, dec[2] - dec[0]])
    return float(abs(ex[0] * ey[1] - ex[1] * ey[0]) * np.deg2rad(1.0) ** 2)


def surface_brightness(pixar_sr: float) -> np.ndarray:
    """Truth (NY, NX) in MJy/sr: Gaussian stars (pixel-integrated) on a flat sky."""
    from scipy.special import erf

    image = np.full((NY, NX), SKY_MJYSR)
    edges_x, edges_y = np.arange(NX + 1) - 0.5, np.arange(NY + 1) - 0.5
    for x, y, flux in STARS:
        fx = np.diff(0.5 * (1 + erf((edges_x - x) / (np.sqrt(2) * PSF_SIGMA))))
        fy = np.diff(0.5 * (1 + erf((edges_y - y) / (np.sqrt(2) * PSF_SIGMA))))
        image += np.outer(fy, fx) * flux / pixar_sr
    return image


def full_frame_area() -> np.ndarray:
    """(2048, 2048) relative pixel area: a gentle gradient along x."""
    return np.broadcast_to((1 + 1e-5 * (np.arange(2048) - 1024)).astype(np.float32), (2048, 2048)).copy()


def _set_common(model, subarray: bool = True) -> None:
    model.meta.telescope = "JWST"
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = DETECTOR
    model.meta.instrument.channel, model.meta.instrument.module = "SHORT", "A"
    model.meta.instrument.filter, model.meta.instrument.pupil = "F200W", "CLEAR"
    model.meta.exposure.type = "NRC_IMAGE"
    if subarray:
        model.meta.subarray.name = "SUB160"
        model.meta.subarray.xstart, model.meta.subarray.ystart = XSTART, YSTART
        model.meta.subarray.xsize, model.meta.subarray.ysize = NX, NY
        model.meta.subarray.fastaxis, model.meta.subarray.slowaxis = -1, 2


def _write_rate(path: Path, sci: np.ndarray, pixar_sr: float) -> None:
    rng = np.random.default_rng(7)
    var_poisson = np.abs(sci) / EXPOSURE_TIME
    var_rnoise = np.full(sci.shape, 2e-4) * (1 + 0.1 * rng.random(sci.shape))
    dq = np.zeros(sci.shape, np.uint32)
    dq[10, 11] = datamodels.dqflags.pixel["HOT"]  # kept by resample
    dq[12, 13] = datamodels.dqflags.pixel["DO_NOT_USE"] | datamodels.dqflags.pixel["DEAD"]
    sci = sci.astype(np.float32)
    sci[12, 13] = np.nan
    model = datamodels.ImageModel(data=sci, err=np.sqrt(var_poisson + var_rnoise).astype(np.float32), dq=dq,
                                  var_poisson=var_poisson.astype(np.float32),
                                  var_rnoise=var_rnoise.astype(np.float32))
    _set_common(model)
    exposure = model.meta.exposure
    exposure.readpatt, exposure.nints, exposure.ngroups, exposure.nframes = "BRIGHT1", 1, 10, 1
    exposure.start_time, exposure.mid_time, exposure.end_time = 59800.0, 59800.0006, 59800.0012
    exposure.exposure_time = exposure.effective_exposure_time = exposure.measurement_time = EXPOSURE_TIME
    exposure.duration = exposure.elapsed_exposure_time = EXPOSURE_TIME + 10
    exposure.integration_time = EXPOSURE_TIME
    model.meta.observation.date, model.meta.observation.time = "2022-08-20", "12:00:00.000"
    model.meta.aperture.name = APERTURE
    pointing = _pointing()
    wcsinfo = model.meta.wcsinfo
    wcsinfo.v2_ref, wcsinfo.v3_ref = pointing["V2_REF"], pointing["V3_REF"]
    wcsinfo.v3yangle, wcsinfo.vparity = pointing["V3I_YANG"], pointing["VPARITY"]
    wcsinfo.ra_ref, wcsinfo.dec_ref, wcsinfo.roll_ref = RA_REF, DEC_REF, ROLL_REF
    model.meta.velocity_aberration.scale_factor = 1.0
    model.meta.filename = path.name
    model.save(path)
    model.close()


def _save_reference(model, reftype: str, path: Path, subarray: bool = True) -> Path:
    _set_common(model, subarray)
    model.meta.reftype = reftype.upper()
    model.meta.useafter = "2000-01-01T00:00:00"
    model.meta.pedigree, model.meta.author = "DUMMY", "jwstlazy tests"
    model.meta.description = f"tiny {reftype} for the image2 tests"
    model.save(path)
    model.close()
    return path


def _write_references(folder: Path, flat: np.ndarray, flat_err: np.ndarray, flat_dq: np.ndarray,
                      pixar_sr: float) -> dict[str, Path]:
    shape = (NY, NX)
    photom = datamodels.NrcImgPhotomModel()
    photom.phot_table = np.array(
        [("F200W", "CLEAR", PHOTMJSR, 0.01), ("F150W", "CLEAR", 0.4, 0.01), ("F200W", "MASKBAR", 0.3, 0.01)],
        dtype=[("filter", "S12"), ("pupil", "S12"), ("photmjsr", "<f4"), ("uncertainty", "<f4")])
    area = datamodels.PixelAreaModel(data=full_frame_area())
    for model in (photom, area):
        model.meta.photometry.pixelarea_steradians = pixar_sr
        model.meta.photometry.pixelarea_arcsecsq = pixar_sr * (180 * 3600 / np.pi) ** 2
    references = {
        "flat": _save_reference(datamodels.FlatModel(data=flat, err=flat_err, dq=flat_dq), "flat",
                                folder / "tiny_flat.fits"),
        "photom": _save_reference(photom, "photom", folder / "tiny_photom.fits", subarray=False),
        "area": _save_reference(area, "area", folder / "tiny_area.fits", subarray=False),  # full frame, as jwst needs
    }
    references["distortion"] = write_distortion_reference(
        folder / "tiny_distortion.asdf", siaf_distortion(detector_geometry(DETECTOR)), "NIRCAM", DETECTOR,
        exp_type="NRC_IMAGE", pupil="CLEAR")
    return references


@pytest.fixture(scope="session")
def exposure(tmp_path_factory) -> Exposure:
    """The rate file, its four references and the truth (written once per test session)."""
    return write_exposure(tmp_path_factory.mktemp("image2_exposure"))


def write_exposure(folder: Path) -> Exposure:
    """Write the rate file and its references into ``folder``; return their paths and the truth."""
    rng = np.random.default_rng(3)
    flat = (1 + 0.05 * rng.standard_normal((NY, NX))).astype(np.float32)
    flat_err = (0.01 * rng.random((NY, NX))).astype(np.float32)
    flat_dq = np.zeros((NY, NX), np.uint32)
    flat[FLAGGED_FLAT["nan"]] = np.nan
    flat[FLAGGED_FLAT["zero"]] = 0.0
    flat_dq[FLAGGED_FLAT["no_flat"]] = datamodels.dqflags.pixel["NO_FLAT_FIELD"]
    flat_dq[3, 4] = datamodels.dqflags.pixel["UNRELIABLE_FLAT"]
    pixar_sr = _pixel_area_sr()
    rate_sci = (surface_brightness(pixar_sr) / PHOTMJSR * np.where(np.isfinite(flat) & (flat > 0), flat, 1.0))
    rate = folder / "jw99999001001_01101_00001_nrca2_rate.fits"
    _write_rate(rate, rate_sci, pixar_sr)
    references = _write_references(folder, flat, flat_err, flat_dq, pixar_sr)
    return Exposure(rate, references, flat, flat_err, rate_sci.astype(np.float32), pixar_sr)
