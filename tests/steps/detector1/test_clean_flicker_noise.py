"""CleanFlickerNoiseStep: draft rate -> scene mask -> per-line fit on whole frames -> chunked apply."""

import numpy as np
import pytest
import xarray as xr

from jwstlazy.datamodels.dqflags import DO_NOT_USE, NON_SCIENCE
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.clean_flicker_noise import (
    channel_layout,
    flat_for_fitting,
    flicker_apply,
    flicker_fit,
    flicker_scene_mask,
)
from jwstlazy.references.crds_format import write_reference_file
from jwstlazy.steps.detector1 import CleanFlickerNoiseStep, RampFitStep
from ramp_helpers import assert_several_chunks, build_ramp

SHAPE = (2, 5, 24, 30)  # nints, ngroups, ny, nx
NIRCAM = dict(INSTRUME="NIRCAM", DETECTOR="NRCA1", EXP_TYPE="NRC_IMAGE", SUBARRAY="SUB24", SLOWAXIS=2,
              FASTAXIS=-1, TGROUP=10.0, TFRAME=10.0)
MIRI = dict(NIRCAM, INSTRUME="MIRI", DETECTOR="MIRIMAGE", EXP_TYPE="MIR_IMAGE", SLOWAXIS=1, FASTAXIS=1)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refs")
    header = dict(USEAFTER="2022-01-01T00:00:00", DESCRIP="test", INSTRUME="NIRCAM", DETECTOR="NRCA1",
                  SUBARRAY="GENERIC")
    ny, nx = SHAPE[-2:]
    return {
        "gain": write_reference_file(folder / "gain.fits", "gain", header, {"SCI": np.full((ny, nx), 2.0, np.float32)}),
        "readnoise": write_reference_file(folder / "rn.fits", "readnoise", header,
                                          {"SCI": np.full((ny, nx), 5.0, np.float32)}),
    }


def _striped_ramp(line_axis: int, seed: int = 0):
    """Sky + two bright sources + 1/f: an offset per line (row for axis 2, column for axis 1) per group."""
    rng = np.random.default_rng(seed)
    nints, ngroups, ny, nx = SHAPE
    rate = np.full((ny, nx), 2.0, np.float32)
    rate[5:8, 6:9] = 400.0
    rate[15:18, 20:24] = 900.0
    t = 10.0 * np.arange(1, ngroups + 1, dtype=np.float32)
    sci = 1000 + rate * t[None, :, None, None] + rng.normal(0, 8, SHAPE)
    if line_axis == 2:
        sci += rng.normal(0, 6, (nints, ngroups, ny, 1))
    else:
        sci += rng.normal(0, 6, (nints, ngroups, 1, nx))
    return sci.astype(np.float32), np.zeros(SHAPE, np.uint8)


def _whole_array_result(ramp, sci, gdq, references, axis, fit_histogram=False, flat=None, non_science_dq=None,
                        **fit_options):  # fmt: skip
    """The kernels on whole arrays: draft rate, scene mask, one fit per integration, one apply."""
    draft = RampFitStep().run(ramp.chunk({"y": -1, "x": -1}), references)["rate"]
    rate = draft["SCI"].values
    usable = None
    if non_science_dq is not None:  # mask_science_regions: the draft's DQ with the flat's
        usable = ((draft["DQ"].values | non_science_dq) & (DO_NOT_USE | NON_SCIENCE)) == 0
    mask = flicker_scene_mask(rate if flat is None else rate / flat, 2.0, fit_histogram, usable)
    fits = [flicker_fit(sci[i], gdq[i], mask, axis_to_correct=axis, flat=flat, **fit_options) for i in range(SHAPE[0])]
    stripes, background, cleaned = (np.stack([fit[k] for fit in fits]) for k in range(3))
    _, channel = channel_layout(SHAPE[-2:], axis, False)
    return flicker_apply(sci, stripes, channel, background, cleaned, axis, flat), mask


