"""RscdStep: table look-up from a CRDS-format RSCD reference, chunked flagging == kernel; skip rules."""

import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import DO_NOT_USE, FLUX_ESTIMATED, SATURATED
from jwstlazy.kernels.rscd import flag_rscd
from jwstlazy.references.crds_format import write_reference_file
from jwstlazy.steps.detector1 import RscdStep
from ramp_helpers import assert_several_chunks, build_ramp

MIRI = dict(INSTRUME="MIRI", DETECTOR="MIRIMAGE", SUBARRAY="FULL", READPATT="FASTR1", EXP_TYPE="MIR_IMAGE")


@pytest.fixture
def rscd_reference(tmp_path):
    """An RSCD reference: FULL/FASTR1 skips 3 groups in integration 1 and 4 in later ones."""
    table = {
        "subarray": np.array(["MASK1550", "FULL", "FULL"]),
        "readpatt": np.array(["FASTR1", "SLOWR1", "FASTR1"]),
        "group_skip1": np.array([1, 2, 3], np.int32),
        "group_skip": np.array([1, 2, 4], np.int32),
    }
    header = dict(USEAFTER="2022-01-01T00:00:00", DESCRIP="test RSCD", INSTRUME="MIRI", DETECTOR="MIRIMAGE",
                  SUBARRAY="GENERIC")
    return write_reference_file(tmp_path / "jwst_miri_rscd_test.fits", "rscd", header, {},
                                {"RSCD_GROUP_SKIP": table})


def _miri_ramp(nints=3, ngroups=10, **attrs):
    rng = np.random.default_rng(3)
    sci = rng.normal(1000, 10, (nints, ngroups, 16, 20)).astype(np.float32)
    gdq = np.zeros(sci.shape, np.uint8)
    first_sat = rng.integers(1, ngroups + 3, size=(nints, 16, 20))  # saturation from some group on
    for i in range(nints):
        for g in range(ngroups):
            gdq[i, g][first_sat[i] <= g] |= SATURATED
    return sci, gdq, build_ramp(sci, gdq, **{**MIRI, **attrs})


def test_flags_as_kernel_with_reference_counts(rscd_reference):
    sci, gdq, ramp = _miri_ramp()
    out = RscdStep().run(ramp, references={"rscd": rscd_reference})
    assert_several_chunks(out["GROUPDQ"])
    gdq_expected, pdq_expected = flag_rscd(gdq, np.zeros(gdq.shape[-2:], np.uint32), 3, 4, first_integration=0)
    np.testing.assert_array_equal(out["GROUPDQ"].values, gdq_expected)
    np.testing.assert_array_equal(out["PIXELDQ"].values, pdq_expected)
    unsaturated = (gdq[:, :7] == 0).all(axis=1)  # pixels whose groups 0-6 are all unsaturated
    assert ((out["GROUPDQ"].values[0, :3] & DO_NOT_USE) != 0)[:, unsaturated[0]].all()
    assert ((out["GROUPDQ"].values[1, :4] & DO_NOT_USE) != 0)[:, unsaturated[1]].all()
    assert (out["PIXELDQ"].values & FLUX_ESTIMATED).any()
    assert out.attrs["S_RSCD"] == "COMPLETE"
    assert out.attrs["R_RSCD"] == rscd_reference.name


def test_segment_uses_later_integration_count_and_short_ramps(rscd_reference):
    sci, gdq, ramp = _miri_ramp(INTSTART=4)
    out = RscdStep().run(ramp, references={"rscd": rscd_reference})
    expected, _ = flag_rscd(gdq, np.zeros(gdq.shape[-2:], np.uint32), 3, 4, first_integration=3)
    np.testing.assert_array_equal(out["GROUPDQ"].values, expected)
    sci, gdq, ramp = _miri_ramp(ngroups=5)  # <= 5 groups: one group everywhere
    out = RscdStep().run(ramp, references={"rscd": rscd_reference})
    expected, _ = flag_rscd(gdq, np.zeros(gdq.shape[-2:], np.uint32), 1, 1)
    np.testing.assert_array_equal(out["GROUPDQ"].values, expected)


@pytest.mark.parametrize("attrs", [dict(READPATT="SLOWR9"), dict(NGROUPS=2), dict(INSTRUME="NIRCAM", DETECTOR="NRCA1")])
def test_skipped_without_matching_row_few_groups_or_not_miri(rscd_reference, attrs):
    sci, gdq, ramp = _miri_ramp(**attrs)
    out = RscdStep().run(ramp, references={"rscd": rscd_reference})
    assert out.attrs["S_RSCD"] == "SKIPPED"
    np.testing.assert_array_equal(out["GROUPDQ"].values, gdq)


def test_skipped_without_reference(monkeypatch, tmp_path):
    monkeypatch.delenv("CRDS_PATH", raising=False)
    sci, gdq, ramp = _miri_ramp()
    out = RscdStep().run(ramp, references=tmp_path)
    assert out.attrs["S_RSCD"] == "SKIPPED"
