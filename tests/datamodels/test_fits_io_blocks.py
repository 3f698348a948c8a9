"""Block reads of FitsImageData: short strided runs (pread) and long runs (memory map) give the same values."""

import numpy as np
import pytest
from astropy.io import fits

from jwstlazy.datamodels.fits_io import FitsImageData, _scattered


@pytest.mark.parametrize("dtype", [np.uint16, np.float32, np.int32])
def test_blocks_read_either_way_equal_the_array(tmp_path, dtype):
    rng = np.random.default_rng(0)
    values = (rng.random((3, 4, 40, 50)) * 60000).astype(dtype)
    path = tmp_path / "x.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(values, name="SCI")]).writeto(path)
    with fits.open(path) as hdul:
        hdu = hdul["SCI"]
        location = hdu.fileinfo()
        source = FitsImageData(path, location["datLoc"], hdu.shape, hdu.header["BITPIX"],
                               hdu.header.get("BSCALE", 1.0), hdu.header.get("BZERO", 0.0))
    strided = (slice(0, 3), slice(0, 4), slice(5, 13), slice(7, 31))  # many short runs: read with pread
    whole_rows = (slice(0, 3), slice(0, 4), slice(0, 40), slice(0, 50))
    assert _scattered(strided, values.shape, values.dtype.itemsize)
    assert not _scattered(whole_rows, values.shape, values.dtype.itemsize)
    for key in (strided, whole_rows, (slice(1, 2), slice(2, 3), slice(0, 40), slice(0, 50)), (0, 1)):
        got = source[key]
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, values[key])


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.float32])
def test_blocks_read_as_float32_equal_astype(tmp_path, dtype):
    """``as_dtype``: blocks decoded straight to float32 (one pass for uint16, as an uncal ramp) are the values
    ``astype`` gives, read either way; ``read_as`` gives them for an opened image and falls back to ``astype``."""
    import dask.array as da

    from jwstlazy.datamodels.fits_read import open_fits, read_as

    rng = np.random.default_rng(1)
    values = (rng.random((3, 4, 40, 50)) * 60000 - (30000 if dtype == np.int16 else 0)).astype(dtype)
    values.flat[:4] = [0, 1, np.iinfo(dtype).max if dtype != np.float32 else 7, 2]
    path = tmp_path / "x.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(values, name="SCI")]).writeto(path)
    with fits.open(path) as hdul:
        hdu = hdul["SCI"]
        source = FitsImageData(path, hdu.fileinfo()["datLoc"], hdu.shape, hdu.header["BITPIX"],
                               hdu.header.get("BSCALE", 1.0), hdu.header.get("BZERO", 0.0), as_dtype=np.float32)
    for key in ((slice(0, 3), slice(0, 4), slice(5, 13), slice(7, 31)), (slice(0, 3), slice(0, 4), slice(0, 40),
                slice(0, 50)), (0, 1)):  # fmt: skip
        got = source[key]
        assert got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, values[key].astype(np.float32))
    opened = open_fits(path, chunks={"integration": 2, "group": -1, "y": 8, "x": -1})["SCI"].data
    converted = read_as(opened, np.float32)
    assert (converted.name == opened.name) == (dtype == np.float32)  # already float32: the same array
    assert converted.chunks == opened.chunks and converted.dtype == np.float32
    np.testing.assert_array_equal(converted.compute(), values.astype(np.float32))
    if dtype != np.float32:  # not the file's array as opened: a cast
        assert read_as(opened[:, :, 1:], np.float32).name.startswith("astype")
        assert read_as(da.from_array(values), np.float32).name.startswith("astype")