def _line_scatter(sci, axis):
    """Scatter of per-line medians of the group differences (the 1/f stripes)."""
    diffs = np.diff(sci, axis=1)
    return np.std(np.median(diffs, axis=-1 if axis == 2 else -2))


@pytest.mark.parametrize("attrs, axis", [(NIRCAM, 2), (MIRI, 1)])
def test_chunked_equals_whole_array_kernels(references, attrs, axis):
    sci, gdq = _striped_ramp(axis)
    ramp = build_ramp(sci, gdq, **attrs)
    out = CleanFlickerNoiseStep(skip=False).run(ramp, references)
    assert_several_chunks(out["SCI"])
    expected, mask = _whole_array_result(ramp, sci, gdq, references, axis)
    np.testing.assert_array_equal(out["SCI"].values, expected)
    assert not mask[6, 7] and not mask[16, 21] and mask.mean() > 0.8  # sources are masked
    assert _line_scatter(expected, axis) < 0.4 * _line_scatter(sci, axis)  # stripes removed
    assert out.attrs["S_CLNFNS"] == "COMPLETE"


@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_fft_chunked_equals_whole_array_kernels(references, detector):
    sci, gdq = _striped_ramp(1, seed=4)  # NIRSpec: 1/f stripes along y (columns)
    nirspec = dict(NIRCAM, INSTRUME="NIRSPEC", DETECTOR=detector, EXP_TYPE="NRS_BRIGHTOBJ", SLOWAXIS=1, FASTAXIS=2)
    ramp = build_ramp(sci, gdq, **nirspec)
    out = CleanFlickerNoiseStep(skip=False, fit_method="fft").run(ramp, references)
    assert_several_chunks(out["SCI"])
    draft = RampFitStep().run(ramp.chunk({"y": -1, "x": -1}), references)["rate"]["SCI"].values
    mask = flicker_scene_mask(draft)
    fits = [flicker_fit(sci[i], gdq[i], mask, fit_method="fft", detector=detector) for i in range(SHAPE[0])]
    noise, background, cleaned = (np.stack([fit[k] for fit in fits]) for k in range(3))
    expected = flicker_apply(sci, None, None, background, cleaned, 1, noise=noise)
    np.testing.assert_array_equal(out["SCI"].values, expected)
    assert _line_scatter(expected, 1) < 0.6 * _line_scatter(sci, 1)  # most of the (white, per-column) stripes
    assert out.attrs["S_CLNFNS"] == "COMPLETE"


def test_fit_histogram_reaches_the_scene_mask(references):
    sci, gdq = _striped_ramp(2, seed=3)
    ramp = build_ramp(sci, gdq, **NIRCAM)
    out = CleanFlickerNoiseStep(skip=False, fit_histogram=True).run(ramp, references)
    expected, _ = _whole_array_result(ramp, sci, gdq, references, 2, fit_histogram=True)
    np.testing.assert_array_equal(out["SCI"].values, expected)


def test_model_background_gives_the_whole_array_kernels_result(references):
    sci, gdq = _striped_ramp(2, seed=4)
    sci += np.linspace(0, 30, SHAPE[-1], dtype=np.float32) * np.arange(SHAPE[1], dtype=np.float32)[:, None, None]
    ramp = build_ramp(sci, gdq, **NIRCAM)
    out = CleanFlickerNoiseStep(skip=False, background_method="model", background_box_size=(8, 10)).run(ramp, references)
    assert_several_chunks(out["SCI"])
    expected, _ = _whole_array_result(ramp, sci, gdq, references, 2, background_method="model",
                                      background_box_size=(8, 10))
    np.testing.assert_array_equal(out["SCI"].values, expected)
    median = CleanFlickerNoiseStep(skip=False).run(ramp, references)["SCI"].values
    assert not np.array_equal(expected, median)


