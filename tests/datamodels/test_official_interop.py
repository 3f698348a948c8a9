"""Our files open in the official stdatamodels (and validate); files it writes open with us."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.datamodels import open as open_product
from jwstlazy.datamodels import write_fits

datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")
pytestmark = pytest.mark.crosscheck


def test_official_models_read_our_uncal(tmp_path, uncal):
    path = write_fits(uncal, tmp_path / "ours_uncal.fits")
    with datamodels.Level1bModel(path) as model:
        model.validate()
        np.testing.assert_array_equal(model.data, uncal["SCI"].values)
        assert model.data.dtype == np.uint16
        assert model.meta.exposure.ngroups == 3 and model.meta.instrument.detector == "NRCA1"
        assert model.meta.wcsinfo.v2_ref == uncal.attrs["V2_REF"] and model.meta.velocity_aberration.scale_factor
        np.testing.assert_array_equal(model.int_times["int_mid_MJD_UTC"], uncal["INT_TIMES.int_mid_MJD_UTC"])
    with datamodels.open(path) as model:
        assert isinstance(model, datamodels.Level1bModel)
    with datamodels.RampModel(path) as model:
        assert model.data.shape == uncal["SCI"].shape


def test_official_image_model_reads_our_rate(tmp_path, rate):
    path = write_fits(rate, tmp_path / "ours_rate.fits")
    with datamodels.open(path) as model:
        assert isinstance(model, datamodels.ImageModel)
        model.validate()
        for name, attribute in (("SCI", "data"), ("ERR", "err"), ("DQ", "dq"), ("VAR_RNOISE", "var_rnoise")):
            np.testing.assert_array_equal(getattr(model, attribute), rate[name].values)
        assert model.meta.bunit_data == "DN/s" and model.meta.exposure.type == "NRC_IMAGE"


def _fill_meta(model, ngroups: int = 3, nints: int = 2) -> None:
    meta = model.meta
    meta.instrument.name, meta.instrument.detector, meta.exposure.type = "NIRCAM", "NRCB2", "NRC_IMAGE"
    meta.exposure.nints, meta.exposure.ngroups, meta.exposure.nframes, meta.exposure.groupgap = nints, ngroups, 1, 0
    meta.exposure.frame_time, meta.exposure.group_time, meta.exposure.readpatt = 10.7, 10.7, "RAPID"
    meta.subarray.name, meta.subarray.xstart, meta.subarray.ystart = "FULL", 1, 1
    meta.subarray.xsize, meta.subarray.ysize = 6, 5
    meta.wcsinfo.ra_ref = 12.5


def test_we_open_official_level1b_and_ramp_files(tmp_path):
    raw = np.arange(2 * 3 * 5 * 6, dtype=np.uint16).reshape(2, 3, 5, 6) * 700
    with datamodels.Level1bModel(data=raw) as model:
        _fill_meta(model)
        model.save(tmp_path / "official_uncal.fits")
    ds = open_product(tmp_path / "official_uncal.fits")
    assert ds.attrs["product"] == "uncal" and ds.attrs["DETECTOR"] == "NRCB2" and ds.attrs["RA_REF"] == 12.5
    assert ds["SCI"].dtype == np.uint16
    np.testing.assert_array_equal(ds["SCI"].values, raw)

    with datamodels.RampModel(data=raw.astype(np.float32) / 3) as model:
        model.groupdq = np.full(raw.shape, 4, np.uint8)
        model.pixeldq = np.ones(raw.shape[2:], np.uint32)
        _fill_meta(model)
        model.save(tmp_path / "official.fits")  # no suffix: detected from DATAMODL
    ramp = open_product(tmp_path / "official.fits")
    assert ramp.attrs["product"] == "ramp"
    np.testing.assert_array_equal(ramp["SCI"].values, raw.astype(np.float32) / 3)
    assert ramp["GROUPDQ"].dtype == np.uint8 and int(ramp["GROUPDQ"].max()) == 4
    assert ramp["PIXELDQ"].dims == ("y", "x")


def test_we_open_official_image_file(tmp_path):
    with datamodels.ImageModel(data=np.full((5, 6), 2.5, np.float32)) as model:
        model.err = np.ones((5, 6), np.float32)
        model.dq = np.full((5, 6), 1 << 31, np.uint32)
        model.var_poisson = np.zeros((5, 6), np.float32)
        model.var_rnoise = np.zeros((5, 6), np.float32)
        _fill_meta(model)
        model.meta.bunit_data = "DN/s"
        model.save(tmp_path / "official_rate.fits")
    ds = open_product(tmp_path / "official_rate.fits")
    assert ds["SCI"].attrs["BUNIT"] == "DN/s" and float(ds["SCI"][0, 0]) == 2.5
    assert int(ds["DQ"][4, 5]) == 1 << 31 and ds["DQ"].dtype == np.uint32
