"""Which reference file ReferenceFinder picks, and what it says when it finds none."""

from __future__ import annotations

import asdf
import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError, MissingReferenceError
from jwstlazy.references import ReferenceFinder


@pytest.fixture
def refs(tmp_path):
    folder = tmp_path / "refs"
    folder.mkdir()
    return folder


def test_override_wins_over_directory(write_reference, refs, exposure):
    write_reference("in_folder_gain.fits", "gain", folder=refs)
    chosen = write_reference("mine.fits", "gain")
    finder = ReferenceFinder(overrides={"GAIN": chosen}, directories=[refs])
    assert finder.find("gain", exposure) == chosen


def test_override_not_applicable_gives_none(refs, exposure):
    finder = ReferenceFinder(overrides={"dark": "n/a", "gain": None}, directories=[refs])
    assert finder.find("dark", exposure) is None
    assert finder.load("dark", exposure) is None
    with pytest.raises(MissingReferenceError):  # None means "no override": the search goes on
        finder.find("gain", exposure)


def test_override_that_does_not_exist_is_named(tmp_path, exposure):
    finder = ReferenceFinder(overrides={"gain": tmp_path / "nope.fits"})
    with pytest.raises(JwstLazyInputError, match=r"nope\.fits.*override for gain.*does not exist"):
        finder.find("gain", exposure)


def test_directory_match_on_detector(write_reference, refs, exposure):
    write_reference("a2.fits", "gain", folder=refs, DETECTOR="NRCA2")
    a1 = write_reference("a1.fits", "gain", folder=refs, DETECTOR="NRCA1")
    write_reference("b1.fits", "gain", folder=refs, DETECTOR="NRCB1")
    assert ReferenceFinder(directories=[refs]).find("gain", exposure) == a1


def test_instrument_wide_reference_without_detector(write_reference, refs, exposure):
    photom = write_reference("photom.fits", "photom", folder=refs, DETECTOR=None, images={},
                             tables={"PHOTOM": {"filter": ["F200W"], "photmjsr": [0.5]}})
    write_reference("miri_photom.fits", "photom", folder=refs, INSTRUME="MIRI", DETECTOR="ANY",
                    images={}, tables={"PHOTOM": {"filter": ["F770W"], "photmjsr": [0.5]}})
    assert ReferenceFinder(directories=[refs]).find("photom", exposure) == photom


def test_exact_subarray_beats_generic(write_reference, refs, exposure):
    write_reference("generic.fits", "dark", folder=refs, SUBARRAY="GENERIC",
                    USEAFTER="2023-01-01T00:00:00")  # newer, but not the exposure's subarray
    exact = write_reference("sub.fits", "dark", folder=refs, SUBARRAY="SUB160")
    write_reference("other.fits", "dark", folder=refs, SUBARRAY="SUB640")
    sub160 = {**exposure, "SUBARRAY": "SUB160", "SUBSIZE1": 4, "SUBSIZE2": 4}
    finder = ReferenceFinder(directories=[refs])
    assert finder.find("dark", sub160) == exact
    assert finder.find("dark", {**exposure, "SUBARRAY": "SUB320"}).name == "generic.fits"


@pytest.mark.parametrize("name", ["FULL", "GENERIC"])
def test_full_frame_reference_not_containing_the_subarray_is_rejected(write_reference, refs, exposure, name):
    write_reference("full.fits", "gain", folder=refs, SUBARRAY=name,
                    SUBSTRT1=1, SUBSTRT2=1, SUBSIZE1=20, SUBSIZE2=16)
    outside = {**exposure, "SUBARRAY": "SUBX", "SUBSTRT1": 18, "SUBSIZE1": 8, "SUBSIZE2": 4}
    with pytest.raises(MissingReferenceError, match="do not contain the exposure's subarray"):
        ReferenceFinder(directories=[refs]).find("gain", outside)


def test_filter_selector_with_alternatives_and_pattern_keyword(write_reference, refs, exposure):
    f150 = write_reference("f150.fits", "flat", folder=refs, FILTER="F150W")
    f200 = write_reference("f200.fits", "flat", folder=refs, FILTER="F200W|F212N|")
    f444 = write_reference("f444.fits", "flat", folder=refs, FILTER="MULTIPLE", P_FILTER="F444W|F410M|")
    finder = ReferenceFinder(directories=[refs])
    assert finder.find("flat", exposure) == f200
    assert finder.find("flat", {**exposure, "FILTER": "F212N"}) == f200
    assert finder.find("flat", {**exposure, "FILTER": "F150W"}) == f150
    assert finder.find("flat", {**exposure, "FILTER": "F410M"}) == f444
    with pytest.raises(MissingReferenceError, match="FILTER F150W does not match F090W"):
        finder.find("flat", {**exposure, "FILTER": "F090W"})


def test_specific_selector_beats_wildcard(write_reference, refs, exposure):
    write_reference("any.fits", "flat", folder=refs, FILTER="ANY", USEAFTER="2023-01-01T00:00:00")
    specific = write_reference("f200.fits", "flat", folder=refs, FILTER="F200W")
    assert ReferenceFinder(directories=[refs]).find("flat", exposure) == specific