@pytest.mark.parametrize("band_bytes", [1 << 20, 1000, 1])
def test_strips_and_row_ranges_read_by_pread_equal_the_array(tmp_path, monkeypatch, band_bytes):
    """Narrow strips (read as whole rows, band by band, whatever the band size) and ranges of whole rows (one
    pread per run) both give the array's values."""
    from jwstlazy.datamodels import fits_io

    monkeypatch.setattr(fits_io, "BAND_BYTES", band_bytes)
    values = np.arange(2 * 3 * 40 * 1200, dtype=np.float32).reshape(2, 3, 40, 1200)
    path = tmp_path / "x.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(values, name="SCI")]).writeto(path)
    with fits.open(path) as hdul:
        source = FitsImageData(path, hdul["SCI"].fileinfo()["datLoc"], values.shape, -32)
    left_strip = (slice(0, 2), slice(0, 3), slice(4, 36), slice(0, 4))
    right_corner = (slice(1, 2), slice(0, 3), slice(36, 40), slice(1196, 1200))
    row_range = (slice(0, 2), slice(1, 3), slice(5, 13), slice(0, 1200))  # runs of 8 rows = 38 kB
    for key in (left_strip, right_corner, row_range):
        assert _scattered(key, values.shape, values.dtype.itemsize)
        np.testing.assert_array_equal(source[key], values[key])


def test_blocks_are_written_run_by_run(tmp_path):
    """Blocks are written with one pwrite per contiguous run: scattered ones (a few rows of every integration),
    whole-row bands, a corner, and (through the memory map) an integer-indexed plane."""
    from jwstlazy.datamodels.fits_io import FitsImageTarget

    values = np.arange(5 * 40 * 30, dtype=np.float32).reshape(5, 40, 30)
    path = tmp_path / "x.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros_like(values), name="SCI")]).writeto(path)
    with fits.open(path) as hdul:
        target = FitsImageTarget(path, hdul["SCI"].fileinfo()["datLoc"], values.shape, np.float32)
    rows = (slice(0, 5), slice(3, 9), slice(0, 30))  # scattered: 6 rows of each integration
    assert _scattered(rows, values.shape, 4)
    blocks = (rows, (slice(0, 5), slice(0, 3), slice(0, 30)), (slice(0, 4), slice(9, 40), slice(0, 12)),
              (slice(0, 4), slice(9, 40), slice(12, 30)), (4, slice(9, 40), slice(None)))
    for block in blocks:
        target[block] = values[block]
    with fits.open(path) as hdul:
        np.testing.assert_array_equal(hdul["SCI"].data, values)


def test_a_block_past_the_end_of_a_truncated_file_names_the_file(tmp_path):
    """Strided runs are read with one pread each; one that finds the file ending early is an input error."""
    from jwstlazy.errors import JwstLazyInputError

    values = np.arange(3 * 4 * 40 * 50, dtype=np.float32).reshape(3, 4, 40, 50)
    path = tmp_path / "x.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(values, name="SCI")]).writeto(path)
    with fits.open(path) as hdul:
        source = FitsImageData(path, hdul["SCI"].fileinfo()["datLoc"], values.shape, -32)
    with open(path, "r+b") as handle:  # cut into the last integration
        handle.truncate(source.offset + values[:2].nbytes + 1000)
    strided = (slice(0, 3), slice(0, 4), slice(5, 13), slice(7, 31))
    np.testing.assert_array_equal(source[(slice(0, 2),) + strided[1:]], values[(slice(0, 2),) + strided[1:]])
    with pytest.raises(JwstLazyInputError, match="truncated") as error:
        source[strided]
    assert str(path) in str(error.value)


def test_runs_move_the_same_without_the_compiled_loop(tmp_path, monkeypatch):
    """Where the compiled pread/pwrite loop is unavailable, Python's calls read and write the same bytes."""
    from jwstlazy.datamodels.fits_io import FitsImageTarget
    from jwstlazy.kernels import file_runs

    monkeypatch.setattr(file_runs, "AVAILABLE", False)
    values = np.arange(4 * 20 * 30, dtype=np.float32).reshape(4, 20, 30)
    path = tmp_path / "x.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(np.zeros_like(values), name="SCI")]).writeto(path)
    with fits.open(path) as hdul:
        offset = hdul["SCI"].fileinfo()["datLoc"]
    rows = (slice(0, 4), slice(5, 9), slice(0, 30))
    assert _scattered(rows, values.shape, 4)
    FitsImageTarget(path, offset, values.shape, np.float32)[rows] = values[rows]
    np.testing.assert_array_equal(FitsImageData(path, offset, values.shape, -32)[rows], values[rows])
