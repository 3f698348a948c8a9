"""Our imaging WCS against the official ``jwst`` AssignWcsStep given the same DISTORTION file.

The official step runs offline against the minimal CRDS cache of ``jwstlazy.crosscheck.official``,
with every reference type overridden (our DISTORTION file, ``"N/A"`` for the rest).
"""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.wcs import (
    detector_geometry,
    footprint,
    footprint_from_s_region,
    imaging_wcs,
    s_region,
    siaf_distortion,
    write_distortion_reference,
)

pytestmark = pytest.mark.crosscheck

CASES = [  # (INSTRUME, DETECTOR, EXP_TYPE, (SUBSTRT1, SUBSTRT2, SUBSIZE1, SUBSIZE2), VA_SCALE)
    ("NIRCAM", "NRCB1", "NRC_IMAGE", (1, 1, 2048, 2048), 1.0),
    ("NIRCAM", "NRCALONG", "NRC_IMAGE", (1025, 513, 400, 160), 1.000083),
    ("NIRISS", "NIS", "NIS_IMAGE", (1, 1, 2048, 2048), 0.999951),
]


def _official_wcs(tmp_path, attrs: dict, exp_type: str, distortion_path):
    """Run the official AssignWcsStep on an ImageModel carrying ``attrs``; return (wcs, S_REGION)."""
    official = pytest.importorskip("jwstlazy.crosscheck.official")
    pytest.importorskip("jwst.assign_wcs")
    datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")
    with official.offline_official(tmp_path / "crds"):
        from jwst.assign_wcs import AssignWcsStep

        model = datamodels.ImageModel(np.zeros((attrs["SUBSIZE2"], attrs["SUBSIZE1"]), np.float32))
        meta = model.meta
        meta.instrument.name, meta.instrument.detector = attrs["INSTRUME"], attrs["DETECTOR"]
        if attrs["INSTRUME"] == "NIRCAM":
            meta.instrument.module = attrs["DETECTOR"][3]
            meta.instrument.channel = "LONG" if attrs["DETECTOR"].endswith("LONG") else "SHORT"
        meta.instrument.filter, meta.instrument.pupil = "F200W", "CLEAR"
        meta.exposure.type = exp_type
        meta.observation.date, meta.observation.time = "2023-01-01", "00:00:00"
        meta.subarray.name = "FULL" if attrs["SUBSIZE1"] == 2048 else "GENERIC"
        meta.subarray.xstart, meta.subarray.ystart = attrs["SUBSTRT1"], attrs["SUBSTRT2"]
        meta.subarray.xsize, meta.subarray.ysize = attrs["SUBSIZE1"], attrs["SUBSIZE2"]
        for name in ("ra_ref", "dec_ref", "roll_ref", "v2_ref", "v3_ref"):
            setattr(meta.wcsinfo, name, attrs[name.upper()])
        meta.velocity_aberration.scale_factor = attrs["VA_SCALE"]
        overrides = {f"override_{reftype}": "N/A" for reftype in AssignWcsStep.reference_file_types}
        overrides["override_distortion"] = str(distortion_path)
        result = AssignWcsStep.call(model, sip_approx=False, **overrides)
        return result.meta.wcs, result.meta.wcsinfo.s_region


@pytest.mark.parametrize(("instrument", "detector", "exp_type", "subarray", "va_scale"), CASES)
def test_matches_official_assign_wcs(tmp_path, instrument, detector, exp_type, subarray, va_scale,
                                     pointing_attrs, separation_mas, pixel_grid):
    geometry = detector_geometry(detector)
    siaf_like = type("Ref", (), {"V2Ref": geometry.v2_ref + 3.0, "V3Ref": geometry.v3_ref - 2.0})
    xstart, ystart, xsize, ysize = subarray
    attrs = pointing_attrs(instrument, detector, siaf_like, SUBSTRT1=xstart, SUBSTRT2=ystart,
                           SUBSIZE1=xsize, SUBSIZE2=ysize, VA_SCALE=va_scale)
    distortion = write_distortion_reference(tmp_path / "distortion.asdf",
                                            siaf_distortion(geometry), instrument, detector,
                                            exp_type=exp_type)
    official_wcs, official_s_region = _official_wcs(tmp_path, attrs, exp_type, distortion)
    ours = imaging_wcs(attrs, distortion_path=distortion)

    x, y = pixel_grid(xsize, ysize, n=9)
    ra, dec = ours(x, y)
    ra_official, dec_official = official_wcs(x, y, with_bounding_box=False)
    assert separation_mas(ra, dec, ra_official, dec_official).max() < 5.0

    corners, official_corners = footprint(ours), footprint_from_s_region(official_s_region)
    assert separation_mas(*corners.T, *official_corners.T).max() < 5.0
    assert s_region(corners) == official_s_region
    assert ours.get_transform("detector", "v2v3")(10.0, 20.0) == pytest.approx(
        official_wcs.get_transform("detector", "v2v3")(10.0, 20.0), abs=1e-9)
