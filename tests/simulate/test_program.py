"""simulate_program: a folder with uncal files, references, truth and associations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jwstlazy import datamodels
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.simulate import list_scenarios, load_truth, simulate_program


@pytest.fixture(scope="module")
def imaging(tmp_path_factory):
    out = tmp_path_factory.mktemp("nircam_imaging")
    return out, simulate_program("nircam-imaging", out, seed=3, size="64")


def test_scenarios_are_listed() -> None:
    names = list_scenarios()
    for name in ("nircam-imaging", "nircam-full", "niriss-imaging", "nirspec-dark", "miri-imaging", "tso-sub64"):
        assert names[name]
    with pytest.raises(JwstLazyInputError, match="scenario"):
        simulate_program("not-a-scenario", "unused")


def test_every_detector_of_a_nirspec_program_gets_references(tmp_path) -> None:
    """NIRSpec has no imaging distortion here: its references are written without one, for both detectors."""
    written = simulate_program("nirspec-dark", tmp_path, seed=1, size="64")
    assert set(written["references"]) == {"NRS1", "NRS2"}
    for refs in written["references"].values():
        assert "distortion" not in refs and {"mask", "dark", "superbias", "linearity"} <= set(refs)
        assert all(path.exists() for path in refs.values())


def test_program_writes_exposures_references_truth(imaging) -> None:
    out, written = imaging
    assert len(written["uncal"]) == 8 and len(written["truth"]) == 8
    for path in written["uncal"]:
        assert path.exists() and path.name.endswith("_uncal.fits") and path.parent == out
    assert set(written["references"]) == {"NRCA1", "NRCA2"}
    for refs in written["references"].values():
        assert len(refs) == 11 and all(p.parent == out / "references" for p in refs.values())
    ds = datamodels.open(written["uncal"][0])
    assert ds["SCI"].shape == (1, 6, 64, 64) and ds.attrs["READPATT"] == "SHALLOW4"
    truth = load_truth(written["truth"][0])
    assert truth.rate_dn.shape == (64, 64) and truth.attrs["filename"] == written["uncal"][0].name
    manifest = json.loads(written["manifest"].read_text())
    assert manifest["scenario"] == "nircam-imaging" and len(manifest["uncal"]) == 8


def test_associations_group_detectors_of_one_exposure(imaging) -> None:
    _, written = imaging
    level2 = json.loads(written["asn"]["image2"].read_text())
    level3 = json.loads(written["asn"]["image3"].read_text())
    assert level2["asn_type"] == "image2" and len(level2["products"]) == 8
    assert all(p["members"][0]["exptype"] == "science" for p in level2["products"])
    members = level3["products"][0]["members"]
    assert level3["asn_type"] == "image3" and len(members) == 8
    assert len({m["group_id"] for m in members}) == 4  # 4 dithers, 2 detectors each
    assert all(m["expname"].endswith("_cal.fits") for m in members)


def test_dithers_move_the_pointing(imaging) -> None:
    _, written = imaging
    nrca1 = [p for p in written["uncal"] if "nrca1" in p.name]
    attrs = [datamodels.open(p).attrs for p in nrca1]
    assert [a["PATT_NUM"] for a in attrs] == [1, 2, 3, 4]
    offsets = np.array([(a["XOFFSET"], a["YOFFSET"]) for a in attrs])
    ra = np.array([a["RA_REF"] for a in attrs])
    dec = np.array([a["DEC_REF"] for a in attrs])
    moved = np.hypot((ra - ra[0]) * np.cos(np.radians(dec[0])), dec - dec[0]) * 3600.0
    np.testing.assert_allclose(moved, np.hypot(*(offsets - offsets[0]).T), atol=0.01)
    assert len({a["EXPSTART"] for a in attrs}) == 4


def test_time_series_scenario(tmp_path) -> None:
    written = simulate_program("tso-sub64", tmp_path, seed=0)
    ds = datamodels.open(written["uncal"][0])
    assert ds["SCI"].shape[0] == 30 and ds.attrs["TSOVISIT"] and "ZEROFRAME" in ds
    assert set(written["asn"]) == {"tso-image2", "tso3"}
    truth = load_truth(written["truth"][0])
    assert truth.rate_dn.max() > 1000  # the bright star is on the subarray
