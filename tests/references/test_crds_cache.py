"""Header-only folder scans: caching, CRDS name filtering, ASDF metadata, the flat cache layout."""

from __future__ import annotations

import os
import time

import asdf
import pytest
from astropy.io import fits

from jwstlazy.references import ReferenceFinder, crds_cache
from jwstlazy.references.crds_cache import crds_name_filter, read_reference_header, scan_directory
from jwstlazy.references.types import SELECTOR_KEYWORDS, reference_type


def test_headers_are_read_once_until_the_file_changes(write_reference, tmp_path, monkeypatch):
    path = write_reference("gain.fits", "gain", folder=tmp_path / "refs")
    reads = []
    monkeypatch.setattr(crds_cache, "read_reference_header",
                        lambda p: reads.append(p) or read_reference_header(p))
    assert scan_directory(tmp_path / "refs").headers[0].get("DETECTOR") == "NRCA1"
    scan_directory(tmp_path / "refs")
    assert len(reads) == 1
    path.unlink()
    write_reference("gain.fits", "gain", folder=tmp_path / "refs", DETECTOR="NRCB4", AUTHOR="someone else")
    assert scan_directory(tmp_path / "refs").headers[0].get("DETECTOR") == "NRCB4"
    assert len(reads) == 2


def _settle(folder, year: int = 2001) -> None:
    """Date the folder's last change long ago (as a folder of references usually is), at a fixed time."""
    then = int((year - 1970) * 365.25 * 86400) * 10**9
    os.utime(folder, ns=(then, then))


@pytest.fixture
def listings(monkeypatch):
    """Count the folder listings scans make."""
    made = []
    real = os.scandir
    monkeypatch.setattr(crds_cache.os, "scandir", lambda path: made.append(path) or real(path))
    return made


def test_a_settled_folder_is_listed_once_per_filter(write_reference, tmp_path, listings):
    folder = tmp_path / "refs"
    write_reference("gain.fits", "gain", folder=folder)
    write_reference("dark.fits", "dark", folder=folder)
    _settle(folder)
    first = scan_directory(folder, None, "gain")
    assert scan_directory(folder, None, "gain") == first and scan_directory(folder, None, "dark") == first
    assert len(listings) == 1
    darks = crds_name_filter("dark", "NIRCAM")
    scan_directory(folder, darks, "dark")
    scan_directory(folder, crds_name_filter("dark", "NIRCAM"), "dark")  # an equal filter
    assert len(listings) == 2
    scan_directory(folder)  # no type given: listed and checked as before
    assert len(listings) == 3


def test_a_file_of_the_wanted_type_rewritten_in_place_is_noticed(write_reference, tmp_path):
    folder = tmp_path / "refs"
    path = write_reference("gain.fits", "gain", folder=folder)
    _settle(folder)
    assert scan_directory(folder, None, "gain").headers[0].get("DETECTOR") == "NRCA1"
    fits.setval(path, "DETECTOR", value="NRCB4")  # in place: the folder keeps its time
    os.utime(path, ns=(time.time_ns() + 10**9,) * 2)  # (a tick later, on file systems with coarse times)
    _settle(folder)  # the same time as before: only the file tells
    assert scan_directory(folder, None, "gain").headers[0].get("DETECTOR") == "NRCB4"


def test_files_added_or_removed_change_the_folder_and_are_noticed(write_reference, tmp_path, listings):
    folder = tmp_path / "refs"
    write_reference("gain_a.fits", "gain", folder=folder)
    _settle(folder, 2001)
    assert len(scan_directory(folder, None, "gain").headers) == 1
    write_reference("gain_b.fits", "gain", folder=folder, DETECTOR="NRCB4")
    _settle(folder, 2002)  # changed since the remembered scan
    assert len(scan_directory(folder, None, "gain").headers) == 2
    (folder / "gain_a.fits").unlink()
    assert [h.path.name for h in scan_directory(folder, None, "gain").headers] == ["gain_b.fits"]
    assert len(listings) == 3


def test_a_folder_changed_just_now_is_not_remembered(write_reference, tmp_path, listings):
    """Its time may not move on a change within the same tick of the file system's clock."""
    folder = tmp_path / "refs"
    write_reference("gain.fits", "gain", folder=folder)
    scan_directory(folder, None, "gain")
    scan_directory(folder, None, "gain")
    assert len(listings) == 2


def test_missing_folder_scans_empty(tmp_path):
    scan = scan_directory(tmp_path / "absent")
    assert scan.headers == () and scan.unreadable == ()


def test_crds_name_filter():
    keep = crds_name_filter("dark", "NIRCAM")
    assert keep("jwst_nircam_dark_0342.fits")
    assert not keep("jwst_nircam_darkcurrent_0001.fits")
    assert not keep("jwst_nircam_gain_0342.fits")
    assert not keep("jwst_miri_dark_0001.fits")
    assert keep("my_own_dark.fits")  # not a CRDS name: its header decides
    assert crds_name_filter("pars-jumpstep", "nircam")("jwst_nircam_pars-jumpstep_0001.asdf")


def test_asdf_meta_translated_to_keywords(tmp_path):
    path = tmp_path / "f.asdf"
    meta = {"reftype": "FILTEROFFSET", "useafter": "2022-01-01T00:00:00",
            "instrument": {"name": "NIRCAM", "channel": "LONG", "module": "A"},
            "exposure": {"p_exptype": "NRC_IMAGE|"}, "subarray": {"xstart": 1, "ysize": 2048}}
    asdf.AsdfFile({"meta": meta}).write_to(path)
    keywords = read_reference_header(path).keywords
    assert keywords["REFTYPE"] == "FILTEROFFSET" and keywords["MODULE"] == "A"
    assert keywords["P_EXP_TY"] == "NRC_IMAGE|" and int(keywords["SUBSIZE2"]) == 2048


def test_flat_crds_layout_is_searched_too(write_reference, tmp_path, exposure):
    flat = write_reference("jwst_nircam_gain_0003.fits", "gain", folder=tmp_path / "references" / "jwst")
    assert ReferenceFinder(crds_path=tmp_path).find("gain", exposure) == flat


def test_reference_types_known_and_unknown():
    assert reference_type(" Linearity ").extensions == ("COEFFS", "DQ")
    assert reference_type("distortion").file_format == "asdf"
    unknown = reference_type("pars-somestep")
    assert unknown.selectors == SELECTOR_KEYWORDS and unknown.extensions == ()


@pytest.mark.parametrize("reftype", ["dark", "gain"])
def test_unknown_selector_values_do_not_block(write_reference, tmp_path, exposure, reftype):
    """Selectors the exposure lacks are ignored; P_ patterns with ANY match everything."""
    path = write_reference(f"{reftype}.fits", reftype, folder=tmp_path / "r", READPATT="BRIGHT2",
                           P_SUBARR="ANY|")
    without_readpatt = {k: v for k, v in exposure.items() if k != "READPATT"}
    assert ReferenceFinder(directories=[tmp_path / "r"]).find(reftype, without_readpatt) == path
