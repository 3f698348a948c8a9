"""Simulated MIRI EMI (jwstlazy.simulate.emi): injection with the emicorr read clock, and its EMICORR reference."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.emicorr import SUBARRAY_CLOCKS
from jwstlazy.references.emicorr import read_emicorr_reference
from jwstlazy.simulate import (
    SIMULATED_EMI_FREQUENCIES,
    EmiComponent,
    ExposureConfig,
    simulate_exposure,
    write_reference_files,
)
from jwstlazy.simulate.emi import emi_signal

SUB64 = {"detector": "MIRIMAGE", "subarray": "SUB64", "readpatt": "FASTR1", "ngroups": 4, "nints": 2}
LINES = (EmiComponent(390.625, 6.0, 0.25), EmiComponent(164.9305, 2.0, 0.6))


def test_emi_is_added_to_every_read_and_nothing_else_changes():
    clean, clean_truth = simulate_exposure(ExposureConfig(**SUB64))
    noisy, truth = simulate_exposure(ExposureConfig(**SUB64, emi=LINES))
    difference = noisy["SCI"].values.astype(np.float64) - clean["SCI"].values
    emi = np.stack([emi_signal(LINES, "SUB64", "FASTR1", (64, 72), 4, i) for i in range(2)])
    emi = np.repeat(emi, 4, axis=-1)  # the four outputs of a column group share one read time
    assert np.abs(difference - emi).max() <= 1.0  # both exposures are rounded to whole DN
    assert abs(np.corrcoef(difference.ravel(), emi.ravel())[0, 1]) > 0.98
    np.testing.assert_array_equal(noisy["REFOUT"].values, clean["REFOUT"].values)
    np.testing.assert_array_equal(truth.first_saturated, clean_truth.first_saturated)
    assert truth.attrs["emi"] == [[390.625, 6.0, 0.25], [164.9305, 2.0, 0.6]] and "emi" not in clean_truth.attrs


def test_emi_signal_follows_the_read_clock():
    rowclocks, frameclocks = SUBARRAY_CLOCKS["SUB64"]
    line = (EmiComponent(390.625, 1.0, 0.0),)  # period 256 samples
    first, second = (emi_signal(line, "SUB64", "FASTR1", (64, 72), 3, i) for i in range(2))
    t = 2 * 8512 + 5 * rowclocks + 7  # group 2, row 5, column group 7 (NSAMPLES = 1)
    assert first[2, 5, 7] == pytest.approx(np.sin(2 * np.pi * t / 256.0), abs=1e-12)
    t += 3 * 8512 + frameclocks  # next integration: 3 frames plus the FASTR1 reset frame later
    assert second[2, 5, 7] == pytest.approx(np.sin(2 * np.pi * t / 256.0), abs=1e-12)


def test_emi_rejected_where_it_is_not_simulated():
    with pytest.raises(JwstLazyInputError, match="MIRI only"):
        simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB64P", ngroups=2, emi=LINES))
    with pytest.raises(JwstLazyInputError, match="SUBARRAY"):
        emi_signal(LINES, "SUB72", "FAST", (72, 72), 2, 0)


def test_miri_reference_files_include_the_emicorr_reference(tmp_path):
    written = write_reference_files("MIRIMAGE", tmp_path, subarray="SUB64", dark_frames=3)
    assert written["emicorr"].name == "jwst_miri_emicorr.asdf"
    reference = read_emicorr_reference(written["emicorr"])
    assert {name: w.frequency for name, w in reference.waves.items()} == SIMULATED_EMI_FREQUENCIES
    case = reference.case("SUB64", "FASTR1", "MIRIMAGE")
    assert (case.rowclocks, case.frameclocks, case.frequencies) == (28, 8512, tuple(SIMULATED_EMI_FREQUENCIES))
    wave = reference.wave("Hz390").wave  # one unit sine period, 128 samples (period / 2)
    np.testing.assert_allclose(wave, np.sin(2 * np.pi * (np.arange(128) + 0.5) / 128), atol=1e-7)
