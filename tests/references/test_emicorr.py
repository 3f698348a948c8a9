"""The EMICORR reference (jwstlazy.references.emicorr): write/read, case selection, finding, official reader."""

from __future__ import annotations

import asdf
import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError, MissingReferenceError
from jwstlazy.references import ReferenceFinder
from jwstlazy.references.emicorr import (
    EmiCase,
    read_emicorr_reference,
    write_emicorr_reference,
)

WAVES = {"Hz390": (390.625, np.sin(2 * np.pi * (np.arange(128) + 0.5) / 128)),
         "Hz10": (10.039216, np.cos(2 * np.pi * (np.arange(500) + 0.5) / 500))}
CASES = {"SUB64": (28, 8512, ["Hz390"]), "FULL_FAST": (271, 277504, ["Hz10", "Hz390"]),
         "FULL_SLOW": (2333, 2388992, ["Hz10"]), "MASK1065": (82, 23968, ["Hz390", "Hz218"])}
MIRI = {"INSTRUME": "MIRI", "DETECTOR": "MIRIMAGE", "SUBARRAY": "SUB64", "READPATT": "FASTR1",
        "DATE-OBS": "2024-01-01", "TIME-OBS": "00:00:00"}


@pytest.fixture
def emicorr_file(tmp_path):
    return write_emicorr_reference(tmp_path / "jwst_miri_emicorr_0001.asdf", WAVES, CASES)


def test_round_trip_and_case_selection(emicorr_file):
    ref = read_emicorr_reference(emicorr_file)
    assert set(ref.waves) == {"Hz390", "Hz10"}
    assert ref.wave("Hz10").frequency == 10.039216
    np.testing.assert_allclose(ref.wave("Hz390").wave, WAVES["Hz390"][1], atol=1e-7)  # stored as float32
    assert ref.case("SUB64", "FASTR1", "MIRIMAGE") == EmiCase("SUB64", 28, 8512, ("Hz390",))
    assert ref.case("FULL", "FAST", "MIRIMAGE") == EmiCase("FULL_FAST", 271, 277504, ("Hz10", "Hz390"))
    assert ref.case("FULL", "SLOWR1", "MIRIFULONG") == EmiCase("FULL_SLOW", 2333, 2388992, ("Hz10",))
    assert ref.case("SUB128", "FAST", "MIRIMAGE") is None  # no such case
    assert ref.case("SUB64", "ANY", "MIRIMAGE") is None  # neither FAST nor SLOW
    assert ref.case("SUB64", "SLOW", "MIRIOTHER") is None  # SLOW lists are per detector
    with pytest.raises(JwstLazyInputError, match="Hz218"):
        ref.wave("Hz218")  # listed for MASK1065, never defined


def test_found_in_a_directory_and_a_crds_cache_for_miri_only(emicorr_file, tmp_path):
    finder = ReferenceFinder(directories=[emicorr_file.parent])
    assert finder.find("emicorr", MIRI) == emicorr_file
    assert finder.load("emicorr", MIRI).attrs["filename"] == str(emicorr_file)
    with pytest.raises(MissingReferenceError):
        finder.find("emicorr", {**MIRI, "INSTRUME": "NIRCAM", "DETECTOR": "NRCA1"})
    cache = tmp_path / "crds"
    cached = write_emicorr_reference(cache / "references" / "jwst" / "miri" / "jwst_miri_emicorr_0002.asdf",
                                     WAVES, CASES)
    assert ReferenceFinder(crds_path=cache).find("emicorr", MIRI) == cached


def test_bad_files_name_the_problem(tmp_path):
    other = tmp_path / "jwst_miri_distortion.asdf"
    asdf.AsdfFile({"meta": {"reftype": "distortion"}}).write_to(other)
    with pytest.raises(JwstLazyInputError, match="meta.reftype"):
        read_emicorr_reference(other)
    broken = tmp_path / "broken.asdf"
    asdf.AsdfFile({"meta": {"reftype": "emicorr"}, "frequencies": {"Hz1": {"frequency": 1.0}},
                   "subarray_cases": {}}).write_to(broken)
    with pytest.raises(JwstLazyInputError, match="frequencies.Hz1"):
        read_emicorr_reference(broken)


def test_official_model_reads_the_file(emicorr_file):
    datamodels = pytest.importorskip("stdatamodels.jwst.datamodels")
    emicorr = pytest.importorskip("jwst.emicorr.emicorr")
    model = datamodels.EmiModel(str(emicorr_file))
    assert emicorr.get_subarcase(model, "FULL", "SLOW", "MIRIFULONG") == ("FULL_SLOW", 2333, 2388992, ["Hz10"])
    frequency, wave = emicorr.get_frequency_info(model, "Hz390")
    assert frequency == 390.625
    np.testing.assert_array_equal(wave, read_emicorr_reference(emicorr_file).wave("Hz390").wave)
