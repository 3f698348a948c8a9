"""Subarrays, readout timing, amplifier layout and header tables."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.simulate.amplifiers import amplifier_layout
from jwstlazy.simulate.detectors import get_detector
from jwstlazy.simulate.headers import group_table, int_times_table, timing_keywords
from jwstlazy.simulate.readout import Readout, frame_time, resolve_readout, resolve_subarray


def test_frame_times_follow_the_readout_formula() -> None:
    nrc = get_detector("NRCA1")
    assert frame_time(nrc, resolve_subarray(nrc, "FULL"), "RAPID") == pytest.approx(10.73676)
    assert frame_time(nrc, resolve_subarray(nrc, "SUB160"), "RAPID") == pytest.approx(172 * 161 * 1e-5)
    miri = get_detector("MIRIMAGE")
    assert frame_time(miri, resolve_subarray(miri, "FULL"), "FASTR1") == pytest.approx(2.77504)


def test_subarrays_from_siaf_by_size_and_errors() -> None:
    nrc = get_detector("NRCB1")
    sub = resolve_subarray(nrc, "SUB64P")
    assert (sub.subsize1, sub.subsize2, sub.noutputs, sub.apername) == (64, 64, 1, "NRCB1_SUB64P")
    assert (sub.substrt1, sub.substrt2) == (1851, 1817)  # DMS corner, not the OSS one
    centred = resolve_subarray(nrc, 256)
    assert (centred.name, centred.substrt1, centred.substrt2) == ("SUB256", 897, 897)
    assert resolve_subarray(get_detector("MIRIMAGE"), "FULL").shape == (1024, 1032)
    with pytest.raises(JwstLazyInputError, match="SUBARRAY"):
        resolve_subarray(nrc, "SUBMARINE")
    with pytest.raises(JwstLazyInputError, match="READPATT"):
        resolve_readout(nrc, sub, "TURBO", ngroups=3)
    with pytest.raises(JwstLazyInputError, match="NGROUPS"):
        resolve_readout(nrc, sub, "RAPID", ngroups=0)


def test_readout_patterns_average_and_drop_frames() -> None:
    nrc = get_detector("NRCA1")
    readout = resolve_readout(nrc, resolve_subarray(nrc, "FULL"), "MEDIUM8", ngroups=3)
    assert (readout.nframes, readout.groupgap) == (8, 2)
    assert readout.tgroup == pytest.approx(10 * readout.tframe)
    groups = readout.frame_groups()
    assert len(groups) == 28 and list(groups[:10]) == [0] * 8 + [-1, -1] and list(groups[-8:]) == [2] * 8
    assert list(readout.first_group_seeing_frame(np.array([0, 7, 8, 9, 10, 17, 18]))) == [0, 0, 1, 1, 1, 1, 2]


def test_time_keywords_and_tables() -> None:
    readout = Readout("RAPID", ngroups=4, nints=3, nframes=1, groupgap=0, tframe=2.0)
    keys = timing_keywords(readout, 60000.0)
    assert keys["EFFINTTM"] == 8.0 and keys["EFFEXPTM"] == keys["XPOSURE"] == 24.0
    assert keys["TMEASURE"] == 18.0 and keys["DURATION"] == keys["TELAPSE"] == 24.0 + 2 * 2.0
    assert keys["EXPEND"] == pytest.approx(60000.0 + 28.0 / 86400.0)
    assert keys["DATE-OBS"] == "2023-02-25"
    ints = int_times_table(readout, 60000.0)
    np.testing.assert_allclose(np.diff(ints["int_start_MJD_UTC"]) * 86400.0, 10.0)
    groups = group_table(readout, resolve_subarray(get_detector("NRCA1"), "SUB160"), 60000.0)
    assert len(groups["group_number"]) == 12 and list(groups["group_number"][:4]) == [1, 2, 3, 4]


def test_amplifiers_are_detector_column_bands() -> None:
    nircam = amplifier_layout(get_detector("NRCA1"), resolve_subarray(get_detector("NRCA1"), "FULL"))
    assert np.all(nircam.amplifier == (3 - np.arange(2048) // 512)[None, :])  # FASTAXIS -1: x reversed
    assert nircam.n_ticks == 2048 * (512 + 12)
    niriss = amplifier_layout(get_detector("NIS"), resolve_subarray(get_detector("NIS"), "FULL"))
    assert np.all(niriss.amplifier == (3 - np.arange(2048) // 512)[:, None])  # transposed: 512-row bands
    along_fast = niriss.read_index[:, 100]  # NIS reads along DMS y, against it (FASTAXIS = -2)
    assert np.all(np.diff(along_fast[:512]) == -1)
    miri = amplifier_layout(get_detector("MIRIMAGE"), resolve_subarray(get_detector("MIRIMAGE"), "FULL"))
    assert np.all(miri.amplifier == (np.arange(1032) % 4)[None, :])
    parity = nircam.channel % 2
    assert np.all(parity == (2047 - np.arange(2048)) % 2)
