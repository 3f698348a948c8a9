"""The offline harness runs the official Detector1 pipeline and recovers a known linear ramp slope.

A tiny NIRCam SUB64P exposure (64x64 pixels, 5 groups, 1 integration) and its seven reference files are
written with the OFFICIAL stdatamodels; the primary header is copied from the real uncal header the jwst wheel
ships (when present). Ramps are exactly linear above a constant bias, the reference pixels sit at the bias,
linearity is the identity and the dark is zero, so the official rate must equal the simulated slope.
Measured on the 2-core dev machine: about 10 s for the module (two official runs of ~2-4 s each, plus import).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jwst")
datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")

from jwstlazy.crosscheck.official import (  # noqa: E402
    run_official_detector1,
    run_official_detector1_subprocess,
    run_official_image2_subprocess,
)

pytestmark = pytest.mark.crosscheck

NGROUPS, NY, NX = 5, 64, 64
FRAME_TIME = 0.05016  # s, NIRCam SUB64P with one output (RAPID: TGROUP = TFRAME)
BIAS_DN = 10000
REFERENCE_PIXEL_EDGE = 4  # SUB64P starts at the full-frame corner: 4 reference rows (bottom), 4 columns (left)
TEMPLATE = Path("associations/tests/data/exposures/jw01075001001_03105_00009_nrca2_uncal.fits")
DETECTOR = "NRCA2"


def increments_per_group() -> np.ndarray:
    """Known signal (DN per group) of every pixel: a pattern with different values along x and y."""
    y, x = np.mgrid[0:NY, 0:NX]
    increments = (50 + 10 * (x % 7) + 3 * (y % 5)).astype(np.float64)
    increments[:REFERENCE_PIXEL_EDGE, :] = 0  # reference pixels see no light
    increments[:, :REFERENCE_PIXEL_EDGE] = 0
    return increments


def _set_subarray_and_instrument(model) -> None:
    """The instrument/subarray keywords an exposure and its references share (subarray where the schema
    has it: area and distortion references have none)."""
    model.meta.telescope = "JWST"
    model.meta.instrument.name = "NIRCAM"
    model.meta.instrument.detector = DETECTOR
    model.meta.instrument.channel = "SHORT"
    model.meta.instrument.module = "A"
    try:
        model.meta.subarray.name = "SUB64P"
    except AttributeError:
        return
    model.meta.subarray.xstart, model.meta.subarray.ystart = 1, 1
    model.meta.subarray.xsize, model.meta.subarray.ysize = NX, NY
    model.meta.subarray.fastaxis, model.meta.subarray.slowaxis = 1, -2


def write_uncal(path: Path) -> None:
    """A Level1bModel with realistic metadata (copied from the jwst template when available)."""
    import jwst

    ramps = BIAS_DN + increments_per_group()[None, None] * np.arange(1, NGROUPS + 1)[None, :, None, None]
    model = datamodels.Level1bModel(data=ramps.astype(np.uint16))
    template = Path(jwst.__file__).parent / TEMPLATE
    if template.exists():
        with datamodels.Level1bModel(template) as header_source:
            model.update(header_source)
    _set_subarray_and_instrument(model)
    model.meta.instrument.filter, model.meta.instrument.pupil = "F200W", "CLEAR"
    model.meta.instrument.coronagraph = "NONE"
    model.meta.exposure.type = "NRC_IMAGE"
    model.meta.exposure.readpatt = "RAPID"
    model.meta.exposure.nints, model.meta.exposure.ngroups = 1, NGROUPS
    model.meta.exposure.nframes, model.meta.exposure.groupgap = 1, 0
    model.meta.exposure.frame_divisor, model.meta.exposure.nresets_at_start = 1, 1
    model.meta.exposure.frame_time = model.meta.exposure.group_time = FRAME_TIME
    model.meta.exposure.integration_time = FRAME_TIME * NGROUPS
    model.meta.exposure.effective_exposure_time = FRAME_TIME * (NGROUPS - 1)
    model.meta.exposure.duration = FRAME_TIME * NGROUPS
    model.meta.exposure.zero_frame = False
    model.meta.exposure.noutputs = 1
    model.meta.observation.date, model.meta.observation.time = "2022-05-14", "18:15:30.545"
    model.meta.aperture.name = "NRCA2_FULL"
    model.meta.filename = path.name
    model.save(path)
    model.close()


def _write_reference(model, reftype: str, path: Path) -> Path:
    """Give a reference model the CRDS selection keywords and save it."""
    _set_subarray_and_instrument(model)
    model.meta.reftype = reftype.upper()
    model.meta.useafter = "2000-01-01T00:00:00"
    model.meta.pedigree = "DUMMY"
    model.meta.description = f"tiny {reftype} for the jwstlazy crosscheck harness test"
    model.meta.author = "jwstlazy tests"
    model.meta.exposure.readpatt = "ANY"
    model.save(path)
    model.close()
    return path


def write_references(folder: Path) -> dict[str, Path]:
    """Mask, saturation, superbias, identity linearity, zero dark, gain and readnoise for the exposure."""
    shape = (NY, NX)
    dq = np.zeros(shape, np.uint32)
    reference_pixel = datamodels.dqflags.pixel["REFERENCE_PIXEL"]
    dq[:REFERENCE_PIXEL_EDGE, :] = reference_pixel
    dq[:, :REFERENCE_PIXEL_EDGE] = reference_pixel
    zeros = np.zeros(shape, np.float32)
    coeffs = np.zeros((2, *shape), np.float32)
    coeffs[1] = 1.0
    dark = datamodels.DarkModel(data=np.zeros((NGROUPS, *shape), np.float32),
                                err=np.zeros((NGROUPS, *shape), np.float32), dq=np.zeros(shape, np.uint32))
    dark.meta.exposure.nframes, dark.meta.exposure.groupgap, dark.meta.exposure.ngroups = 1, 0, NGROUPS
    models = {
        "mask": datamodels.MaskModel(dq=dq),
        "saturation": datamodels.SaturationModel(data=np.full(shape, 60000, np.float32), dq=zeros.astype(np.uint32)),
        "superbias": datamodels.SuperBiasModel(data=np.full(shape, BIAS_DN, np.float32), err=zeros,
                                               dq=zeros.astype(np.uint32)),
        "linearity": datamodels.LinearityModel(coeffs=coeffs, dq=zeros.astype(np.uint32)),
        "dark": dark,
        "gain": datamodels.GainModel(data=np.full(shape, 2.0, np.float32)),
        "readnoise": datamodels.ReadnoiseModel(data=np.full(shape, 5.0, np.float32)),
    }
    return {reftype: _write_reference(model, reftype, folder / f"tiny_nircam_{reftype}.fits")
            for reftype, model in models.items()}


@pytest.fixture(scope="module")
def exposure(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """The tiny uncal and its references, written once for the module."""
    os.environ.setdefault("CRDS_SERVER_URL", "https://localhost:1")  # stray CRDS calls fail at once
    folder = tmp_path_factory.mktemp("official_harness")
    uncal = folder / "jw99999001001_01101_00001_nrca2_uncal.fits"
    write_uncal(uncal)
    return uncal, write_references(folder)


def assert_slope_recovered(rate_path: Path) -> None:
    """The official rate equals the simulated slope on every science pixel."""
    expected = increments_per_group() / FRAME_TIME
    with datamodels.ImageModel(rate_path) as rate:
        science = (slice(REFERENCE_PIXEL_EDGE, None), slice(REFERENCE_PIXEL_EDGE, None))
        np.testing.assert_allclose(rate.data[science], expected[science], rtol=1e-4)
        assert rate.meta.cal_step.ramp_fit == "COMPLETE"
        assert rate.meta.cal_step.refpix == "COMPLETE"


@pytest.fixture(scope="module")
def detector1_result(exposure, tmp_path_factory):
    """The official Detector1 run in this process (shared by the detector1 and image2 tests)."""
    uncal, references = exposure
    return run_official_detector1(uncal, references, tmp_path_factory.mktemp("detector1"))


def test_detector1_in_process_recovers_slope(detector1_result):
    result = detector1_result
    assert result["products"]["rate"].name == "jw99999001001_01101_00001_nrca2_rate.fits"
    assert "rateints" in result["products"]
    assert_slope_recovered(result["products"]["rate"])
    assert {"dq_init", "saturation", "superbias", "refpix", "linearity", "dark_current", "jump",
            "ramp_fit"} <= set(result["step_seconds"])
    assert "ipc" not in result["step_seconds"]  # skipped by default
    assert result["pipeline_seconds"] >= sum(result["step_seconds"].values()) * 0.99
    assert "refpix" in result["references_not_applied"]  # NIRCam refpix needs none: given as "N/A"
    assert os.environ.get("CRDS_CONTEXT") is None  # the offline environment was restored


def test_detector1_subprocess_reports_times_and_memory(exposure, tmp_path):
    uncal, references = exposure
    result = run_official_detector1_subprocess(uncal, references, tmp_path / "out",
                                               step_params={"jump": {"rejection_threshold": 5.0}}, runs=2)
    assert_slope_recovered(result["products"]["rate"])  # the second run rewrote the same products
    assert len(result["later_run_seconds"]) == 1 and result["later_run_seconds"][0] > 0
    assert result["peak_rss_bytes"] > 50 * 2**20
    assert result["import_seconds"] > 0
    assert result["step_seconds"]["ramp_fit"] > 0
    log_text = result["log_path"].read_text()
    assert "CR rejection threshold = 5 sigma" in log_text
    assert "Results used CRDS context: jwst_0001.pmap" in log_text


PHOTMJSR = 0.2  # MJy/sr per DN/s
PIXAR_SR = 2.29e-14  # NIRCam short-wave pixel
PIXEL_SCALE_ARCSEC = 0.031


def rate_ready_for_image2(rate_path: Path, folder: Path) -> Path:
    """The rate plus the exposure-time and pointing keywords a real file has and image2 needs."""
    with datamodels.ImageModel(rate_path) as rate:
        exposure = rate.meta.exposure
        exposure.exposure_time = exposure.effective_exposure_time = FRAME_TIME * (NGROUPS - 1)
        exposure.measurement_time = FRAME_TIME * (NGROUPS - 1)
        exposure.duration = exposure.elapsed_exposure_time = FRAME_TIME * NGROUPS
        wcsinfo = rate.meta.wcsinfo
        wcsinfo.v2_ref, wcsinfo.v3_ref, wcsinfo.v3yangle, wcsinfo.vparity = 120.6, -527.5, 0.0, -1
        wcsinfo.ra_ref, wcsinfo.dec_ref, wcsinfo.roll_ref = 80.0, -69.5, 0.0
        rate.meta.velocity_aberration.scale_factor = 1.0
        path = folder / rate_path.name
        rate.save(path)
    return path


def write_image2_references(folder: Path) -> dict[str, Path]:
    """A linear distortion (pixels -> V2/V3 arcsec), a unit flat and area, a one-row photom table."""
    from astropy import units as u
    from astropy.modeling import models

    shape = (NY, NX)
    axis = models.Shift(-NX / 2) | models.Scale(PIXEL_SCALE_ARCSEC)
    distortion = datamodels.DistortionModel()
    distortion.model = (axis & axis) | (models.Shift(120.6) & models.Shift(-527.5))
    distortion.meta.input_units, distortion.meta.output_units = u.pix, u.arcsec
    distortion.meta.instrument.p_pupil = "CLEAR|"
    distortion.meta.exposure.type = "NRC_IMAGE"
    flat = datamodels.FlatModel(data=np.ones(shape, np.float32), err=np.zeros(shape, np.float32),
                                dq=np.zeros(shape, np.uint32))
    photom = datamodels.NrcImgPhotomModel()
    photom.phot_table = np.array([("F200W", "CLEAR", PHOTMJSR, 0.01)],
                                 dtype=[("filter", "S12"), ("pupil", "S12"), ("photmjsr", "<f4"),
                                        ("uncertainty", "<f4")])
    area = datamodels.PixelAreaModel(data=np.ones(shape, np.float32))
    for model in (photom, area):
        model.meta.photometry.pixelarea_steradians = PIXAR_SR
        model.meta.photometry.pixelarea_arcsecsq = PIXEL_SCALE_ARCSEC**2
    models_by_type = {"distortion": distortion, "flat": flat, "photom": photom, "area": area}
    return {reftype: _write_reference(model, reftype, folder / f"tiny_nircam_{reftype}.{extension}")
            for (reftype, model), extension in zip(models_by_type.items(), ("asdf", "fits", "fits", "fits"))}


def test_image2_subprocess_writes_cal_and_i2d(detector1_result, tmp_path):
    rate_path = rate_ready_for_image2(detector1_result["products"]["rate"], tmp_path)
    result = run_official_image2_subprocess(rate_path, write_image2_references(tmp_path), tmp_path / "out")
    assert set(result["products"]) == {"cal", "i2d"}
    assert {"assign_wcs", "flat_field", "photom", "resample"} <= set(result["step_seconds"])
    assert "filteroffset" in result["references_not_applied"]
    with datamodels.ImageModel(rate_path) as rate, datamodels.ImageModel(result["products"]["cal"]) as cal:
        science = (slice(REFERENCE_PIXEL_EDGE, None), slice(REFERENCE_PIXEL_EDGE, None))
        np.testing.assert_allclose(cal.data[science], rate.data[science] * PHOTMJSR, rtol=1e-5)
