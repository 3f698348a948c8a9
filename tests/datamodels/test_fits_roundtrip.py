"""write_fits -> open keeps values, dtypes, dims, units and keywords; the layout is the official one."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr
from astropy.io import fits

from jwstlazy.datamodels import open as open_product
from jwstlazy.datamodels import write_fits

WRITER_KEYWORDS = {"DATAMODL", "FILENAME", "BUNIT", "filename"}


def assert_same_product(opened: xr.Dataset, original: xr.Dataset) -> None:
    for name, variable in original.data_vars.items():
        assert opened[name].dims == variable.dims, name
        assert opened[name].dtype == variable.dtype, name
        np.testing.assert_array_equal(opened[name].values, variable.values, err_msg=str(name))
        assert opened[name].attrs.get("BUNIT") == variable.attrs.get("BUNIT", opened[name].attrs.get("BUNIT"))
    for key, value in original.attrs.items():
        assert opened.attrs[key] == value, key
    assert set(opened.attrs) - set(original.attrs) <= WRITER_KEYWORDS


def test_uncal_round_trip_is_exact_and_official_layout(tmp_path, uncal):
    path = write_fits(uncal, tmp_path / "jw_test_uncal.fits")
    opened = open_product(path)
    assert_same_product(opened, uncal)
    assert opened.attrs["product"] == "uncal" and opened.attrs["filename"] == str(path)
    assert isinstance(opened["SCI"].data, da.Array)
    with fits.open(path) as hdul:
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI", "INT_TIMES", "ASDF"]
        assert hdul[0].header["NAXIS"] == 0 and hdul[0].header["DATAMODL"] == "Level1bModel"
        sci = hdul["SCI"].header
        assert (sci["BITPIX"], sci["BZERO"], sci["BUNIT"]) == (16, 32768, "DN")
        # pointing/WCS keywords in SCI, exposure keywords in PRIMARY, as in the official files
        assert "RA_REF" in sci and "CRPIX1" in sci and "PC1_1" in sci and "RA_REF" not in hdul[0].header
        assert "NGROUPS" in hdul[0].header and "NGROUPS" not in sci
        np.testing.assert_array_equal(hdul["SCI"].data, uncal["SCI"].values)  # astropy decodes the same


@pytest.mark.parametrize("ints", [None, 3])
def test_rate_and_rateints_round_trip(tmp_path, ints, rate_factory):
    rate = rate_factory(ints=ints)
    suffix = "rate" if ints is None else "rateints"
    path = write_fits(rate, tmp_path / f"x_{suffix}.fits")
    opened = open_product(path)
    assert_same_product(opened, rate)
    with fits.open(path) as hdul:
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE", "ASDF"]
        assert hdul[0].header["DATAMODL"] == ("ImageModel" if ints is None else "CubeModel")
        assert hdul["DQ"].data.dtype == np.uint32 and hdul["VAR_POISSON"].header["BUNIT"] == "(DN/s)^2"


def test_dask_backed_product_is_written_chunk_by_chunk(tmp_path, uncal_factory):
    uncal = uncal_factory(nints=2, ngroups=4, ny=32, nx=16)
    lazy = uncal.chunk({"integration": 1, "y": 8, "x": 8})
    path = write_fits(lazy, tmp_path / "lazy_uncal.fits")
    assert_same_product(open_product(path), uncal)


def test_generic_product_keeps_dims_and_tables(tmp_path):
    truth = xr.Dataset(
        {
            "FLUX": (("source_plane", "y", "x"), np.arange(24, dtype=np.float64).reshape(2, 3, 4)),
            "MASK": (("y", "x"), np.eye(3, 4, dtype=np.int16)),
            "SOURCES.ra": (("SOURCES_row",), np.array([1.5, 2.5])),
            "SOURCES.name": (("SOURCES_row",), np.array(["a", "bb"])),
        },
        attrs={"INSTRUME": "NIRCAM", "SEED": 7, "product": "truth"},
    )
    path = write_fits(truth, tmp_path / "sim_truth.fits")
    opened = open_product(path)
    assert opened.attrs["product"] == "truth" and opened.attrs["SEED"] == 7
    for name in truth.data_vars:
        assert opened[name].dims == truth[name].dims
        np.testing.assert_array_equal(opened[name].values, truth[name].values)
    assert opened["FLUX"].dtype == np.float64 and opened["MASK"].dtype == np.int16


def test_overwrite_replaces_existing_file(tmp_path, rate):
    path = write_fits(rate, tmp_path / "o_rate.fits")
    changed = rate.copy(deep=True)
    changed["SCI"].values[:] = 5
    write_fits(changed, path, overwrite=True)
    assert float(open_product(path)["SCI"].max()) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o_rate.fits"]


def test_undefined_keyword_round_trips_as_none(tmp_path, rate):
    rate.attrs["OBSLABEL"] = None
    opened = open_product(write_fits(rate, tmp_path / "u_rate.fits"))
    assert "OBSLABEL" in opened.attrs and opened.attrs["OBSLABEL"] is None


def test_miri_uncal_with_zeroframe_and_refout(tmp_path, uncal):
    nints, ngroups, ny, nx = uncal["SCI"].shape
    uncal.attrs.update(INSTRUME="MIRI", DETECTOR="MIRIMAGE", EXP_TYPE="MIR_IMAGE", ZEROFRAM=True)
    uncal["ZEROFRAME"] = (("integration", "y", "x"), uncal["SCI"].values[:, 0] // 2)
    refout = np.arange(nints * ngroups * ny * (nx // 4) * 2, dtype=np.uint16).reshape(nints, ngroups, ny, -1)
    uncal["REFOUT"] = (("integration", "group", "y", "x_refout"), refout)
    path = write_fits(uncal, tmp_path / "miri_uncal.fits")
    opened = open_product(path)
    assert_same_product(opened, uncal)
    with fits.open(path) as hdul:
        assert [hdu.name for hdu in hdul] == ["PRIMARY", "SCI", "ZEROFRAME", "REFOUT", "INT_TIMES", "ASDF"]
        assert "DIMNAMES" not in hdul["REFOUT"].header  # schema variables carry no private keywords


def test_scaled_integers_decode_like_astropy(tmp_path):
    stored = np.array([[-32768, -1, 0, 32767]], dtype=np.int16)
    header = fits.Header([("BSCALE", 0.5), ("BZERO", 10.0)])
    hdu = fits.ImageHDU(stored, header, name="IMG", do_not_scale_image_data=True)
    hdu.header["BSCALE"], hdu.header["BZERO"] = 0.5, 10.0
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / "scaled.fits")
    opened = open_product(tmp_path / "scaled.fits")
    with fits.open(tmp_path / "scaled.fits") as hdul:
        expected = hdul["IMG"].data
    assert opened["IMG"].dtype == np.float32 == expected.dtype
    np.testing.assert_array_equal(opened["IMG"].values, expected)
    np.testing.assert_array_equal(opened["IMG"].values, stored * 0.5 + 10)


@pytest.mark.parametrize(("code", "raises"), [(None, False), ("ENOSPC", True), ("EOPNOTSUPP", False)])
def test_products_get_their_blocks_up_front_and_a_full_disk_names_the_file(tmp_path, rate, monkeypatch, code,
                                                                            raises):  # fmt: skip
    """The product's file is given its disk blocks when created (Linux fallocate): a full disk is an error naming
    the file before any pixel is written; a file system that cannot allocate leaves it sparse, as before."""
    import ctypes
    import errno
    import sys

    from jwstlazy.datamodels import fits_write

    if code is not None:
        def refusing_fallocate(descriptor, mode, offset, length):
            ctypes.set_errno(getattr(errno, code))
            return -1

        monkeypatch.setattr(fits_write, "_FALLOCATE", refusing_fallocate)
    target = tmp_path / "space_rate.fits"
    if raises:
        with pytest.raises(OSError, match="no room for the product") as failure:
            write_fits(rate, target)
        assert "space_rate" in str(failure.value) and not target.exists()
        assert list(tmp_path.iterdir()) == [], "a temporary file was left behind"
        return
    path = write_fits(rate, target)
    assert_same_product(open_product(path), rate)
    if code is None and sys.platform.startswith("linux") and fits_write._FALLOCATE is not None:
        assert path.stat().st_blocks * 512 >= path.stat().st_size  # allocated, not sparse
