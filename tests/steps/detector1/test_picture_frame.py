"""PictureFrameStep: draft-rate mask -> reference levels -> per-integration scales -> chunked apply (full frame)."""

import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.references.crds_format import write_reference_file
from jwstlazy.steps.detector1 import PictureFrameStep, RampFitStep
from ramp_helpers import assert_several_chunks, build_ramp

NGROUPS = 3
SHAPE = (2048, 2048)
NIRSPEC = dict(INSTRUME="NIRSPEC", DETECTOR="NRS1", EXP_TYPE="NRS_FIXEDSLIT", SUBARRAY="FULL", SLOWAXIS=1,
               FASTAXIS=2, TGROUP=10.0, TFRAME=10.0, filename="jw01234001001_01101_00001_nrs1_uncal.fits")
BLOCKS = (512, 1024)


def _picture_frame() -> np.ndarray:
    """A warm frame: 1 within 76 pixels of the detector's edges (the step's edge band), 0 inside (float32)."""
    y, x = np.mgrid[: SHAPE[0], : SHAPE[1]]
    distance = np.minimum(np.minimum(y, SHAPE[0] - 1 - y), np.minimum(x, SHAPE[1] - 1 - x))
    return (distance < 76).astype(np.float32)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """Groups = bias + g * (sky + spectra + pattern) + noise (3 DN): the frame is half the draft rate's noise,
    so the scene mask keeps it as background, as it should; references for the draft rate and the step."""
    folder = tmp_path_factory.mktemp("refs")
    header = dict(USEAFTER="2022-01-01T00:00:00", DESCRIP="test", INSTRUME="NIRSPEC", DETECTOR="NRS1",
                  SUBARRAY="FULL")
    pattern = _picture_frame()
    references = {
        "gain": write_reference_file(folder / "gain.fits", "gain", header, {"SCI": np.full(SHAPE, 1.0, np.float32)}),
        "readnoise": write_reference_file(folder / "rn.fits", "readnoise", header,
                                          {"SCI": np.full(SHAPE, 5.0, np.float32)}),
        "pictureframe": write_reference_file(folder / "pictureframe.fits", "pictureframe", header,
                                             {"SCI": pattern + np.float32(0.3)}),
    }
    rng = np.random.default_rng(11)
    g = np.arange(NGROUPS, dtype=np.float32)[None, :, None, None]
    sky = np.full(SHAPE, 4.0, np.float32)
    sky[900:906] += 300.0  # two spectral traces, masked out as signal
    sky[1400:1404, 200:1800] += 150.0
    sci = 1000 + g * (sky + pattern) + rng.normal(0, 3.0, (1, NGROUPS) + SHAPE)
    ramp = build_ramp(sci.astype(np.float32), chunks=BLOCKS, **NIRSPEC)
    return ramp, references, pattern


@pytest.fixture(scope="module")
def corrected(case):
    ramp, references, _ = case
    out = PictureFrameStep(skip=False, mask_science_regions=False).run(ramp, references)
    assert_several_chunks(out["SCI"])
    return out


def test_removes_the_injected_frame(case, corrected):
    """Truth: the frame's contrast (edge band minus centre) in each group difference is gone, and the edge level
    (upstream's offset: the sky and the frame there) is taken out of every pixel."""
    ramp, _, pattern = case
    assert corrected.attrs["S_PCTFRM"] == "COMPLETE" and corrected.attrs["R_PCTFRM"] == "pictureframe.fits"
    before = ramp["SCI"].values[0]
    after = corrected["SCI"].values[0]
    np.testing.assert_array_equal(after[0], before[0])
    band = pattern[4:-5, 4:-5] > 0
    quiet = np.ones(SHAPE, bool)
    quiet[890:920] = quiet[1390:1415] = False  # away from the traces
    band, centre = band & quiet[4:-5, 4:-5], ~band & quiet[4:-5, 4:-5]
    for g in range(1, NGROUPS):
        was, now = (image[g, 4:-5, 4:-5] - image[0, 4:-5, 4:-5] for image in (before, after))
        assert abs(was[band].mean() - was[centre].mean() - g) < 0.05  # the injected contrast, g DN
        # the scene mask's upper clip drops the pixels whose noise is high, a few more where the frame adds
        # signal, so the medians sit a little low and ~16 % of the frame stays (upstream's algorithm: the
        # crosscheck below gives the same numbers)
        assert abs(now[band].mean() - now[centre].mean()) < 0.25 * g
        assert abs(now[band].mean()) < 0.3 * g  # edge level (g x (sky + frame)) removed