def test_apply_flat_field_fits_the_flat_fielded_differences(references, tmp_path, caplog):
    sci, gdq = _striped_ramp(2, seed=5)
    ramp = build_ramp(sci, gdq, **NIRCAM)
    ny, nx = SHAPE[-2:]
    flat = np.linspace(0.7, 1.3, nx, dtype=np.float32)[None, :].repeat(ny, axis=0)
    flat[4, 4] = 0.0  # replaced by the smoothed level before dividing
    path = _flat_reference(tmp_path, flat, np.zeros((ny, nx), np.uint32))
    out = CleanFlickerNoiseStep(skip=False, apply_flat_field=True).run(ramp, {**references, "flat": path})
    assert_several_chunks(out["SCI"])
    assert out.attrs["R_FLAT"] == "flat.fits"
    expected, _ = _whole_array_result(ramp, sci, gdq, references, 2, flat=flat_for_fitting(flat))
    np.testing.assert_array_equal(out["SCI"].values, expected)
    wrong = _flat_reference(tmp_path, flat[:-1], np.zeros((ny - 1, nx), np.uint32), name="flat_wrong.fits")
    with pytest.raises(JwstLazyInputError, match="flat_wrong.fits.*SCI"):
        CleanFlickerNoiseStep(skip=False, apply_flat_field=True).run(ramp, {**references, "flat": wrong})
    without = CleanFlickerNoiseStep(skip=False, apply_flat_field=True).run(ramp, {**references, "flat": "N/A"})
    assert "no FLAT reference" in caplog.text
    np.testing.assert_array_equal(without["SCI"].values, CleanFlickerNoiseStep(skip=False).run(ramp, references)["SCI"].values)


def _flat_reference(folder, sci, dq, name="flat.fits", **keywords):
    header = {"USEAFTER": "2022-01-01T00:00:00", "DESCRIP": "test", "INSTRUME": "NIRCAM", "DETECTOR": "NRCA1",
              "SUBARRAY": "GENERIC", **keywords}
    return write_reference_file(folder / name, "flat", header, {"SCI": sci, "DQ": dq})


def test_mask_science_regions_leaves_out_miri_non_science_pixels(references, tmp_path):
    sci, gdq = _striped_ramp(1, seed=8)
    sci[..., :, :6] += (np.arange(1, SHAPE[1] + 1, dtype=np.float32) * 80)[None, :, None, None]  # a glowing region
    ramp = build_ramp(sci, gdq, **MIRI)
    ny, nx = SHAPE[-2:]
    flat_dq = np.zeros((ny, nx), np.uint32)
    flat_dq[:, :6] = NON_SCIENCE
    flat = _flat_reference(tmp_path, np.ones((ny, nx), np.float32), flat_dq, INSTRUME="MIRI", DETECTOR="MIRIMAGE")
    out = CleanFlickerNoiseStep(skip=False, mask_science_regions=True).run(ramp, {**references, "flat": flat})
    expected, mask = _whole_array_result(ramp, sci, gdq, references, 1, non_science_dq=flat_dq)
    np.testing.assert_array_equal(out["SCI"].values, expected)
    assert not mask[:, :6].any() and mask[:, 6:].mean() > 0.8
    plain = CleanFlickerNoiseStep(skip=False).run(ramp, references)["SCI"].values
    assert not np.array_equal(plain, expected)
    # upstream does nothing more for near-IR imaging, and NIRSpec / SOSS need what jwstlazy does not have yet
    nircam = build_ramp(sci, gdq, **NIRCAM)
    np.testing.assert_array_equal(
        CleanFlickerNoiseStep(skip=False, mask_science_regions=True).run(nircam, references)["SCI"].values,
        CleanFlickerNoiseStep(skip=False).run(nircam, references)["SCI"].values)
    nirspec = build_ramp(sci, gdq, **dict(NIRCAM, INSTRUME="NIRSPEC", DETECTOR="NRS1", EXP_TYPE="NRS_MSASPEC"))
    with pytest.raises(JwstLazyInputError, match="mask_science_regions"):
        CleanFlickerNoiseStep(skip=False, mask_science_regions=True).run(nirspec, references)


