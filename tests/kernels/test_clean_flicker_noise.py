"""Tests for jwstlazy.kernels.clean_flicker_noise (fit_method 'median' and 'fft')."""

import numpy as np
import pytest
from astropy.stats import sigma_clipped_stats

from jwstlazy.datamodels.dqflags import DO_NOT_USE, JUMP_DET
from jwstlazy.kernels.clean_flicker_noise import (
    channel_layout,
    flat_for_fitting,
    flicker_apply,
    flicker_fit,
    flicker_scene_mask,
)


def ref_clip(image, mask, lower, upper, lower_half):
    image = image.astype(np.float64)
    if not mask.any():
        return
    _, center, sigma = sigma_clipped_stats(image, mask=~mask, sigma=3.0)
    if lower_half:
        low = image[mask & (image <= center)]
        _, center, sigma = sigma_clipped_stats(np.concatenate((low - center, center - low)) + center, sigma=3.0)
    mask[image < center - lower * sigma] = False
    mask[image > center + upper * sigma] = False


def reference_clean(data, gdq, rate, n_sigma=2.0, axis=2, by_channel=False, background=True, model=False, flat=None):
    """Slow version with astropy / numpy.ma (photutils for ``model``), following the module docstring and
    jwst's flow with a flat (the draft rate and each difference divided by it, the cleaned difference
    multiplied back)."""
    if flat is not None:
        rate = rate / flat
    scene = ~(np.isnan(rate) | (rate == 0))
    ref_clip(rate, scene, 3.0, n_sigma, False)
    out = data.copy()
    ax = axis - 1
    nchan = 4 if by_channel and data.shape[2 + ax] == 2048 else 1
    size = data.shape[2 + ax] // nchan
    for i in range(data.shape[0]):
        for j in range(data.shape[1] - 1):
            mask = scene.copy()
            image = (data[i, j + 1] - data[i, j]).astype(np.float32)
            if flat is not None:
                image /= flat
            mask[(gdq[i, j + 1] & (DO_NOT_USE | JUMP_DET)) > 0] = False
            nan = np.isnan(image)
            image[nan] = 0
            mask[nan] = False
            if not mask.any():
                out[i, j + 1] = data[i, j + 1]
                continue
            bkg = np.float32(0)
            sub = image
            if background:
                ref_clip(image, mask, 3.0, 3.0, True)
                bkg = _photutils_background(image, mask) if model else np.nanmedian(image[mask])
                sub = image - bkg
                ref_clip(sub, mask, n_sigma, n_sigma, True)
            corrected = sub.copy()
            masked = np.ma.array(sub, mask=~mask)
            for c in range(nchan):
                sl = (slice(None), slice(c * size, (c + 1) * size)) if ax == 1 else (slice(c * size, (c + 1) * size),)
                stripes = np.ma.filled(np.ma.median(masked[sl], axis=ax, keepdims=True), 0.0)
                corrected[sl] = sub[sl] - stripes
            corrected += bkg
            if flat is not None:
                corrected *= flat
            corrected[nan] = np.nan
            out[i, j + 1] = out[i, j] + corrected
    return out


def _photutils_background(image, mask):
    from astropy.stats import SigmaClip
    from photutils.background import Background2D, MedianBackground

    box = [max(n for n in range(1, 33) if size % n == 0) for size in image.shape]
    return Background2D(image, box_size=box, filter_size=(5, 5), mask=~mask, sigma_clip=SigmaClip(sigma=3.0, maxiters=5),
                        bkg_estimator=MedianBackground()).background


def _case(rng, nints=2, ngroups=5, ny=40, nx=36, axis=2):
    t = np.arange(ngroups, dtype=np.float32)[None, :, None, None]
    sky = rng.uniform(1, 3, (ny, nx)).astype(np.float32)
    sky[10:14, 5:9] += 200  # a source
    noise_lines = rng.normal(0, 4, (nints, ngroups, ny if axis == 2 else nx)).astype(np.float32)
    lines = noise_lines[..., :, None] if axis == 2 else noise_lines[..., None, :]
    data = (1000 + sky * t + rng.normal(0, 2, (nints, ngroups, ny, nx)) + lines).astype(np.float32)
    data[0, 2, 3, 3] = np.nan
    gdq = np.zeros(data.shape, np.uint8)
    gdq[-1, 3, 20:22, :] = JUMP_DET
    gdq[0, 1, 5, 5] = DO_NOT_USE
    rate = (sky + rng.normal(0, 0.05, (ny, nx))).astype(np.float32)
    rate[0, 0] = np.nan
    return data, gdq, rate


