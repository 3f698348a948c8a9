"""CRDS-format reference files (jwstlazy.references.crds_format) written by the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from jwstlazy.datamodels import dqflags
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.references.crds_format import write_reference_file
from jwstlazy.simulate import write_reference_files
from jwstlazy.simulate.calibration import SATURATION_FRACTION, detector_calibration
from jwstlazy.simulate.detectors import get_detector
from jwstlazy.simulate.readout import frame_time, resolve_subarray


def horner(coeffs: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros_like(values)
    for c in coeffs[::-1]:
        out = out * values + c
    return out


@pytest.fixture(scope="module")
def nircam_refs(tmp_path_factory):
    out = tmp_path_factory.mktemp("refs")
    return write_reference_files("NRCA1", out, subarray="SUB160", dark_frames=5)


def test_layout_and_keywords(nircam_refs) -> None:
    assert set(nircam_refs) == {"mask", "saturation", "superbias", "linearity", "dark", "gain", "readnoise",
                                "flat", "area", "photom", "distortion"}
    assert nircam_refs.pop("distortion").suffix == ".asdf"  # read by jwstlazy.wcs, checked in tests/wcs
    for reftype, path in nircam_refs.items():
        with fits.open(path) as hdul:
            primary = hdul[0]
            assert primary.data is None
            head = primary.header
            assert head["REFTYPE"] == reftype.upper()
            for key in ("USEAFTER", "PEDIGREE", "DESCRIP", "AUTHOR", "INSTRUME", "DETECTOR", "SUBARRAY"):
                assert head[key]
            assert (head["SUBARRAY"], head["SUBSTRT1"], head["SUBSTRT2"]) == ("SUB160", 1889, 1889)
            names = [h.name for h in hdul]
            assert ("DQ_DEF" in names) == ("DQ" in names)


def test_mask_flags_reference_pixels_only_as_reference(nircam_refs) -> None:
    dq = fits.getdata(nircam_refs["mask"], "DQ")
    ref = np.zeros(dq.shape, bool)
    ref[-4:, :] = True  # SUB160 at (1889, 1889): top rows and right columns 2044-2047
    ref[:, -4:] = True
    assert np.all(dq[ref] == dqflags.REFERENCE_PIXEL)
    assert not np.any(dq[~ref] & dqflags.REFERENCE_PIXEL)
    table = fits.getdata(nircam_refs["mask"], "DQ_DEF")
    assert dict(zip(table["NAME"], table["VALUE"]))["REFERENCE_PIXEL"] == 2**31


def test_linearity_inverts_the_simulated_non_linearity(nircam_refs) -> None:
    cal = detector_calibration("NRCA1", 0)
    rows, cols = resolve_subarray(get_detector("NRCA1"), "SUB160").slices
    coeffs = fits.getdata(nircam_refs["linearity"], "COEFFS").astype(np.float64)
    gain, beta = cal.gain[rows, cols].astype(np.float64), cal.beta[rows, cols].astype(np.float64)
    well = cal.full_well[rows, cols].astype(np.float64)
    for fraction in (0.05, 0.5, SATURATION_FRACTION):
        charge = fraction * well
        measured = charge * (1 - beta * charge) / gain
        assert np.max(np.abs(horner(coeffs, measured) / (charge / gain) - 1)) < 1e-3


def test_miri_linearity_acts_on_raw_counts(tmp_path) -> None:
    refs = write_reference_files("MIRIMAGE", tmp_path, subarray="SUB64", dark_frames=3)
    cal = detector_calibration("MIRIMAGE", 0)
    rows, cols = resolve_subarray(get_detector("MIRIMAGE"), "SUB64").slices
    coeffs = fits.getdata(refs["linearity"], "COEFFS").astype(np.float64)
    bias, gain = cal.bias[rows, cols].astype(np.float64), cal.gain[rows, cols].astype(np.float64)
    charge = 0.5 * cal.full_well[rows, cols].astype(np.float64)
    raw = bias + charge * (1 - cal.beta[rows, cols] * charge) / gain
    assert np.all(np.abs(horner(coeffs, raw) - (bias + charge / gain)) < 1e-3 * charge / gain)
    dark = fits.getdata(refs["dark"], "SCI")
    assert dark.ndim == 4 and np.all(dark[..., :4] == 0)  # MIRI reference columns get no dark


def test_dark_saturation_and_photometric_keywords(nircam_refs) -> None:
    cal = detector_calibration("NRCA1", 0)
    det = get_detector("NRCA1")
    sub = resolve_subarray(det, "SUB160")
    rows, cols = sub.slices
    with fits.open(nircam_refs["dark"]) as hdul:
        dark = hdul["SCI"].data
        assert (hdul[0].header["NFRAMES"], hdul[0].header["GROUPGAP"]) == (1, 0)
    tframe = frame_time(det, sub, "RAPID")
    expected = (np.arange(1, 6) * tframe)[:, None, None] * (cal.dark / cal.gain)[rows, cols]
    np.testing.assert_allclose(dark, expected, rtol=1e-5)
    saturation = fits.getdata(nircam_refs["saturation"], "SCI")
    bias = fits.getdata(nircam_refs["superbias"], "SCI")
    assert np.all(saturation > bias + 30000) and np.all(saturation < 65535)
    header = fits.getheader(nircam_refs["area"])
    assert header["PIXAR_SR"] == pytest.approx(2.29e-14, rel=0.02)
    photom = fits.getdata(nircam_refs["photom"], "PHOTOM")
    assert "F200W" in list(photom["filter"]) and np.all(photom["photmjsr"] > 0)


def test_writer_rejects_incomplete_headers_and_writes_atomically(tmp_path) -> None:
    with pytest.raises(JwstLazyInputError, match="DETECTOR"):
        write_reference_file(tmp_path / "bad.fits", "gain", {"INSTRUME": "NIRCAM", "SUBARRAY": "FULL",
                                                             "USEAFTER": "2022-01-01", "DESCRIP": "x"},
                             {"SCI": np.ones((4, 4), np.float32)})
    assert list(tmp_path.iterdir()) == []
    path = write_reference_file(tmp_path / "ok.fits", "gain",
                                {"INSTRUME": "NIRCAM", "DETECTOR": "NRCA1", "SUBARRAY": "GENERIC",
                                 "USEAFTER": "2022-01-01T00:00:00", "DESCRIP": "test"},
                                {"SCI": np.ones((4, 4), np.float32)}, {"EXTRA": {"a": np.arange(3)}})
    assert [p.name for p in tmp_path.iterdir()] == ["ok.fits"]
    with fits.open(path) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "SCI", "EXTRA"]