def _clean_images(images):
    """The kernels on each (ny, nx) image as the one difference of a ramp (0, image); one scene mask, where
    every image is background (single_mask)."""
    out = []
    mask = np.logical_and.reduce([flicker_scene_mask(image, 2.0) for image in images])
    for image in images:
        ramp = np.stack([np.zeros_like(image), image])[None]
        flags = np.zeros(ramp.shape, np.uint8)
        stripes, background, cleaned = flicker_fit(ramp[0], flags[0], mask)
        _, channel = channel_layout(image.shape, 2, False)
        out.append(flicker_apply(ramp, stripes[None], channel, background[None], cleaned[None], 2)[0, 1])
    return np.stack(out)


def _striped_rates(references):
    """The rate and rateints products of a striped ramp, with more stripes (one offset per row) added."""
    products = RampFitStep().run(build_ramp(*_striped_ramp(2, seed=6), **NIRCAM), references)
    rng = np.random.default_rng(6)
    for name, product in products.items():
        offsets = rng.normal(0, 0.5, product["SCI"].shape[:-1] + (1,)).astype(np.float32)
        product["SCI"] = product["SCI"] + offsets
    return products


def test_rate_and_rateints_products_are_cleaned_image_by_image(references):
    for name, product in _striped_rates(references).items():
        out = CleanFlickerNoiseStep(skip=False).run(product)  # no reference needed: no draft rate
        assert out.attrs["S_CLNFNS"] == "COMPLETE"
        assert out["SCI"].dims == product["SCI"].dims
        before = product["SCI"].values.reshape((-1,) + SHAPE[-2:])
        expected = _clean_images(before)
        np.testing.assert_array_equal(out["SCI"].values.reshape(expected.shape), expected, err_msg=name)
        rows = lambda images: np.std(np.median(images[:, :, 10:], axis=-1), axis=-1)  # noqa: E731
        assert (rows(expected) < 0.3 * rows(before)).all()  # the row offsets are gone
        np.testing.assert_array_equal(out["ERR"].values, product["ERR"].values)


@pytest.mark.crosscheck
def test_rate_input_crosscheck_jwst(references):
    cfn = pytest.importorskip("jwst.clean_flicker_noise.clean_flicker_noise")
    from stdatamodels.jwst import datamodels

    for name, product in _striped_rates(references).items():
        ours = CleanFlickerNoiseStep(skip=False).run(product)["SCI"].values
        model = (datamodels.ImageModel if name == "rate" else datamodels.CubeModel)(
            data=product["SCI"].values.copy(), dq=product["DQ"].values.copy())
        model.meta.instrument.detector, model.meta.exposure.type = "NRCA1", "NRC_IMAGE"
        model.meta.subarray.name, model.meta.subarray.slowaxis = "SUB64", 2
        result = cfn.do_correction(model.copy())
        assert result[-1] == "COMPLETE"
        np.testing.assert_allclose(ours, result[0].data, rtol=0, atol=1e-4, err_msg=name)
        if name == "rateints":  # a mask per image
            ours = CleanFlickerNoiseStep(skip=False, single_mask=False).run(product)["SCI"].values
            result = cfn.do_correction(model.copy(), single_mask=False)
            np.testing.assert_allclose(ours, result[0].data, rtol=0, atol=1e-4, err_msg="rateints, single_mask off")


def test_user_mask_and_per_integration_masks(references):
    sci, gdq = _striped_ramp(2)
    ramp = build_ramp(sci, gdq, **NIRCAM)
    user = np.ones(SHAPE[-2:], bool)
    user[:, :10] = False
    out = CleanFlickerNoiseStep(skip=False, user_mask=user).run(ramp, references)
    fits = [flicker_fit(sci[i], gdq[i], user, axis_to_correct=2) for i in range(SHAPE[0])]
    stripes, background, cleaned = (np.stack([fit[k] for fit in fits]) for k in range(3))
    expected = flicker_apply(sci, stripes, np.zeros(SHAPE[-1], np.int64), background, cleaned, 2)
    np.testing.assert_array_equal(out["SCI"].values, expected)
    per_int = CleanFlickerNoiseStep(skip=False, single_mask=False).run(ramp, references)
    assert _line_scatter(per_int["SCI"].values, 2) < 0.4 * _line_scatter(sci, 2)