def _run(data, gdq, rate, axis=2, by_channel=False, background="median", blocks=1, flat=None, detector=None):
    """The kernels as the step uses them, on row blocks; ``detector`` (NRS1/NRS2): fit_method 'fft'."""
    mask = flicker_scene_mask(rate if flat is None else rate / flat)
    fft = {"fit_method": "fft", "detector": detector} if detector else {}
    fits = [flicker_fit(data[i], gdq[i], mask, axis, by_channel, 2.0, background, flat=flat, **fft)
            for i in range(data.shape[0])]
    model = background == "model"
    stripes = np.stack([f[0] for f in fits])
    bkg = np.stack([f[1] for f in fits])
    ok = np.stack([f[2] for f in fits])
    nchan, channel = channel_layout(data.shape[2:], axis, by_channel)
    out = np.empty_like(data)
    ny = data.shape[2]
    edges = np.linspace(0, ny, blocks + 1).astype(int)
    for y0, y1 in zip(edges[:-1], edges[1:]):  # row blocks: stripes cut to the block's lines or channels
        levels = bkg[..., y0:y1, :] if model else bkg
        flat_rows = None if flat is None else flat[y0:y1]
        if detector:
            out[:, :, y0:y1] = flicker_apply(data[:, :, y0:y1], None, None, levels, ok, axis, flat_rows,
                                             noise=stripes[..., y0:y1, :])
        elif axis == 2:
            out[:, :, y0:y1] = flicker_apply(data[:, :, y0:y1], stripes[..., y0:y1], channel, levels, ok, axis, flat_rows)
        else:
            out[:, :, y0:y1] = flicker_apply(data[:, :, y0:y1], stripes, channel[y0:y1], levels, ok, axis, flat_rows)
    return out


@pytest.mark.parametrize("axis", [1, 2])
@pytest.mark.parametrize("background", ["median", "model", None])
def test_matches_reference(axis, background):
    data, gdq, rate = _case(np.random.default_rng(axis), axis=axis)
    got = _run(data, gdq, rate, axis, background=background, blocks=3)
    want = reference_clean(data, gdq, rate, axis=axis, background=background is not None, model=background == "model")
    np.testing.assert_array_equal(got, want)  # bit-exact here; see the module docstring for the caveat
    assert np.isnan(got[0, 2:, 3, 3]).all()  # NaN propagates to later groups, as upstream


def _flat(rng, shape):
    """A flat with a gradient, some zero and NaN pixels."""
    flat = (np.linspace(0.8, 1.2, shape[1])[None, :] * rng.uniform(0.97, 1.03, shape)).astype(np.float32)
    flat[3, 4] = 0
    flat[7, 2:5] = np.nan
    return flat


@pytest.mark.parametrize("background", ["median", "model"])
def test_flat_divides_the_fit_and_multiplies_back(background):
    rng = np.random.default_rng(7)
    data, gdq, rate = _case(rng, axis=2)
    flat = flat_for_fitting(_flat(rng, rate.shape))
    assert np.isfinite(flat).all() and (flat > 0.7).all()  # zero and NaN replaced by the smoothed level
    got = _run(data, gdq, rate, 2, background=background, blocks=3, flat=flat)
    want = reference_clean(data, gdq, rate, axis=2, model=background == "model", flat=flat)
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, _run(data, gdq, rate, 2, background=background))


def test_removes_stripes_and_keeps_signal():
    rng = np.random.default_rng(5)
    data, gdq, rate = _case(rng, nints=1, ngroups=6, ny=64, nx=64)
    data[0, 2, 3, 3] = 1000.0
    out = _run(data, gdq, rate)
    def row_scatter(ramp):  # scatter of the row medians of the group differences, background region
        return np.std(np.median(np.diff(ramp, axis=0)[:, 30:, 20:], axis=2), axis=1)

    assert (row_scatter(out[0]) < 0.25 * row_scatter(data[0])).all()  # 1/f rows are gone
    src = np.diff(out[0], axis=0)[:, 10:14, 5:9].mean()
    assert abs(src - 202) < 3  # source flux per group kept


def test_by_channel_and_unusable_difference():
    assert channel_layout((2048, 2048), 2, True)[0] == 4 and channel_layout((2048, 100), 2, True)[0] == 1
    data = np.ones((1, 3, 4, 4), np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 2] = DO_NOT_USE  # no background pixel in difference 1: left alone
    stripes, bkg, ok = flicker_fit(data[0], gdq[0], np.ones((4, 4), bool))
    assert list(ok) == [True, False]


