"""SIAF access: detector → aperture table, offline pysiaf import, geometry numbers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs import detector_geometry
from jwstlazy.wcs.siaf import DETECTOR_APERTURES, full_frame_aperture_name


def test_pysiaf_import_never_waits_on_the_network():
    """With ``requests.get`` made to hang, importing pysiaf through jwstlazy still finishes at once."""
    script = (
        "import time, requests\n"
        "requests.get = lambda *a, **k: time.sleep(600)\n"
        "from jwstlazy.wcs.siaf import import_pysiaf\n"
        "pysiaf = import_pysiaf()\n"
        "assert requests.get.__name__ == '<lambda>'\n"  # restored afterwards
        "print(pysiaf.JWST_PRD_VERSION)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("PRDOPSSOC")
    assert "CANNOT BE CHECKED" not in done.stderr


@pytest.mark.parametrize("detector", sorted(DETECTOR_APERTURES))
def test_every_supported_detector_has_full_frame_geometry(detector):
    geometry = detector_geometry(detector)
    assert geometry.name == DETECTOR_APERTURES[detector][1]
    assert geometry.x_sci_size >= 1024 and geometry.y_sci_size >= 1024
    assert geometry.vidl_parity in (-1, 1)
    n_terms = (geometry.degree + 1) * (geometry.degree + 2) // 2
    assert len(geometry.sci_to_idl_x) == len(geometry.idl_to_sci_y) == n_terms


def test_geometry_numbers_are_the_siaf_ones(aperture):
    siaf = aperture("NIRCam", "NRCA5_FULL")
    geometry = detector_geometry("nrcalong")
    assert (geometry.x_sci_ref, geometry.v2_ref, geometry.v3_idl_y_angle) == (
        siaf.XSciRef, siaf.V2Ref, siaf.V3IdlYAngle)
    assert geometry.sci_to_idl_y["c1_2"] == siaf.Sci2IdlY32  # x**1 y**2: SIAF index i=3, j=2


def test_unknown_detector_and_aperture_are_named(aperture):
    with pytest.raises(JwstLazyInputError, match=r"\[DETECTOR\].*NRS1"):
        full_frame_aperture_name("NRS1")
    with pytest.raises(JwstLazyInputError, match=r"\[APERNAME\]"):
        aperture("NIRCam", "NRCA1_NOPE")
