"""Image2Pipeline: lazy build, written products the official datamodels open, and the official image2."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import dask.array as da
import numpy as np
import pytest

import jwstlazy
from jwstlazy.graphs.image2 import Image2Pipeline
from jwstlazy.graphs.registry import PIPELINES

datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")

_SYNTHETIC = Path(__file__).parents[1] / "steps" / "image2" / "conftest.py"  # the tiny NIRCam exposure


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("image2_synthetic_exposure", _SYNTHETIC)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass needs its module registered
    spec.loader.exec_module(module)
    return module.write_exposure(tmp_path_factory.mktemp("image2_pipeline"))


@pytest.fixture(scope="module")
def written(exposure, tmp_path_factory):
    output = tmp_path_factory.mktemp("image2_out")
    pipeline = Image2Pipeline(references=exposure.references)
    pipeline.run(exposure.rate, output_dir=output, progress=False)
    root = exposure.rate.name.replace("_rate.fits", "")
    return output / f"{root}_cal.fits", output / f"{root}_i2d.fits"


def test_registered_and_lazy(exposure):
    assert PIPELINES["image2"] is Image2Pipeline
    products = Image2Pipeline(references=exposure.references).build(exposure.rate)
    assert set(products) == {"cal", "i2d"}
    assert all(isinstance(v.data, da.Array) for p in products.values() for v in p.data_vars.values())
    assert products["cal"].attrs["product"] == "cal"
    for keyword in ("S_WCS", "S_FLAT", "S_PHOTOM"):
        assert products["cal"].attrs[keyword] == "COMPLETE"
    assert products["cal"].attrs["S_BKDSUB"] == "SKIPPED"


def test_chains_from_a_lazy_rate_dataset(exposure):
    rate = jwstlazy.open(exposure.rate)
    from_dataset = Image2Pipeline(references=exposure.references).build({"rate": rate})
    from_file = Image2Pipeline(references=exposure.references).build(exposure.rate)
    np.testing.assert_array_equal(from_dataset["cal"].SCI.values, from_file["cal"].SCI.values)


def test_official_datamodels_open_cal_and_i2d(written):
    cal_path, i2d_path = written
    with datamodels.ImageModel(cal_path) as cal:
        assert cal.meta.cal_step.photom == "COMPLETE" and cal.meta.bunit_data == "MJy/sr"
        assert cal.var_flat.shape == cal.data.shape and cal.area.shape == cal.data.shape
        ra, dec = cal.meta.wcs(10.0, 20.0)
        assert np.isfinite([ra, dec]).all()
    with datamodels.ImageModel(i2d_path) as i2d:
        assert i2d.con.ndim == 3 and i2d.wht.shape == i2d.data.shape
        assert i2d.meta.wcs is not None
    reopened = jwstlazy.open(i2d_path)
    assert reopened.attrs["product"] == "i2d" and reopened.CON.dtype == np.int32


@pytest.mark.crosscheck
def test_matches_the_official_image2(exposure, written, tmp_path):
    from jwstlazy.crosscheck.official import run_official_image2_subprocess

    official = run_official_image2_subprocess(exposure.rate, exposure.references, tmp_path / "official",
                                              skip=["resample"], timeout_s=600)
    ours_path, _ = written
    with datamodels.ImageModel(official["products"]["cal"]) as theirs, datamodels.ImageModel(ours_path) as ours:
        both = np.isfinite(theirs.data) & np.isfinite(ours.data)
        assert both.sum() > 0.99 * theirs.data.size - 10
        np.testing.assert_array_equal(np.isnan(ours.data), np.isnan(theirs.data))
        np.testing.assert_allclose(ours.data[both], theirs.data[both], rtol=1e-5)
        np.testing.assert_array_equal(ours.dq, theirs.dq)
        for name in ("err", "var_poisson", "var_rnoise", "var_flat", "area"):
            np.testing.assert_allclose(getattr(ours, name)[both], getattr(theirs, name)[both], rtol=1e-5)
        assert ours.meta.photometry.conversion_megajanskys == pytest.approx(
            theirs.meta.photometry.conversion_megajanskys)
        ny, nx = ours.data.shape
        x, y = np.array([-0.5, -0.5, nx - 0.5, nx - 0.5]), np.array([-0.5, ny - 0.5, ny - 0.5, -0.5])
        ra1, dec1 = ours.meta.wcs(x, y, with_bounding_box=False)
        ra2, dec2 = theirs.meta.wcs(x, y, with_bounding_box=False)
        separation_mas = np.hypot((ra1 - ra2) * np.cos(np.deg2rad(dec1)), dec1 - dec2) * 3.6e6
        assert separation_mas.max() < 5.0


def test_uncal_to_i2d_is_one_lazy_graph(tmp_path):
    """uncal -> rate -> cal -> i2d through Image2Pipeline alone, with no file between the stages."""
    from jwstlazy.references import ReferenceFinder
    from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files

    write_reference_files("NRCA1", tmp_path, subarray="SUB160")
    uncal, truth = simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB160", ngroups=4, seed=2))
    products = Image2Pipeline(references=ReferenceFinder(directories=[tmp_path])).build(uncal)
    assert set(products) == {"rate", "rateints", "cal", "i2d"}
    assert all(isinstance(v.data, da.Array) for ds in products.values() for v in ds.data_vars.values()
               if v.dims and v.dims[-1] == "x")
    rate, cal = products["rate"].compute(), products["cal"].compute()
    good = (rate["DQ"].values == 0) & np.isfinite(truth.rate_dn)
    normalised = (rate["SCI"].values[good] - truth.rate_dn[good]) / rate["ERR"].values[good]
    assert abs(np.median(normalised)) < 0.3 and 0.9 < np.std(normalised) < 1.2
    photmjsr = cal.attrs["PHOTMJSR"]
    flat_ok = good & (cal["DQ"].values == 0)
    # calibrated = rate / flat * PHOTMJSR: the same residual, scaled
    scale = truth.cal_mjysr[flat_ok] / truth.rate_dn[flat_ok]
    np.testing.assert_allclose(cal["SCI"].values[flat_ok], rate["SCI"].values[flat_ok] * scale, rtol=1e-4)
    assert photmjsr > 0 and cal.attrs["S_RAMP"] == "COMPLETE" and cal.attrs["S_PHOTOM"] == "COMPLETE"