@pytest.mark.crosscheck
@pytest.mark.parametrize("axis", [1, 2])
def test_crosscheck_jwst(monkeypatch, axis):
    cfn = pytest.importorskip("jwst.clean_flicker_noise.clean_flicker_noise")
    from stdatamodels.jwst import datamodels

    data, gdq, rate = _case(np.random.default_rng(20 + axis), axis=axis)
    model = datamodels.RampModel(data=data.copy(), groupdq=gdq.copy(), pixeldq=np.zeros(rate.shape, np.uint32))
    model.meta.instrument.detector = "MIRIMAGE" if axis == 1 else "NRCA1"
    model.meta.exposure.type = "MIR_IMAGE" if axis == 1 else "NRC_IMAGE"
    model.meta.subarray.name = "SUB64"
    model.meta.subarray.slowaxis = 2
    rate_model = datamodels.ImageModel(data=rate.copy(), dq=np.zeros(rate.shape, np.uint32))
    rate_model.meta.exposure.type = model.meta.exposure.type
    monkeypatch.setattr(cfn, "_make_processed_rate_image", lambda *a, **k: rate_model)
    for background in ("median", "model"):
        result = cfn.do_correction(model.copy(), background_method=background)
        assert result[-1] == "COMPLETE"
        np.testing.assert_allclose(_run(data, gdq, rate, axis, background=background), result[0].data, rtol=0,
                                   atol=1e-3, equal_nan=True)
    # apply_flat_field: jwst reads the flat with read_flat_file (compared below) and divides the draft rate
    # inside _make_processed_rate_image (patched here, so it is given the divided rate)
    raw_flat = _flat(np.random.default_rng(30 + axis), rate.shape)
    flat = flat_for_fitting(raw_flat)
    monkeypatch.setattr(cfn, "read_flat_file", lambda model, name: flat if name else None)
    rate_model.data = rate / flat
    result = cfn.do_correction(model.copy(), flat_filename="flat.fits")
    assert result[-1] == "COMPLETE"
    np.testing.assert_allclose(_run(data, gdq, rate, axis, flat=flat), result[0].data, rtol=0, atol=1e-3,
                               equal_nan=True)


@pytest.mark.crosscheck
def test_flat_for_fitting_crosscheck_jwst():
    background_level = pytest.importorskip("jwst.clean_flicker_noise.background_level")
    raw = _flat(np.random.default_rng(31), (40, 36))
    theirs = raw.copy()
    bad = (theirs == 0) | ~np.isfinite(theirs)
    theirs[bad] = background_level.background_level(theirs, ~bad, background_method="model")[bad]
    np.testing.assert_array_equal(flat_for_fitting(raw), theirs)


def _histogram_case(rng, ny=200, nx=180):
    """A rate image: Gaussian sky around 1.5 DN/s, sources above it, a few NaN and zero pixels."""
    rate = rng.normal(1.5, 0.2, (ny, nx)).astype(np.float32)
    rate[rng.integers(0, ny, 300), rng.integers(0, nx, 300)] += rng.uniform(2, 50, 300).astype(np.float32)
    rate[0, :5] = np.nan
    rate[1, :5] = 0
    return rate


def test_fit_histogram_refines_the_centre_and_sigma_by_a_gaussian_fit():
    rng = np.random.default_rng(11)
    rate = _histogram_case(rng)
    plain, fitted = flicker_scene_mask(rate, 2.0), flicker_scene_mask(rate, 2.0, fit_histogram=True)
    # slow reference: clipped mean, then a Gaussian fit to the histogram within +- 4 sigma (scipy)
    from scipy.optimize import curve_fit

    good = ~(np.isnan(rate) | (rate == 0))
    values = rate[good].astype(np.float64)
    mean, _, sigma = sigma_clipped_stats(values, sigma=3.0)
    counts, edges = np.histogram(values, bins=2000, range=(mean - 4 * sigma, mean + 4 * sigma))
    bins = (edges[1:] + edges[:-1]) / 2
    (_, centre, width), _ = curve_fit(lambda x, a, m, s: a * np.exp(-0.5 * ((x - m) / s) ** 2), bins, counts,
                                      p0=(counts.max(), bins[np.argmax(counts)], sigma))
    expected = good & (rate >= centre - 3 * width) & (rate <= centre + 2 * width)
    assert (fitted != expected).sum() <= 2  # only values on a limit, within the fits' rounding
    assert abs(centre - 1.5) < 0.01 and abs(width - 0.2) < 0.01
    assert fitted.sum() != plain.sum()  # the option changes the limits


