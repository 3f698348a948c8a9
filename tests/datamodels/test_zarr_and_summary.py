"""zarr round trips, schemas/product detection, default chunks and the text summary."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from jwstlazy.datamodels import describe, dqflags, validate, write_fits, write_zarr
from jwstlazy.datamodels import open as open_product
from jwstlazy.datamodels.chunking import default_chunks
from jwstlazy.datamodels.schemas import detect_product, is_sci_keyword
from jwstlazy.errors import JwstLazyInputError


def test_zarr_round_trip_is_exact(tmp_path, uncal):
    uncal["INT_TIMES.int_mid_MJD_UTC"].attrs["TUNIT"] = "d"
    lazy = uncal.chunk({"integration": 1, "group": -1, "y": 3, "x": 5})  # irregular last chunk along y
    path = write_zarr(lazy, tmp_path / "ramp_uncal.zarr")
    opened = open_product(path)
    assert opened.attrs.pop("filename") == str(path)
    xr.testing.assert_identical(opened, uncal)
    assert opened["SCI"].dtype == np.uint16 and opened["SCI"].data.chunks == lazy["SCI"].data.chunks
    assert opened["INT_TIMES.int_mid_MJD_UTC"].attrs["TUNIT"] == "d"
    assert all(p.name == "ramp_uncal.zarr" for p in tmp_path.iterdir())


def test_fits_to_zarr_to_fits(tmp_path, rate):
    from_fits = open_product(write_fits(rate, tmp_path / "a_rate.fits"))
    from_zarr = open_product(write_zarr(from_fits, tmp_path / "a_rate.zarr"))
    again = open_product(write_fits(from_zarr, tmp_path / "b_rate.fits"))
    for name in rate.data_vars:
        np.testing.assert_array_equal(again[name].values, rate[name].values)
        assert again[name].dtype == rate[name].dtype
    assert again.attrs["PC1_1"] == rate.attrs["PC1_1"] and again.attrs["product"] == "rate"


def test_zarr_overwrite_only_when_asked(tmp_path, rate):
    path = write_zarr(rate, tmp_path / "o_rate.zarr")
    with pytest.raises(JwstLazyInputError, match="already exists"):
        write_zarr(rate, path)
    rate["SCI"].values[:] = 3
    write_zarr(rate, path, overwrite=True)
    assert float(open_product(path)["SCI"].min()) == 3


def test_sci_keywords_follow_the_official_schemas():
    for keyword in ("RA_REF", "V3I_YANG", "VA_SCALE", "S_REGION", "PHOTMJSR", "CRPIX2", "PC2_1", "A_1_1", "BUNIT"):
        assert is_sci_keyword(keyword), keyword
    for keyword in ("NGROUPS", "INSTRUME", "TARG_RA", "SUBSTRT1", "DATAMODL", "CRDS_CTX"):
        assert not is_sci_keyword(keyword), keyword


def test_product_detection():
    assert detect_product("/d/jw01_nrca1_rateints.fits", {}) == "rateints"
    assert detect_product("/d/plain.fits", {"DATAMODL": "CubeModel", "S_PHOTOM": "COMPLETE"}) == "calints"
    assert detect_product("/d/plain.fits", {"DATAMODL": "Level1bModel"}) == "uncal"
    assert detect_product("/d/sim_truth.fits", {}) == "truth"


def test_default_chunks_aim_at_16_mb_with_all_integrations():
    ramp = {"SCI": (("integration", "group", "y", "x"), (3, 10, 2048, 2048), np.dtype(np.uint16)),
            "PIXELDQ": (("y", "x"), (2048, 2048), np.dtype(np.uint32))}  # fmt: skip
    assert default_chunks(ramp) == {"integration": -1, "group": -1, "y": 128, "x": 2048}
    many_groups = {"SCI": (("integration", "group", "y", "x"), (1, 200, 2048, 2048), np.dtype(np.float32))}
    chunks = default_chunks(many_groups)
    assert chunks["y"] == 8 and chunks["x"] == 2048 and 200 * 8 * 2048 * 4 <= 16 * 2**20 < 200 * 16 * 2048 * 4
    rateints = {"SCI": (("integration", "y", "x"), (50, 64, 2048), np.dtype(np.float32))}
    assert default_chunks(rateints) == {"integration": -1, "y": 32, "x": 2048}


def test_validate_on_in_memory_dataset(rate):
    validate(rate, "rate")
    del rate["VAR_RNOISE"]
    with pytest.raises(JwstLazyInputError, match=r"\[VAR_RNOISE\]: missing extension"):
        validate(rate, "rate")


def test_describe_lists_configuration_variables_and_dq_counts(tmp_path, rate):
    rate["DQ"].values[:] = 0
    rate["DQ"].values[0, :3] = dqflags.DO_NOT_USE | dqflags.SATURATED
    text = describe(open_product(write_fits(rate, tmp_path / "d_rate.fits")))
    assert "product: rate (ImageModel" in text and "INSTRUME=NIRCAM" in text and "FILTER=F200W" in text
    assert "exposure: 8 y x 10 x" in text
    assert "SCI" in text and "(y, x) (8, 10) float32 DN/s" in text
    assert "DO_NOT_USE 3, SATURATED 3" in text and "JUMP_DET" not in text
