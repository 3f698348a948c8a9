"""Bad input raises JwstLazyInputError naming the file and the problem, and leaves nothing behind."""

from __future__ import annotations

import os

import dask.array as da
import numpy as np
import pytest
from astropy.io import fits

from jwstlazy.datamodels import open as open_product
from jwstlazy.datamodels import write_fits, write_zarr
from jwstlazy.errors import JwstLazyInputError


def expect_error(action, folder, *fragments):
    """Run ``action``; it must raise JwstLazyInputError whose message has every fragment; folder unchanged."""
    before = sorted(os.listdir(folder))
    with pytest.raises(JwstLazyInputError) as info:
        action()
    message = str(info.value)
    for fragment in fragments:
        assert str(fragment) in message, (fragment, message)
    assert sorted(os.listdir(folder)) == before, "files were left behind"
    return message


def rewrite(source, target, edit) -> None:
    """Copy a FITS file through astropy, applying ``edit(hdulist)`` on the way."""
    with fits.open(source) as hdul:
        edit(hdul)
        hdul.writeto(target)


@pytest.fixture
def good_uncal(tmp_path, uncal):
    folder = tmp_path / "good"
    folder.mkdir()
    return write_fits(uncal, folder / "good_uncal.fits")


# ---------------------------------------------------------------- open(): the file itself


