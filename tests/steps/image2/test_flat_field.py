"""flat_field: arithmetic against hand computation, bad-flat flags, laziness, N/A skip."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

import jwstlazy
from jwstlazy.datamodels import dqflags
from jwstlazy.steps.image2 import FlatFieldStep

DNU, NO_FLAT = dqflags.PIXEL["DO_NOT_USE"], dqflags.PIXEL["NO_FLAT_FIELD"]


@pytest.fixture(scope="module")
def flat_fielded(exposure):
    rate = jwstlazy.open(exposure.rate)
    result = FlatFieldStep().run(rate, {"flat": exposure.references["flat"]})
    return rate.compute(), result


def test_stays_lazy_and_records_keywords(flat_fielded):
    _, result = flat_fielded
    assert all(isinstance(result[name].data, da.Array) for name in ("SCI", "ERR", "DQ", "VAR_FLAT"))
    assert result.attrs["S_FLAT"] == "COMPLETE" and result.attrs["R_FLAT"] == "tiny_flat.fits"


def test_arithmetic_matches_hand_computation(flat_fielded, exposure):
    rate, result = flat_fielded
    result = result.compute()
    flat, flat_err = exposure.flat, exposure.flat_err
    y, x = 40, 50  # an ordinary pixel
    sci = rate.SCI.values[y, x] / flat[y, x]
    assert result.SCI.values[y, x] == pytest.approx(sci, rel=1e-6)
    assert result.VAR_POISSON.values[y, x] == pytest.approx(rate.VAR_POISSON.values[y, x] / flat[y, x] ** 2, rel=1e-6)
    assert result.VAR_RNOISE.values[y, x] == pytest.approx(rate.VAR_RNOISE.values[y, x] / flat[y, x] ** 2, rel=1e-6)
    assert result.VAR_FLAT.values[y, x] == pytest.approx(sci**2 * flat_err[y, x] ** 2 / flat[y, x] ** 2, rel=1e-5)
    total = result.VAR_POISSON.values[y, x] + result.VAR_RNOISE.values[y, x] + result.VAR_FLAT.values[y, x]
    assert result.ERR.values[y, x] == pytest.approx(np.sqrt(total), rel=1e-6)


def test_bad_flat_pixels_are_flagged_and_nan(flat_fielded, exposure):
    rate, result = flat_fielded
    result = result.compute()
    for name, (y, x) in exposure.flagged_flat.items():
        assert result.DQ.values[y, x] & (DNU | NO_FLAT) == DNU | NO_FLAT, name
        assert np.isnan(result.SCI.values[y, x]) and np.isnan(result.VAR_FLAT.values[y, x]), name
    assert result.DQ.values[3, 4] & dqflags.PIXEL["UNRELIABLE_FLAT"]  # flat DQ is ORed in
    assert not result.DQ.values[3, 4] & DNU
    good = (result.DQ.values & DNU) == 0
    assert np.isfinite(result.SCI.values[good]).all()
    assert np.isnan(result.ERR.values[~good]).all()  # NaNs and DO_NOT_USE agree


def test_not_applicable_flat_skips(exposure):
    result = FlatFieldStep().run(jwstlazy.open(exposure.rate), {"flat": "N/A"})
    assert result.attrs["S_FLAT"] == "SKIPPED" and "VAR_FLAT" not in result
