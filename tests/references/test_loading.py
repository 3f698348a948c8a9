"""load_reference: variables named as extensions, exact subarray cuts, clear errors for bad files."""

from __future__ import annotations

import asdf
import numpy as np
import pytest
from astropy.io import fits

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.references import load_reference

from .conftest import frame


def window(x: int, y: int, nx: int, ny: int) -> dict:
    return {"SUBSTRT1": x, "SUBSTRT2": y, "SUBSIZE1": nx, "SUBSIZE2": ny, "filename": "exp_uncal.fits"}


def test_full_frame_reference_cut_to_subarray(write_reference):
    dq = np.zeros((16, 20), np.uint32)
    dq[3, 6] = 2**31 + 1  # REFERENCE_PIXEL | DO_NOT_USE: needs BZERO to survive
    path = write_reference("gain.fits", "gain", images={"SCI": frame(), "DQ": dq})
    ds = load_reference(path, "GAIN", window(x=5, y=3, nx=6, ny=4))
    assert ds.SCI.dims == ("y", "x") and ds.SCI.shape == (4, 6)
    assert ds.SCI.values[0, 0] == 1000 * 2 + 4  # 1-based (5, 3) is 0-based column 4, row 2
    np.testing.assert_array_equal(ds.SCI.values, frame()[2:6, 4:10])
    assert ds.DQ.dtype == np.uint32 and ds.DQ.values[1, 2] == 2**31 + 1
    assert ds.SCI.dtype.isnative and ds.DQ.dtype.isnative
    geometry = [ds.attrs[key] for key in ("SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2")]
    assert geometry == [5, 3, 6, 4]
    assert ds.attrs["REFTYPE"] == "GAIN" and ds.attrs["filename"] == str(path)


def test_larger_subarray_reference_uses_its_own_substrt(write_reference):
    images = {"SCI": frame(), "DQ": np.zeros((16, 20), np.uint32)}
    path = write_reference("sat.fits", "saturation", images=images, SUBARRAY="SUB320",
                           SUBSTRT1=101, SUBSTRT2=201, SUBSIZE1=20, SUBSIZE2=16)
    ds = load_reference(path, "saturation", window(x=104, y=205, nx=3, ny=2))
    np.testing.assert_array_equal(ds.SCI.values, frame()[4:6, 3:6])


def test_dark_cube_cut_in_last_two_axes(write_reference):
    cube = np.stack([frame() + 100_000 * g for g in range(3)])
    dq = np.arange(320, dtype=np.uint32).reshape(16, 20)
    path = write_reference("dark.fits", "dark", images={"SCI": cube, "ERR": cube / 10, "DQ": dq})
    ds = load_reference(path, "dark", window(x=2, y=10, nx=4, ny=5))
    assert ds.SCI.dims == ("group", "y", "x") and ds.SCI.shape == (3, 5, 4)
    np.testing.assert_array_equal(ds.SCI.values, cube[:, 9:14, 1:5])
    assert ds.ERR.dims == ("group", "y", "x")
    assert ds.DQ.dims == ("y", "x") and ds.DQ.values[0, 0] == 9 * 20 + 1


def test_miri_dark_four_dimensional(write_reference):
    cube = np.stack([[frame() + 100_000 * g + 10_000_000 * i for g in range(3)] for i in range(2)])
    path = write_reference("dark.fits", "dark", images={"SCI": cube})
    ds = load_reference(path, "dark", window(3, 2, 2, 2))
    assert ds.SCI.dims == ("integration", "group", "y", "x")
    np.testing.assert_array_equal(ds.SCI.values, cube[:, :, 1:3, 2:4])


def test_linearity_coefficients_and_dq_def_table(write_reference):
    coeffs = np.stack([frame() * (i + 1) for i in range(5)])
    path = write_reference(
        "lin.fits", "linearity",
        images={"COEFFS": coeffs, "INV_COEFFS": coeffs[:4], "DQ": np.zeros((16, 20), np.uint32)},
        tables={"DQ_DEF": {"BIT": [0, 20], "VALUE": [1, 2**20], "NAME": ["DO_NOT_USE", "NO_LIN_CORR"]}},
    )
    ds = load_reference(path, "linearity", window(x=20, y=16, nx=1, ny=1))
    assert ds.COEFFS.dims == ("coeff", "y", "x")
    np.testing.assert_array_equal(ds.COEFFS.values[:, 0, 0], [15019 * (i + 1) for i in range(5)])
    assert ds.INV_COEFFS.dims == ("inv_coeff", "y", "x") and ds.INV_COEFFS.shape == (4, 1, 1)
    assert ds["DQ_DEF.NAME"].dims == ("DQ_DEF_row",)
    assert list(ds["DQ_DEF.NAME"].values) == ["DO_NOT_USE", "NO_LIN_CORR"]
    assert list(ds["DQ_DEF.VALUE"].values) == [1, 2**20]