def test_useafter_latest_not_after_the_observation(write_reference, refs, exposure):
    write_reference("old.fits", "gain", folder=refs, USEAFTER="2015-01-01T00:00:00")
    mid = write_reference("mid.fits", "gain", folder=refs, USEAFTER="Jan 01 2023 00:00:00")
    late = write_reference("late.fits", "gain", folder=refs, USEAFTER="2024-06-01T00:00:00")
    finder = ReferenceFinder(directories=[refs])
    assert finder.find("gain", exposure) == mid  # observed 2023-05-01
    assert finder.find("gain", {**exposure, "DATE-OBS": "2025-01-01"}) == late
    with pytest.raises(MissingReferenceError, match="after the exposure"):
        finder.find("gain", {**exposure, "DATE-OBS": "2010-01-01"})


def test_file_name_breaks_ties(write_reference, refs, exposure):
    write_reference("jwst_nircam_gain_0001.fits", "gain", folder=refs)
    newest = write_reference("jwst_nircam_gain_0012.fits", "gain", folder=refs)
    assert ReferenceFinder(directories=[refs]).find("gain", exposure) == newest


def test_directories_searched_in_order(write_reference, tmp_path, exposure):
    first = write_reference("g.fits", "gain", folder=tmp_path / "first")
    write_reference("g.fits", "gain", folder=tmp_path / "second", USEAFTER="2023-01-01T00:00:00")
    finder = ReferenceFinder(directories=[tmp_path / "missing", tmp_path / "first", tmp_path / "second"])
    assert finder.find("gain", exposure) == first


def test_crds_cache_layout_from_environment(write_reference, tmp_path, monkeypatch, exposure):
    cache = tmp_path / "crds"
    folder = cache / "references" / "jwst" / "nircam"
    wanted = write_reference("jwst_nircam_dark_0007.fits", "dark", folder=folder)
    write_reference("jwst_nircam_dark_0008.fits", "dark", folder=folder, DETECTOR="NRCB2")
    (folder / "jwst_nircam_gain_0001.fits").write_text("not even FITS: never opened for a dark")
    monkeypatch.setenv("CRDS_PATH", str(cache))
    finder = ReferenceFinder()
    assert finder.crds_path == cache
    assert finder.find("dark", exposure) == wanted
    with pytest.raises(MissingReferenceError, match="CRDS cache .*nircam"):
        finder.find("linearity", exposure)


def test_unreadable_and_wrong_type_files_are_skipped_and_reported(write_reference, refs, exposure):
    (refs / "broken.fits").write_bytes(b"SIMPLE  =   garbage")
    write_reference("not_a_gain.fits", "readnoise", folder=refs)
    good = write_reference("zz_gain.fits", "gain", folder=refs)
    finder = ReferenceFinder(directories=[refs])
    assert finder.find("gain", exposure) == good
    with pytest.raises(MissingReferenceError) as info:
        finder.find("saturation", exposure)
    message = str(info.value)
    assert "broken.fits: unreadable" in message
    assert "0 saturation file(s), 2 of other types, 1 unreadable" in message


def test_missing_reference_message_names_type_exposure_and_places(write_reference, tmp_path, exposure):
    folder = tmp_path / "refs"
    write_reference("b.fits", "linearity", folder=folder, DETECTOR="NRCB1")
    cache = tmp_path / "crds"
    finder = ReferenceFinder(overrides={"gain": "N/A"}, directories=[folder], crds_path=cache)
    with pytest.raises(MissingReferenceError) as info:
        finder.find("linearity", exposure)
    message = str(info.value)
    for expected in ("no linearity reference file", "jw01234001001_01101_00001_nrca1_uncal.fits",
                     "INSTRUME=NIRCAM", "DETECTOR=NRCA1", "SUBARRAY=FULL", "override: none given",
                     f"directory {folder}", "b.fits: DETECTOR NRCB1 does not match NRCA1",
                     f"CRDS cache {cache / 'references' / 'jwst' / 'nircam'}: folder does not exist"):
        assert expected in message
    assert info.value.where == "reftype linearity"


def test_exposure_without_instrument_is_refused(refs, exposure):
    del exposure["INSTRUME"]
    with pytest.raises(JwstLazyInputError, match=r"\[INSTRUME\]"):
        ReferenceFinder(directories=[refs]).find("gain", exposure)


def test_asdf_distortion_found_by_its_meta_tree(refs, exposure):
    meta = {"reftype": "DISTORTION", "useafter": "2022-01-01T00:00:00",
            "instrument": {"name": "NIRCAM", "detector": "NRCA1", "channel": "SHORT"},
            "exposure": {"type": "NRC_IMAGE", "p_exptype": "NRC_IMAGE|NRC_TSIMAGE|"}}
    asdf.AsdfFile({"meta": meta, "model": np.zeros(2)}).write_to(refs / "dist_a1.asdf")
    other = {**meta, "instrument": {**meta["instrument"], "detector": "NRCA2"}}
    asdf.AsdfFile({"meta": other}).write_to(refs / "dist_a2.asdf")
    finder = ReferenceFinder(directories=[refs])
    assert finder.find("distortion", exposure) == refs / "dist_a1.asdf"
    with pytest.raises(MissingReferenceError, match="EXP_TYPE"):
        finder.find("distortion", {**exposure, "EXP_TYPE": "NRC_WFSS"})


def test_load_and_describe(write_reference, refs, exposure):
    gain = write_reference("gain.fits", "gain", folder=refs)
    finder = ReferenceFinder(overrides={"dark": "N/A"}, directories=[refs])
    loaded = finder.load("gain", exposure)
    assert loaded.attrs["filename"] == str(gain)
    assert finder.describe(exposure, ["gain", "dark", "readnoise"]) == {
        "gain": str(gain), "dark": "N/A", "readnoise": "not found"}
