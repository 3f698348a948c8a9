"""SIAF distortion models and DISTORTION reference files (write, read, override)."""

from __future__ import annotations

import asdf
import numpy as np
import pytest
from astropy import units as u
from astropy.modeling.models import Shift

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs import (
    detector_geometry,
    imaging_wcs,
    read_distortion_reference,
    siaf_distortion,
    write_distortion_reference,
)


def test_siaf_distortion_matches_pysiaf_sci_to_tel(aperture, pixel_grid):
    full = aperture("NIRCam", "NRCB4_FULL")
    model = siaf_distortion(detector_geometry("NRCB4"))
    x, y = pixel_grid(2048, 2048)
    v2, v3 = model(x, y)
    v2_siaf, v3_siaf = full.sci_to_tel(x + 1, y + 1)
    assert np.hypot(v2 - v2_siaf, v3 - v3_siaf).max() < 1e-6  # arcsec


def test_reference_file_round_trip_and_metadata(tmp_path, pixel_grid):
    model = siaf_distortion(detector_geometry("NRCALONG"))
    path = write_distortion_reference(tmp_path / "dist.asdf", model, "NIRCAM", "NRCALONG",
                                      exp_type="NRC_IMAGE")
    with asdf.open(path) as af:
        meta = af.tree["meta"]
        assert meta["reftype"] == "distortion"
        assert meta["input_units"] == u.pix and meta["output_units"] == u.arcsec
        assert meta["instrument"] == {"name": "NIRCAM", "detector": "NRCALONG", "module": "A",
                                      "channel": "LONG", "p_pupil": "ANY|"}
    loaded = read_distortion_reference(path)
    x, y = pixel_grid(2048, 2048, n=7)
    np.testing.assert_allclose(loaded(x, y), model(x, y), rtol=0, atol=1e-10)
    np.testing.assert_allclose(loaded.inverse(*model(x, y)), (x, y), atol=0.01)


def test_reference_file_overrides_siaf(tmp_path, aperture, pointing_attrs):
    full = aperture("NIRCam", "NRCA4_FULL")
    attrs = pointing_attrs("NIRCAM", "NRCA4", full)
    shifted = Shift(10.0) & Shift(0.0) | siaf_distortion(detector_geometry("NRCA4"))
    path = write_distortion_reference(tmp_path / "dist.asdf", shifted, "NIRCAM", "NRCA4")
    from_file = imaging_wcs(attrs, distortion_path=path)
    from_siaf = imaging_wcs(attrs)
    np.testing.assert_allclose(from_file(100.0, 200.0), from_siaf(110.0, 200.0), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("change", "where"),
    [({"reftype": "flat"}, "meta.reftype"),
     ({"input_units": u.arcsec}, "meta.input_units"),
     ({"output_units": u.deg}, "meta.output_units")],
)
def test_bad_reference_file_is_named(tmp_path, change, where):
    meta = {"reftype": "distortion", "input_units": u.pix, "output_units": u.arcsec, **change}
    path = tmp_path / "bad.asdf"
    asdf.AsdfFile({"meta": meta, "model": Shift(1) & Shift(1)}).write_to(path)
    with pytest.raises(JwstLazyInputError, match=rf"bad\.asdf \[{where}\]"):
        read_distortion_reference(path)


def test_reference_file_without_model_is_named(tmp_path):
    path = tmp_path / "nomodel.asdf"
    meta = {"reftype": "distortion", "input_units": u.pix, "output_units": u.arcsec}
    asdf.AsdfFile({"meta": meta}).write_to(path)
    with pytest.raises(JwstLazyInputError, match=r"\[model\]"):
        read_distortion_reference(path)