def test_off_by_default_unsupported_modes_and_options(references):
    sci, gdq = _striped_ramp(2)
    assert CleanFlickerNoiseStep().run(build_ramp(sci, gdq, **NIRCAM)).attrs["S_CLNFNS"] == "SKIPPED"
    lrs = CleanFlickerNoiseStep(skip=False).run(build_ramp(sci, gdq, **dict(MIRI, EXP_TYPE="MIR_LRS-FIXEDSLIT")),
                                                references)
    assert lrs.attrs["S_CLNFNS"] == "SKIPPED"
    np.testing.assert_array_equal(lrs["SCI"].values, sci)
    fft_on_nircam = CleanFlickerNoiseStep(skip=False, fit_method="fft").run(build_ramp(sci, gdq, **NIRCAM), references)
    assert fft_on_nircam.attrs["S_CLNFNS"] == "SKIPPED"  # upstream: NSClean for NIRSpec only
    with pytest.raises(JwstLazyInputError, match="fit_method"):
        CleanFlickerNoiseStep(skip=False, fit_method="wavelet").run(build_ramp(sci, gdq, **NIRCAM), references)


def test_side_products_mask_background_and_noise(references):
    from jwstlazy.steps.side_products import SIDE_PRODUCTS_ATTR

    sci, gdq = _striped_ramp(2, seed=8)
    ramp = build_ramp(sci, gdq, **NIRCAM)
    step = CleanFlickerNoiseStep(skip=False, save_mask=True, save_background=True, save_noise=True)
    assert step.side_product_suffixes() == ("mask", "flicker_bkg", "flicker_noise")
    out = step.run(ramp, references)
    side = out.attrs[SIDE_PRODUCTS_ATTR]
    expected, mask = _whole_array_result(ramp, sci, gdq, references, 2)
    np.testing.assert_array_equal(side["mask"]["SCI"].values, mask.astype(np.float32))
    np.testing.assert_array_equal(side["flicker_noise"]["SCI"].values, expected - sci)
    background = side["flicker_bkg"]["SCI"].values
    assert background.shape == sci.shape and (background[:, 0] == 0).all()
    draft = RampFitStep().run(ramp.chunk({"y": -1, "x": -1}), references)["rate"]["SCI"].values
    _, levels, cleaned = flicker_fit(sci[1], gdq[1], flicker_scene_mask(draft))
    assert cleaned.all()
    np.testing.assert_array_equal(background[1, 1:], np.broadcast_to(levels[:, None, None], background[1, 1:].shape))
    assert {side[k].attrs["product"] for k in side} == {"mask", "flicker_bkg", "flicker_noise"}
    assert side["mask"].attrs["DETECTOR"] == "NRCA1"



def test_per_integration_masks_are_saved_as_a_cube(references, tmp_path):
    """save_mask with single_mask=False: one mask per integration, written as upstream's CubeModel."""
    from astropy.io import fits

    import jwstlazy
    from jwstlazy.datamodels import write_fits
    from jwstlazy.steps.side_products import SIDE_PRODUCTS_ATTR

    sci, gdq = _striped_ramp(2, seed=10)
    ramp = build_ramp(sci, gdq, **NIRCAM)
    out = CleanFlickerNoiseStep(skip=False, save_mask=True, single_mask=False).run(ramp, references)
    mask = out.attrs[SIDE_PRODUCTS_ATTR]["mask"]
    rateints = RampFitStep().run(ramp.chunk({"y": -1, "x": -1}), references)["rateints"]["SCI"].values
    expected = np.stack([flicker_scene_mask(rate) for rate in rateints]).astype(np.float32)
    assert mask["SCI"].dims == ("integration", "y", "x")
    np.testing.assert_array_equal(mask["SCI"].values, expected)
    path = write_fits(mask.compute(), tmp_path / "jw01234001001_01101_00001_nrca1_mask.fits")
    assert fits.getheader(path)["DATAMODL"] == "CubeModel"
    np.testing.assert_array_equal(jwstlazy.open(path)["SCI"].values, expected)  # validated on open