def test_nonexistent_path(tmp_path):
    path = tmp_path / "missing_uncal.fits"
    expect_error(lambda: open_product(path), tmp_path, path, "no such file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty_uncal.fits"
    path.touch()
    expect_error(lambda: open_product(path), tmp_path, path, "empty")


def test_not_a_fits_file(tmp_path):
    path = tmp_path / "notes_uncal.fits"
    path.write_text("this is a text file, not FITS\n" * 200)
    expect_error(lambda: open_product(path), tmp_path, path, "not a FITS file")


def test_truncated_data(tmp_path, good_uncal):
    path = tmp_path / "cut_uncal.fits"
    path.write_bytes(good_uncal.read_bytes()[: 2880 * 2 + 100])  # PRIMARY and SCI headers, part of the pixels
    expect_error(lambda: open_product(path), tmp_path, path, "[SCI]", "truncated")


def test_truncated_inside_a_header(tmp_path, good_uncal):
    path = tmp_path / "cut_header_uncal.fits"
    path.write_bytes(good_uncal.read_bytes()[:4000])
    expect_error(lambda: open_product(path), tmp_path, path, "truncated inside a header")


def test_directory_that_is_not_zarr(tmp_path):
    folder = tmp_path / "plain_folder"
    folder.mkdir()
    expect_error(lambda: open_product(folder), tmp_path, folder, "not a zarr store")


def test_chunks_not_a_dict(tmp_path, good_uncal):
    expect_error(lambda: open_product(good_uncal, chunks=256), tmp_path, good_uncal, "[chunks]", "dict by dim name")


# ---------------------------------------------------------------- open(): structure and keywords


def test_missing_extension(tmp_path, rate):
    good = write_fits(rate, tmp_path / "full_rate.fits")
    path = tmp_path / "noerr_rate.fits"
    rewrite(good, path, lambda hdul: hdul.pop(hdul.index_of("ERR")))
    expect_error(lambda: open_product(path), tmp_path, path, "[ERR]", "missing extension", "float32")


def test_wrong_dtype(tmp_path, good_uncal):
    path = tmp_path / "float_uncal.fits"

    def to_float(hdul):
        hdul["SCI"] = fits.ImageHDU(hdul["SCI"].data.astype(np.float32), hdul["SCI"].header, name="SCI")

    rewrite(good_uncal, path, to_float)
    expect_error(lambda: open_product(path), tmp_path, path, "[SCI]", "dtype float32", "uint16")


def test_wrong_number_of_dimensions(tmp_path, good_uncal):
    path = tmp_path / "flat_uncal.fits"

    def drop_axis(hdul):
        hdul["SCI"] = fits.ImageHDU(hdul["SCI"].data[0], hdul["SCI"].header, name="SCI")

    rewrite(good_uncal, path, drop_axis)
    expect_error(lambda: open_product(path), tmp_path, path, "[SCI]", "3 dimensions", "integration, group, y, x")


def test_missing_required_keyword(tmp_path, good_uncal):
    path = tmp_path / "nogroups_uncal.fits"
    rewrite(good_uncal, path, lambda hdul: hdul[0].header.remove("NGROUPS"))
    expect_error(lambda: open_product(path), tmp_path, path, "[NGROUPS]", "missing required keyword")


def test_unknown_instrument(tmp_path, good_uncal):
    path = tmp_path / "wfc3_uncal.fits"
    rewrite(good_uncal, path, lambda hdul: hdul[0].header.set("INSTRUME", "WFC3"))
    expect_error(lambda: open_product(path), tmp_path, path, "[INSTRUME]", "WFC3", "NIRCAM")


def test_ngroups_disagrees_with_sci_shape(tmp_path, good_uncal):
    path = tmp_path / "ng_uncal.fits"
    rewrite(good_uncal, path, lambda hdul: hdul[0].header.set("NGROUPS", 7))
    expect_error(lambda: open_product(path), tmp_path, path, "[NGROUPS]", "NGROUPS=7", "3 (the SCI group axis)")


def test_nints_disagrees_with_sci_shape(tmp_path, good_uncal):
    path = tmp_path / "ni_uncal.fits"
    rewrite(good_uncal, path, lambda hdul: hdul[0].header.set("NINTS", 5))
    expect_error(lambda: open_product(path), tmp_path, path, "[NINTS]", "2 integrations")


def test_keyword_of_wrong_type(tmp_path, good_uncal):
    path = tmp_path / "type_uncal.fits"
    rewrite(good_uncal, path, lambda hdul: hdul[0].header.set("NFRAMES", "one"))
    expect_error(lambda: open_product(path), tmp_path, path, "[NFRAMES]", "an integer")


def test_extension_shape_inconsistent_with_sci(tmp_path, good_uncal):
    path = tmp_path / "zf_uncal.fits"
    zeroframe = np.zeros((2, 9, 10), np.uint16)  # SCI has y = 8
    rewrite(good_uncal, path, lambda hdul: hdul.insert(2, fits.ImageHDU(zeroframe, name="ZEROFRAME")))
    expect_error(lambda: open_product(path), tmp_path, path, "[ZEROFRAME]", "disagrees", "y of size 8")


def test_duplicate_extension(tmp_path, good_uncal):
    path = tmp_path / "dup_uncal.fits"
    rewrite(good_uncal, path, lambda hdul: hdul.insert(2, hdul["SCI"].copy()))
    expect_error(lambda: open_product(path), tmp_path, path, "[SCI]", "duplicate")


# ---------------------------------------------------------------- writing


def test_write_refuses_existing_target(tmp_path, rate, good_uncal):
    content = good_uncal.read_bytes()
    expect_error(lambda: write_fits(rate, good_uncal), good_uncal.parent, good_uncal, "already exists")
    assert good_uncal.read_bytes() == content


def test_write_into_missing_folder(tmp_path, rate):
    path = tmp_path / "nowhere" / "x_rate.fits"
    expect_error(lambda: write_fits(rate, path), tmp_path, path, "folder does not exist")


def test_write_invalid_product(tmp_path, rate):
    rate["DQ"] = rate["DQ"].astype(np.int16)
    path = tmp_path / "bad_rate.fits"
    expect_error(lambda: write_fits(rate, path), tmp_path, path, "[DQ]", "dtype int16", "uint32")


def test_write_unrepresentable_keyword(tmp_path, rate):
    rate.attrs["PATTSIZE"] = [1, 2]
    path = tmp_path / "kw_rate.fits"
    expect_error(lambda: write_fits(rate, path), tmp_path, path, "[PATTSIZE]", "list")


def test_write_zarr_unserialisable_attribute(tmp_path, rate):
    rate.attrs["WHEN"] = object()
    path = tmp_path / "obj_rate.zarr"
    expect_error(lambda: write_zarr(rate, path), tmp_path, path, "[WHEN]", "JSON")


def _exploding(block):
    raise RuntimeError("worker died while computing this block")


def test_failure_while_computing_leaves_no_file(tmp_path, uncal):
    sci = da.from_array(uncal["SCI"].values, chunks=(1, -1, 4, -1))
    uncal["SCI"] = (uncal["SCI"].dims, sci.map_blocks(_exploding, dtype=np.uint16), {"BUNIT": "DN"})
    path = tmp_path / "boom_uncal.fits"
    with pytest.raises(RuntimeError, match="worker died"):
        write_fits(uncal, path)
    assert os.listdir(tmp_path) == []
    with pytest.raises(RuntimeError, match="worker died"):
        write_zarr(uncal, tmp_path / "boom_uncal.zarr")
    assert os.listdir(tmp_path) == []