@pytest.mark.crosscheck
@pytest.mark.parametrize("lower_half_only", [False, True])
def test_fit_histogram_crosscheck_jwst(lower_half_only):
    background_level = pytest.importorskip("jwst.clean_flicker_noise.background_level")
    from jwstlazy.kernels.clean_flicker_noise import _clip_to_background

    rate = _histogram_case(np.random.default_rng(12 + lower_half_only))
    theirs = ~(np.isnan(rate) | (rate == 0))
    ours = theirs.copy()
    background_level.clip_to_background(rate, theirs, sigma_lower=3.0, sigma_upper=2.0, fit_histogram=True,
                                        lower_half_only=lower_half_only)
    _clip_to_background(rate, ours, 3.0, 2.0, lower_half_only, fit_histogram=True)
    np.testing.assert_array_equal(ours, theirs)


def _nirspec_case(rng, nints=2, ngroups=4, ny=32, nx=256):
    """A NIRSpec-like subarray ramp: a spectral trace along x, 1/f noise along the fast-scan direction (y)."""
    t = np.arange(ngroups, dtype=np.float32)[None, :, None, None]
    sky = rng.uniform(1, 3, (ny, nx)).astype(np.float32)
    sky[12:16] += 300  # the trace
    ticks = nx * (ny + 12)  # clock ticks of a read: lines of ny pixels (DMS columns) and 12 idle ticks each
    walk = np.cumsum(rng.normal(0, 1, (nints, ngroups, ticks)), axis=-1)
    smooth = np.stack([[np.convolve(w - w.mean(), np.ones(200) / 200, mode="same") for w in g] for g in walk])
    drift = 4 * smooth / smooth.std()
    drift = drift.reshape(nints, ngroups, nx, ny + 12)[..., :ny].transpose(0, 1, 3, 2)  # 1/f noise, DMS
    data = (1000 + sky * t + rng.normal(0, 2, (nints, ngroups, ny, nx)) + drift).astype(np.float32)
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 2, 20, 30:40] = JUMP_DET
    rate = (sky + rng.normal(0, 0.05, (ny, nx))).astype(np.float32)
    return data, gdq, rate


@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_fft_removes_one_over_f_and_keeps_the_trace(detector):
    data, gdq, rate = _nirspec_case(np.random.default_rng(11))
    out = _run(data, gdq, rate, detector=detector, blocks=3)
    background = np.ones(rate.shape, bool)
    background[10:18] = False

    def scatter(ramp):  # of the group differences' background pixels
        return np.std(np.diff(ramp, axis=1)[..., background])

    assert scatter(out) < 0.6 * scatter(data)
    trace = np.diff(out, axis=1)[..., 12:16, :].mean()
    assert abs(trace - np.diff(data, axis=1)[..., 12:16, :].mean()) < 0.5  # the trace's signal kept


@pytest.mark.crosscheck
@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_fft_crosscheck_jwst(monkeypatch, detector):
    cfn = pytest.importorskip("jwst.clean_flicker_noise.clean_flicker_noise")
    from stdatamodels.jwst import datamodels

    data, gdq, rate = _nirspec_case(np.random.default_rng(12))
    model = datamodels.RampModel(data=data.copy(), groupdq=gdq.copy(), pixeldq=np.zeros(rate.shape, np.uint32))
    model.meta.instrument.name = "NIRSPEC"
    model.meta.instrument.detector = detector
    model.meta.exposure.type = "NRS_BRIGHTOBJ"
    model.meta.subarray.name = "SUB32"
    model.meta.subarray.slowaxis = 1
    rate_model = datamodels.ImageModel(data=rate.copy(), dq=np.zeros(rate.shape, np.uint32))
    rate_model.meta.exposure.type = "NRS_BRIGHTOBJ"
    monkeypatch.setattr(cfn, "_make_processed_rate_image", lambda *a, **k: rate_model)
    result = cfn.do_correction(model.copy(), fit_method="fft")
    assert result[-1] == "COMPLETE"
    np.testing.assert_allclose(_run(data, gdq, rate, detector=detector, blocks=2), result[0].data, rtol=0, atol=1e-3)
