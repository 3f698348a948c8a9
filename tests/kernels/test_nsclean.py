"""NSClean noise models: recover injected 1/f noise, and agree with jwst's fft_clean_full_frame / _subarray."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.kernels.nsclean import (
    ALLSLITS_CUTOFFS,
    LINE_OVERHEAD,
    from_detector,
    full_frame_noise,
    lowpass_filter,
    subarray_noise,
    to_detector,
)


def _one_over_f(rng, ny: int, nx: int, scale: float) -> np.ndarray:
    """Low-frequency noise in clocking order (detector coordinates): a random walk smoothed over ~200 ticks,
    sampled at each pixel's clock tick (lines of nx pixels plus the new-line overhead)."""
    ticks = ny * (nx + LINE_OVERHEAD)
    walk = np.cumsum(rng.normal(0, 1, ticks))
    smooth = np.convolve(walk - walk.mean(), np.ones(200) / 200, mode="same")
    return (scale * smooth / smooth.std()).reshape(ny, nx + LINE_OVERHEAD)[:, :nx]


def _scene(rng, shape_dms, detector):
    """(image, mask, injected noise), DMS orientation: white noise + 1/f noise + a bright masked spectral trace
    (rows along the dispersion direction x; the detector's fast scan runs along DMS y)."""
    noise_det = _one_over_f(rng, shape_dms[1], shape_dms[0], scale=5.0)  # detector: (nx_dms, ny_dms)
    noise = np.ascontiguousarray(from_detector(noise_det, detector))
    image = (noise + rng.normal(0, 1.0, shape_dms)).astype(np.float32)
    mask = np.ones(shape_dms, bool)
    mask[shape_dms[0] // 3: shape_dms[0] // 3 + max(2, shape_dms[0] // 8)] = False  # the trace: not background
    image[~mask] += 500.0
    return image, mask, noise


def test_orientation_round_trips():
    frame = np.arange(12.0).reshape(3, 4)
    for detector in ("NRS1", "NRS2"):
        assert np.array_equal(from_detector(to_detector(frame, detector), detector), frame)
    assert np.array_equal(to_detector(frame, "NRS1"), frame.T)
    assert np.array_equal(to_detector(frame, "NRS2"), frame.T[::-1])


def test_lowpass_filter_shape():
    gain = lowpass_filter(0.1, 0.04, 100)  # frequencies 0, 0.01, ..., 0.5
    assert np.all(gain[:9] == 1) and np.all(gain[13:] == 0) and 0 < gain[10] < 1
    assert gain[10] == pytest.approx(0.5)  # half power at f_half_power


@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_subarray_model_recovers_injected_one_over_f(detector):
    rng = np.random.default_rng(5)
    image, mask, noise = _scene(rng, (64, 512), detector)
    model = subarray_noise(image, mask, detector)
    residual = (model - noise)[mask]
    assert np.std(residual) < 0.15 * np.std(noise[mask])  # most of the 1/f noise is modelled
    assert abs(np.median(residual)) < 0.2


def test_subarray_without_background_gives_none():
    assert subarray_noise(np.zeros((8, 16), np.float32), np.zeros((8, 16), bool), "NRS1") is None


@pytest.mark.slow
def test_full_frame_model_recovers_injected_one_over_f():
    rng = np.random.default_rng(6)
    image, mask, noise = _scene(rng, (2048, 2048), "NRS1")
    model = full_frame_noise(image, mask, "NRS1")
    inner = np.zeros_like(mask)
    inner[8:-8, 8:-8] = True  # the fit leaves out 4 lines at each end
    good = mask & inner
    assert np.std((model - noise)[good]) < 0.15 * np.std(noise[good])


@pytest.mark.crosscheck
@pytest.mark.parametrize(("detector", "shape", "cutoffs"), [("NRS1", (32, 2048), None), ("NRS2", (64, 512), None),
                                                            ("NRS1", (256, 431), ALLSLITS_CUTOFFS)])  # fmt: skip
def test_subarray_crosscheck_jwst(detector, shape, cutoffs):
    cfn = pytest.importorskip("jwst.clean_flicker_noise.clean_flicker_noise")
    rng = np.random.default_rng(7)
    image, mask, _ = _scene(rng, shape, detector)
    options = {} if cutoffs is None else {"fc": cutoffs}
    theirs = cfn.fft_clean_subarray(image.copy(), mask.copy(), detector, **options)
    ours = image - subarray_noise(image, mask, detector, **({} if cutoffs is None else {"cutoffs": cutoffs}))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)


@pytest.mark.crosscheck
@pytest.mark.parametrize("detector", ["NRS1", "NRS2"])
def test_full_frame_crosscheck_jwst(detector):
    cfn = pytest.importorskip("jwst.clean_flicker_noise.clean_flicker_noise")
    rng = np.random.default_rng(8)
    image, mask, _ = _scene(rng, (2048, 2048), detector)
    theirs = cfn.fft_clean_full_frame(image.copy(), mask.copy(), detector)
    ours = image - full_frame_noise(image, mask, detector)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)