def test_photom_table_and_units(write_reference):
    path = write_reference("photom.fits", "photom", images={},
                           tables={"PHOTOM": {"filter": ["F200W", "F090W"], "photmjsr": [0.25, 0.5]}},
                           PIXAR_SR=2.29e-14)
    ds = load_reference(path, "photom", window(1, 1, 4, 4))
    assert list(ds["PHOTOM.filter"].values) == ["F200W", "F090W"]
    np.testing.assert_allclose(ds["PHOTOM.photmjsr"].values, [0.25, 0.5])
    assert ds.attrs["PIXAR_SR"] == pytest.approx(2.29e-14)


def test_no_exposure_geometry_means_no_cut_and_units_kept(tmp_path):
    path = tmp_path / "area.fits"
    primary = fits.PrimaryHDU()
    primary.header.update(REFTYPE="AREA", INSTRUME="NIRCAM")
    sci = fits.ImageHDU(frame(), name="SCI")
    sci.header["BUNIT"] = "UNITLESS"
    fits.HDUList([primary, sci]).writeto(path)
    ds = load_reference(path, "area", {"INSTRUME": "NIRCAM"})
    np.testing.assert_array_equal(ds.SCI.values, frame())
    assert ds.SCI.attrs["BUNIT"] == "UNITLESS"


def test_small_ipc_kernel_is_not_cut(write_reference):
    kernel = np.arange(9, dtype=np.float32).reshape(3, 3)
    ds = load_reference(write_reference("ipc.fits", "ipc", images={"SCI": kernel}), "ipc", window(5, 5, 4, 4))
    assert ds.SCI.dims == ("SCI_axis0", "SCI_axis1")
    np.testing.assert_array_equal(ds.SCI.values, kernel)


def test_missing_extension_is_named(write_reference):
    path = write_reference("lin.fits", "linearity", images={"COEFFS": np.zeros((2, 16, 20), np.float32)})
    with pytest.raises(JwstLazyInputError) as info:
        load_reference(path, "linearity", window(1, 1, 4, 4))
    assert str(path) in str(info.value)
    assert info.value.where == "DQ" and "COEFFS, DQ" in info.value.expected


def test_reference_too_small_for_the_subarray(write_reference):
    path = write_reference("gain.fits", "gain")
    with pytest.raises(JwstLazyInputError, match=r"gain\.fits.*covers columns 1-20, rows 1-16 but the "
                                                 r"exposure needs columns 15-24, rows 1-4"):
        load_reference(path, "gain", window(x=15, y=1, nx=10, ny=4))
    larger = write_reference("sub.fits", "gain", SUBSTRT1=3, SUBSTRT2=3)
    with pytest.raises(JwstLazyInputError, match="covers columns 3-22"):
        load_reference(larger, "gain", window(x=1, y=3, nx=4, ny=4))


def test_wrong_reftype_is_refused(write_reference):
    path = write_reference("rn.fits", "readnoise")
    expected = r"rn\.fits \[REFTYPE\]: REFTYPE is 'READNOISE' \(expected 'GAIN'\)"
    with pytest.raises(JwstLazyInputError, match=expected):
        load_reference(path, "gain")


def test_incomplete_exposure_geometry_is_refused(write_reference):
    path = write_reference("gain.fits", "gain")
    with pytest.raises(JwstLazyInputError, match=r"exp_uncal\.fits \[SUBSIZE2\]"):
        load_reference(path, "gain", {**window(1, 1, 4, 4), "SUBSIZE2": None})
    with pytest.raises(JwstLazyInputError, match=r"\[SUBSTRT1\]: bad value 0"):
        load_reference(path, "gain", window(0, 1, 4, 4))


def test_damaged_file_is_named(tmp_path):
    path = tmp_path / "damaged.fits"
    path.write_bytes(b"not a fits file at all" * 200)
    with pytest.raises(JwstLazyInputError, match=r"damaged\.fits: cannot read"):
        load_reference(path, "gain")


def test_asdf_reference_gives_metadata_and_path(tmp_path):
    path = tmp_path / "dist.asdf"
    meta = {"reftype": "distortion", "instrument": {"name": "NIRCAM", "detector": "NRCA1"}}
    asdf.AsdfFile({"meta": meta}).write_to(path)
    ds = load_reference(path, "distortion", window(1, 1, 4, 4))
    assert not ds.data_vars
    assert ds.attrs["filename"] == str(path) and ds.attrs["DETECTOR"] == "NRCA1"
    with pytest.raises(JwstLazyInputError, match="REFTYPE"):
        load_reference(path, "filteroffset")
