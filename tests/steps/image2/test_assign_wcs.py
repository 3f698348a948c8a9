"""assign_wcs: the gwcs in attr ``wcs``, S_REGION, the DISTORTION reference, non-imaging input."""

from __future__ import annotations

import numpy as np
import pytest
from gwcs import WCS

import jwstlazy
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.steps.image2 import AssignWcsStep
from jwstlazy.wcs import footprint_from_s_region


@pytest.fixture(scope="module")
def assigned(exposure):
    return AssignWcsStep().run(jwstlazy.open(exposure.rate), {"distortion": exposure.references["distortion"]})


def test_wcs_and_footprint(assigned):
    wcs = assigned.attrs["wcs"]
    assert isinstance(wcs, WCS) and wcs.available_frames == ["detector", "v2v3", "v2v3vacorr", "world"]
    corners = footprint_from_s_region(assigned.attrs["S_REGION"])
    ny, nx = assigned.sizes["y"], assigned.sizes["x"]
    ra, dec = wcs([-0.5, -0.5, nx - 0.5, nx - 0.5], [-0.5, ny - 0.5, ny - 0.5, -0.5])
    np.testing.assert_allclose(corners, np.column_stack([ra, dec]), atol=1e-8)
    assert assigned.attrs["S_WCS"] == "COMPLETE" and assigned.attrs["R_DISTOR"] == "tiny_distortion.asdf"


def test_siaf_distortion_when_reference_is_not_applicable(exposure, assigned):
    siaf = AssignWcsStep().run(jwstlazy.open(exposure.rate), {"distortion": "N/A"})
    np.testing.assert_allclose(siaf.attrs["wcs"](10.0, 20.0), assigned.attrs["wcs"](10.0, 20.0), atol=1e-9)


def test_spectroscopic_exposure_is_refused(exposure):
    rate = jwstlazy.open(exposure.rate)
    rate.attrs["EXP_TYPE"] = "NRC_WFSS"
    with pytest.raises(JwstLazyInputError, match=r"\[EXP_TYPE\].*not an imaging mode"):
        AssignWcsStep().run(rate, {"distortion": "N/A"})
