"""Header-only folder scans: caching, CRDS name filtering, ASDF metadata, the flat cache layout."""

from __future__ import annotations

import asdf
import pytest

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