def test_rate_input_and_skips(case, corrected):
    ramp, references, pattern = case
    rate = RampFitStep().run(ramp, references)["rate"]
    out = PictureFrameStep(skip=False, mask_science_regions=False).run(rate, references)
    assert out["SCI"].dims == ("y", "x") and out.attrs["S_PCTFRM"] == "COMPLETE"
    before, after = (np.nanmean(image[10:60, 500:1500]) - np.nanmean(image[1000:1200]) for image in
                     (rate["SCI"].values, out["SCI"].values))
    assert before > 0.04 and abs(after) < 0.2 * before  # the frame (0.05 DN/s in the rate) is gone
    assert PictureFrameStep().run(ramp, references).attrs["S_PCTFRM"] == "SKIPPED"  # off by default
    nircam = ramp.assign_attrs(INSTRUME="NIRCAM")
    assert PictureFrameStep(skip=False, mask_science_regions=False).run(nircam, references).attrs["S_PCTFRM"] == "SKIPPED"
    without = {key: value for key, value in references.items() if key != "pictureframe"}
    assert PictureFrameStep(skip=False, mask_science_regions=False).run(ramp, without).attrs["S_PCTFRM"] == "SKIPPED"
    with pytest.raises(JwstLazyInputError, match="mask_science_regions"):
        PictureFrameStep(skip=False).run(ramp, references)


def test_reference_of_another_shape_is_named(case, tmp_path):
    ramp, references, _ = case
    header = dict(USEAFTER="2022-01-01T00:00:00", DESCRIP="test", INSTRUME="NIRSPEC", DETECTOR="NRS1", SUBARRAY="FULL")
    wrong = write_reference_file(tmp_path / "half_frame.fits", "pictureframe", header,
                                 {"SCI": np.zeros((2048, 1024), np.float32)})
    with pytest.raises(JwstLazyInputError, match=r"half_frame\.fits.*SCI.*frame shape \(2048, 2048\)"):
        PictureFrameStep(skip=False, mask_science_regions=False).run(ramp, {**references, "pictureframe": wrong})


@pytest.mark.crosscheck
def test_equals_jwst_correct_picture_frame(monkeypatch, case, corrected):
    """jwst 3.0's correct_picture_frame on the same ramp and reference, given our draft rate (its own needs CRDS
    references): the same corrected ramp, bit for bit."""
    pf = pytest.importorskip("jwst.picture_frame.picture_frame")
    from stdatamodels.jwst import datamodels

    ramp, references, pattern = case
    rate = RampFitStep().run(ramp, references)["rate"]["SCI"].values
    model = datamodels.RampModel(data=ramp["SCI"].values.copy(), groupdq=ramp["GROUPDQ"].values.copy(),
                                 pixeldq=ramp["PIXELDQ"].values.copy())
    model.meta.instrument.name = "NIRSPEC"
    model.meta.subarray.name = "FULL"
    model.meta.exposure.type = NIRSPEC["EXP_TYPE"]
    draft = datamodels.ImageModel(data=rate.copy(), dq=np.zeros(SHAPE, np.uint32))
    draft.meta.exposure.type = NIRSPEC["EXP_TYPE"]
    monkeypatch.setattr(pf.cfn, "make_rate", lambda *args, **kwargs: draft)
    reference = datamodels.PictureFrameModel(data=pattern + np.float32(0.3))
    result, _, _, status = pf.correct_picture_frame(model, reference, mask_science_regions=False)
    assert status == "COMPLETE"
    np.testing.assert_array_equal(corrected["SCI"].values, result.data)


