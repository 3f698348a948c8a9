"""A gwcs stored in a FITS file's ASDF extension, read back by us and by the official datamodels."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from jwstlazy.wcs import imaging_wcs, wcs_from_fits, wcs_to_asdf_hdu


@pytest.fixture(scope="module")
def nircam_wcs(aperture, pointing_attrs):
    attrs = pointing_attrs("NIRCAM", "NRCA1", aperture("NIRCam", "NRCA1_FULL"), VA_SCALE=1.00007,
                           SUBSTRT1=1025, SUBSTRT2=1, SUBSIZE1=64, SUBSIZE2=32)
    return imaging_wcs(attrs)


def _write_image_model_file(path, wcs, shape=(32, 64), asdf_hdu=True) -> None:
    """An ImageModel-shaped FITS file: primary (DATAMODL), SCI, and the ASDF extension."""
    primary = fits.PrimaryHDU()
    primary.header.update(DATAMODL="ImageModel", TELESCOP="JWST", INSTRUME="NIRCAM", DETECTOR="NRCA1")
    hdus = [primary, fits.ImageHDU(np.zeros(shape, np.float32), name="SCI")]
    if asdf_hdu:
        hdus.append(wcs_to_asdf_hdu(wcs, tree_extra={"meta": {"filename": path.name}}))
    fits.HDUList(hdus).writeto(path)


def test_hdu_layout_is_the_official_one(nircam_wcs):
    hdu = wcs_to_asdf_hdu(nircam_wcs)
    assert hdu.name == "ASDF" and hdu.columns.names == ["ASDF_METADATA"]
    assert hdu.data.shape == (1,) and hdu.columns[0].format.endswith("B")
    assert bytes(hdu.data["ASDF_METADATA"][0][:10]) == b"#ASDF 1.0."


def test_wcs_round_trips_through_fits(tmp_path, nircam_wcs, pixel_grid):
    path = tmp_path / "image.fits"
    _write_image_model_file(path, nircam_wcs)
    loaded = wcs_from_fits(path)
    x, y = pixel_grid(64, 32, n=5)
    np.testing.assert_array_equal(loaded(x, y), nircam_wcs(x, y))
    assert loaded.available_frames == ["detector", "v2v3", "v2v3vacorr", "world"]
    assert loaded.bounding_box.bounding_box(order="F") == ((-0.5, 63.5), (-0.5, 31.5))


def test_no_asdf_extension_gives_none(tmp_path, nircam_wcs):
    path = tmp_path / "plain.fits"
    _write_image_model_file(path, nircam_wcs, asdf_hdu=False)
    assert wcs_from_fits(path) is None


@pytest.mark.crosscheck
def test_official_datamodels_read_meta_wcs(tmp_path, nircam_wcs, pixel_grid, separation_mas):
    datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")
    path = tmp_path / "image.fits"
    _write_image_model_file(path, nircam_wcs)
    with datamodels.ImageModel(path) as model:
        x, y = pixel_grid(64, 32, n=5)
        ra, dec = model.meta.wcs(x, y)
        assert model.meta.instrument.detector == "NRCA1"
        assert model.meta.filename == "image.fits"
    assert separation_mas(ra, dec, *nircam_wcs(x, y)).max() == 0.0
