"""EmiCorrStep: simulated MIRI EMI removed (truth), chunking, skip rules, keywords, parameters.

The exposure is MIRI SUB64 FASTR1 (6 groups, 2 integrations), simulated twice with the same seed: with two
EMI lines (390.625 Hz, 5 DN; 218.52 Hz, 3 DN) and without. The EMICORR reference is the simulator's (four
lines: the two injected ones plus 164.9 and 10.04 Hz, which the step also fits and removes).
"""

from __future__ import annotations

import numpy as np
import pytest
from ramp_helpers import assert_several_chunks

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.references import ReferenceFinder
from jwstlazy.simulate import EmiComponent, ExposureConfig, simulate_exposure
from jwstlazy.simulate.emi import emi_signal, write_simulated_emicorr_reference
from jwstlazy.steps.detector1 import EmiCorrStep
from jwstlazy.steps.detector1.ramp_model import as_ramp

CONFIG = {"detector": "MIRIMAGE", "subarray": "SUB64", "readpatt": "FASTR1", "ngroups": 6, "nints": 2}
LINES = (EmiComponent(390.625, 5.0, 0.3), EmiComponent(218.52055, 3.0, 0.7))
CHUNKS = {"y": 32, "x": 36}  # 2 x 2 pixel blocks of the 64 x 72 subarray


@pytest.fixture(scope="module")
def exposures(tmp_path_factory):
    """(ramp with EMI, SCI without EMI as float64, folder holding the EMICORR reference)."""
    folder = tmp_path_factory.mktemp("emicorr")
    write_simulated_emicorr_reference(folder / "jwst_miri_emicorr.asdf")
    clean, _ = simulate_exposure(ExposureConfig(**CONFIG))
    noisy, _ = simulate_exposure(ExposureConfig(**CONFIG, emi=LINES))
    return as_ramp(noisy.chunk(CHUNKS)), clean["SCI"].values.astype(np.float64), folder


def line_amplitude(residual: np.ndarray, frequency: float) -> float:
    """Least-squares amplitude of a sine of ``frequency`` (any phase) in ``residual`` (nints, ngroups, ny, nx)."""
    nints, ngroups, ny, nx = residual.shape

    def wave(phase):
        signal = [emi_signal((EmiComponent(frequency, 1.0, phase),), "SUB64", "FASTR1", (ny, nx), ngroups, i)
                  for i in range(nints)]
        return np.repeat(np.stack(signal), 4, axis=-1).ravel()

    design = np.stack([wave(0.0), wave(0.25)], axis=1)
    coefficients = np.linalg.lstsq(design, residual.ravel(), rcond=None)[0]
    return float(np.hypot(*coefficients))


@pytest.mark.parametrize("algorithm, tolerance", [("joint", 0.03), ("sequential", 0.1)])
def test_injected_emi_is_removed(exposures, algorithm, tolerance):
    ramp, clean, folder = exposures
    out = EmiCorrStep(skip=False, algorithm=algorithm).run(ramp, ReferenceFinder(directories=[folder]))
    assert_several_chunks(out["SCI"])
    before = ramp["SCI"].values - clean
    after = out["SCI"].values - clean
    for line in LINES:
        # measured: joint 0.065 / 5 and 0.007 / 3 DN; sequential 0.25 / 5 and 0.16 / 3 DN left
        assert line_amplitude(before, line.frequency) == pytest.approx(line.amplitude, rel=0.01)
        assert line_amplitude(after, line.frequency) < tolerance * line.amplitude
    assert after.std() < 0.2 * before.std()  # measured 0.55 (joint) and 0.46 (sequential) vs 4.1 DN rms
    assert out.attrs["S_MIREMI"] == "COMPLETE"
    assert out.attrs["R_MIREMI"] == "jwst_miri_emicorr.asdf"


@pytest.mark.parametrize("algorithm", ["joint", "sequential"])
def test_pixel_blocks_do_not_change_the_result(exposures, algorithm):
    ramp, _, folder = exposures
    step = EmiCorrStep(skip=False, algorithm=algorithm, fit_ints_separately=True)
    blocks = step.run(ramp, folder)["SCI"].values
    whole = step.run(ramp.chunk({"y": -1, "x": -1}), folder)["SCI"].values
    # the joint fit adds its per-block sums in another order: float32 rounding at most
    np.testing.assert_allclose(blocks, whole, rtol=0, atol=2e-3 if algorithm == "joint" else 0)


def test_off_by_default_and_skipped_where_it_does_not_apply(exposures, tmp_path, monkeypatch):
    ramp, _, folder = exposures
    monkeypatch.delenv("CRDS_PATH", raising=False)
    sci = ramp["SCI"].values

    def skipped(data, references=folder, **parameters):
        out = EmiCorrStep(**parameters).run(data, references)
        assert out.attrs["S_MIREMI"] == "SKIPPED" and "R_MIREMI" not in out.attrs
        return out

    np.testing.assert_array_equal(skipped(ramp, references=tmp_path)["SCI"].values, sci)  # default skip=True
    np.testing.assert_array_equal(skipped(ramp.assign_attrs(INSTRUME="NIRCAM"), skip=False)["SCI"].values, sci)
    skipped(ramp.assign_attrs(READPATT="ANY"), skip=False)
    skipped(ramp.isel(group=slice(0, 2)), skip=False)  # fewer than 3 groups
    skipped(ramp.assign_attrs(SUBARRAY="MASK4QPM"), skip=False)  # no case in the reference
    skipped(ramp, references=tmp_path, skip=False)  # no reference file found
    skipped(ramp, references={"emicorr": "N/A"}, skip=False)
    skipped(ramp.assign_attrs(SUBARRAY="MASK4QPM"), skip=False, onthefly_corr_freq=(390.625,))  # no timing


def test_on_the_fly_frequencies_and_deprecated_reference_parameter(exposures, tmp_path):
    ramp, clean, folder = exposures
    measured = EmiCorrStep(skip=False, onthefly_corr_freq="390.625").run(ramp, tmp_path)  # no reference used
    assert measured.attrs["S_MIREMI"] == "COMPLETE" and "R_MIREMI" not in measured.attrs
    after = measured["SCI"].values - clean
    assert line_amplitude(after, 390.625) < 0.1 * 5.0  # the measured waveform replaces the reference wave
    assert line_amplitude(after, 218.52055) == pytest.approx(3.0, rel=0.05)  # not asked for: left alone
    with pytest.warns(DeprecationWarning, match="user_supplied_reffile"):
        legacy = EmiCorrStep(skip=False, user_supplied_reffile=str(folder / "jwst_miri_emicorr.asdf")).run(
            ramp, tmp_path)
    np.testing.assert_array_equal(legacy["SCI"].values, EmiCorrStep(skip=False).run(ramp, folder)["SCI"].values)


def test_parameters_are_checked_and_coerced(exposures):
    ramp, _, folder = exposures
    step = EmiCorrStep(skip="false", onthefly_corr_freq="218.3, 164.9", nbins="100")
    assert step.parameters.onthefly_corr_freq == (218.3, 164.9) and step.parameters.nbins == 100
    assert not step.parameters.skip and EmiCorrStep().parameters.algorithm == "joint"
    unsupported = {"onthefly_corr_freq": (390.625,), "save_intermediate_results": True}
    for bad in ({"algorithm": "fast"}, {"nbins": 0}, unsupported):
        with pytest.raises(JwstLazyInputError):
            EmiCorrStep(skip=False, **bad).run(ramp, folder)