@pytest.mark.slow
def test_in_detector1_on_a_simulated_nirspec_full_frame(tmp_path):
    """The whole pipeline on a simulated NRS1 full-frame exposure with a frame added (3 DN per group within 76
    pixels of the edges, below the draft rate's noise): picture_frame runs after jump, takes its reference from
    the folder, and the rate's edge-minus-centre contrast drops to a fraction of the injected one."""
    from jwstlazy.datamodels import write_fits
    from jwstlazy.graphs.detector1 import Detector1Pipeline
    from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files

    uncal, _ = simulate_exposure(ExposureConfig(detector="NRS1", subarray="FULL", ngroups=4, nints=1, seed=4))
    frame = _picture_frame()
    added = np.arange(4)[None, :, None, None] * 3 * frame.astype(np.int64)
    uncal["SCI"] = (uncal["SCI"].dims, np.clip(uncal["SCI"].values + added, 0, 65535).astype(np.uint16))
    write_reference_files("NRS1", tmp_path / "refs", subarray="FULL")
    references = tmp_path / "refs"  # the folder: the pictureframe reference is found there with the others
    write_reference_file(tmp_path / "refs" / "pictureframe.fits", "pictureframe",
                         dict(USEAFTER="2022-01-01T00:00:00", DESCRIP="test", INSTRUME="NIRSPEC", DETECTOR="NRS1",
                              SUBARRAY="FULL"), {"SCI": frame * np.float32(0.3) + np.float32(0.01)})
    path = write_fits(uncal, tmp_path / "jw01234001001_01101_00001_nrs1_uncal.fits")
    steps = {"picture_frame": {"skip": False, "mask_science_regions": False}}
    on = Detector1Pipeline(references=references, steps=steps).build(path)["rate"]
    off = Detector1Pipeline(references=references).build(path)["rate"]
    assert on.attrs["S_PCTFRM"] == "COMPLETE" and on.attrs["R_PCTFRM"] == "pictureframe.fits"
    assert off.attrs["S_PCTFRM"] == "SKIPPED"

    def contrast(rate):
        values = rate["SCI"].values
        return np.nanmedian(values[10:60, 300:1700]) - np.nanmedian(values[700:1300, 700:1300])

    injected = 3 / float(uncal.attrs["TGROUP"])  # DN/s
    assert abs(contrast(off) - injected) < 0.2 * injected
    assert abs(contrast(on)) < 0.3 * injected


def test_side_products_mask_and_correction(case, corrected):
    from jwstlazy.steps.side_products import SIDE_PRODUCTS_ATTR

    ramp, references, _ = case
    step = PictureFrameStep(skip=False, mask_science_regions=False, save_mask=True, save_correction=True)
    assert step.side_product_suffixes() == ("pctfrm_mask", "pctfrm_correction")
    out = step.run(ramp, references)
    side = out.attrs[SIDE_PRODUCTS_ATTR]
    np.testing.assert_array_equal(out["SCI"].values, corrected["SCI"].values)
    np.testing.assert_array_equal(side["pctfrm_correction"]["SCI"].values, corrected["SCI"].values - ramp["SCI"].values)
    mask = side["pctfrm_mask"]["SCI"].values
    assert set(np.unique(mask)) == {0.0, 1.0} and mask[902, 1000] == 0 and mask[100, 1000] == 1  # trace masked
    rate = RampFitStep().run(ramp, references)["rate"]
    with pytest.raises(JwstLazyInputError, match="save_correction"):
        PictureFrameStep(skip=False, mask_science_regions=False, save_correction=True).run(rate, references)