@pytest.mark.parametrize("gradient", [0.0, 3.0])
def test_autoparam_equals_the_step_with_the_chosen_parameters(references, gradient, caplog):
    from jwstlazy.kernels.flicker_autoparam import auto_parameters

    sci, gdq = _striped_ramp(2, seed=9)
    sci += (gradient * np.arange(SHAPE[-1]) / SHAPE[-1] * 10 * np.arange(1, SHAPE[1] + 1)[:, None, None]).astype(np.float32)
    ramp = build_ramp(sci, gdq, **NIRCAM)
    refs = {**references, "flat": "N/A"}
    out = CleanFlickerNoiseStep(skip=False, autoparam=True).run(ramp, refs)
    draft = RampFitStep().run(ramp.chunk({"y": -1, "x": -1}), references)["rate"]["SCI"].values
    chosen = auto_parameters(draft, "NRC_IMAGE", 2)  # (which choices occur: tests/kernels/test_flicker_autoparam.py)
    explicit = CleanFlickerNoiseStep(skip=False, **chosen).run(ramp, refs)
    np.testing.assert_array_equal(out["SCI"].values, explicit["SCI"].values)
    # other exposure types keep the parameters given, with a warning (upstream's behaviour)
    miri = CleanFlickerNoiseStep(skip=False, autoparam=True).run(build_ramp(sci, gdq, **MIRI), references)
    np.testing.assert_array_equal(miri["SCI"].values,
                                  CleanFlickerNoiseStep(skip=False).run(build_ramp(sci, gdq, **MIRI), references)["SCI"].values)
    assert "autoparam is not available" in caplog.text


@pytest.mark.crosscheck
@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_fft_on_a_nirspec_rate_crosscheck_jwst(detector):
    """NSClean on a rate product (a MAST _rate.fits, as users run it): within 1e-3 DN/s of jwst's do_correction."""
    cfn = pytest.importorskip("jwst.clean_flicker_noise.clean_flicker_noise")
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(13)
    ny, nx = 64, 512
    rate = (2.0 + rng.normal(0, 0.05, (ny, nx)) + np.cumsum(rng.normal(0, 0.01, (nx, ny)), axis=1).T).astype(np.float32)
    rate[20:26] += 40.0  # a spectral trace
    attrs = dict(NIRCAM, INSTRUME="NIRSPEC", DETECTOR=detector, EXP_TYPE="NRS_FIXEDSLIT", SUBARRAY="SUBS200A1",
                 SLOWAXIS=1, FASTAXIS=2)  # fmt: skip
    product = xr.Dataset({"SCI": (("y", "x"), rate), "DQ": (("y", "x"), np.zeros((ny, nx), np.uint32))},
                         attrs={**attrs, "product": "rate"})
    ours = CleanFlickerNoiseStep(skip=False, fit_method="fft").run(product.chunk({"y": 32}))
    assert ours.attrs["S_CLNFNS"] == "COMPLETE"
    model = datamodels.ImageModel(data=rate.copy(), dq=np.zeros((ny, nx), np.uint32))
    model.meta.instrument.name, model.meta.instrument.detector = "NIRSPEC", detector
    model.meta.exposure.type, model.meta.subarray.name, model.meta.subarray.slowaxis = "NRS_FIXEDSLIT", "SUBS200A1", 1
    result = cfn.do_correction(model.copy(), fit_method="fft")
    assert result[-1] == "COMPLETE"
    np.testing.assert_allclose(ours["SCI"].values, result[0].data, rtol=0, atol=1e-3)
    assert np.std(np.diff(ours["SCI"].values[:16], axis=0)) < np.std(np.diff(rate[:16], axis=0))
