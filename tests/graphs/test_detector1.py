"""Detector1Pipeline's own options: save_calibrated_ramp writes the ramp that ramp fitting is given."""

from __future__ import annotations

import numpy as np
import pytest

import jwstlazy
from jwstlazy.cli import main
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.graphs.naming import product_path


def test_save_calibrated_ramp_writes_the_ramp_before_ramp_fit(simulated_program, tmp_path):
    uncal, references = simulated_program["uncal"][0], simulated_program["references"]
    pipeline = Detector1Pipeline(references=references, save_calibrated_ramp=True)
    result = jwstlazy.run(pipeline, [uncal], tmp_path / "out", scheduler="threads:2", progress=False)
    target = product_path(uncal, "ramp", tmp_path / "out")
    assert sorted(p.name for p in result.written) == sorted(
        product_path(uncal, suffix, tmp_path / "out").name for suffix in ("ramp", "rate", "rateints"))
    ramp = jwstlazy.open(target)  # validated against the ramp schema on open
    before_fit = Detector1Pipeline(references=references).build(uncal, stop="persistence")
    for name in ("SCI", "GROUPDQ", "PIXELDQ"):
        np.testing.assert_array_equal(ramp[name].values, before_fit[name].values, err_msg=name)
    assert ramp.attrs["S_JUMP"] == "COMPLETE" and "S_RAMP" not in ramp.attrs

    plain = jwstlazy.run(Detector1Pipeline(references=references), [uncal], tmp_path / "plain", scheduler="sync",
                         progress=False)
    for path in plain.written:  # the option changes nothing else
        ours, theirs = jwstlazy.open(tmp_path / "out" / path.name), jwstlazy.open(path)
        np.testing.assert_array_equal(ours["SCI"].values, theirs["SCI"].values)
    again = jwstlazy.run(pipeline, [uncal], tmp_path / "out", scheduler="sync", progress=False)
    assert not again.written and target in again.skipped  # a rerun finds all three


def test_save_calibrated_ramp_from_the_command_line_and_not_on_a_ramp(simulated_program, tmp_path):
    uncal, references = simulated_program["uncal"][1], simulated_program["references"]
    status = main(["run", "detector1", str(uncal), "--reference-dir", str(references), "--output-dir",
                   str(tmp_path), "--save-calibrated-ramp", "--scheduler", "sync", "--quiet"])
    ramp = product_path(uncal, "ramp", tmp_path)
    assert status == 0 and ramp.is_file()
    with pytest.raises(JwstLazyInputError, match="already a calibrated ramp"):
        Detector1Pipeline(references=references, save_calibrated_ramp=True).build(ramp)
    assert main(["run", "image2", str(uncal), "--save-calibrated-ramp", "--output-dir", str(tmp_path)]) == 2


def test_a_saved_ramp_reruns_from_ramp_fit(simulated_program, tmp_path):
    uncal, references = simulated_program["uncal"][2], simulated_program["references"]
    first = jwstlazy.run(Detector1Pipeline(references=references, save_calibrated_ramp=True), [uncal], tmp_path / "a",
                         scheduler="sync", progress=False)
    ramp = product_path(uncal, "ramp", tmp_path / "a")
    assert ramp in first.written
    status = main(["run", "detector1", str(ramp), "--start", "ramp_fit", "--reference-dir", str(references),
                   "--output-dir", str(tmp_path / "b"), "--scheduler", "sync", "--quiet"])
    assert status == 0
    for suffix in ("rate", "rateints"):  # the same products as the run that saved the ramp, bit for bit
        ours, theirs = (jwstlazy.open(product_path(uncal, suffix, tmp_path / folder)) for folder in ("b", "a"))
        for name in ("SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE"):
            assert ours[name].values.tobytes() == theirs[name].values.tobytes(), f"{suffix} {name}"
    with pytest.raises(JwstLazyInputError, match="no step 'ramp_fitting'"):
        jwstlazy.run("detector1", [ramp], tmp_path / "c", start="ramp_fitting", references=references)


def test_step_side_products_are_written_beside_the_products(simulated_program, tmp_path):
    """clean_flicker_noise's save_mask/save_background/save_noise: files of their own, with the ramp saved too."""
    uncal, references = simulated_program["uncal"][2], simulated_program["references"]
    options = {"clean_flicker_noise": {"skip": False, "save_mask": True, "save_background": True, "save_noise": True}}
    pipeline = Detector1Pipeline(steps=options, references=references, save_calibrated_ramp=True)
    assert pipeline.output_suffixes == ("rate", "rateints", "mask", "flicker_bkg", "flicker_noise", "ramp")
    result = jwstlazy.run(pipeline, [uncal], tmp_path, scheduler="threads:2", progress=False)
    assert sorted(p.name for p in result.written) == sorted(product_path(uncal, s, tmp_path).name
                                                           for s in pipeline.output_suffixes)  # fmt: skip
    mask = jwstlazy.open(product_path(uncal, "mask", tmp_path))  # each validated against its schema on open
    noise = jwstlazy.open(product_path(uncal, "flicker_noise", tmp_path))
    background = jwstlazy.open(product_path(uncal, "flicker_bkg", tmp_path))
    ramp = jwstlazy.open(product_path(uncal, "ramp", tmp_path))
    assert set(np.unique(mask["SCI"].values)) <= {0.0, 1.0} and mask["SCI"].values.mean() > 0.5
    assert noise["SCI"].shape == background["SCI"].shape == ramp["SCI"].shape
    assert np.any(noise["SCI"].values != 0) and (background["SCI"].values[:, 0] == 0).all()
    assert "side_products" not in ramp.attrs and noise.attrs["S_JUMP"] == "COMPLETE"
    again = jwstlazy.run(pipeline, [uncal], tmp_path, scheduler="sync", progress=False)
    assert not again.written  # a rerun finds every product and side product


def test_a_skipped_steps_side_products_are_not_awaited_on_a_rerun(simulated_program, tmp_path):
    """picture_frame (NIRSpec full frames only) with save_mask/save_correction is skipped for a NIRCam exposure: no
    _pctfrm files, and a rerun, finding S_PCTFRM = SKIPPED in the rate product, does not redo the exposure for
    them. Where the rate product says the step ran, a missing side product still makes the rerun redo it."""
    from astropy.io import fits

    uncal, references = simulated_program["uncal"][0], simulated_program["references"]
    options = {"picture_frame": {"skip": False, "save_mask": True, "save_correction": True}}
    pipeline = Detector1Pipeline(steps=options, references=references)
    assert pipeline.side_product_steps == {"pctfrm_mask": "S_PCTFRM", "pctfrm_correction": "S_PCTFRM"}
    first = jwstlazy.run(pipeline, [uncal], tmp_path, scheduler="sync", progress=False)
    assert sorted(p.name for p in first.written) == sorted(product_path(uncal, s, tmp_path).name
                                                          for s in ("rate", "rateints"))  # fmt: skip
    rate = product_path(uncal, "rate", tmp_path)
    assert jwstlazy.open(rate).attrs["S_PCTFRM"] == "SKIPPED"
    assert not jwstlazy.run(pipeline, [uncal], tmp_path, scheduler="sync", progress=False).written
    fits.setval(rate, "S_PCTFRM", value="COMPLETE", ext=0)  # as if it had run and its files were lost since
    again = jwstlazy.run(pipeline, [uncal], tmp_path, scheduler="sync", progress=False)
    assert product_path(uncal, "rate", tmp_path) in again.written
