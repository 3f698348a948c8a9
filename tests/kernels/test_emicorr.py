"""Tests for jwstlazy.kernels.emicorr: read clock, wave spline, joint fit, sequential waveform, subtraction.

Each kernel is compared with a slow NumPy version written from the upstream description (jwst 3.0
``jwst.emicorr.emicorr``) and with hand-computable cases.
"""

import numpy as np
import pytest
from scipy.interpolate import interp1d

from jwstlazy.kernels.emicorr import (
    PHASE_STEPS,
    accumulate_phased,
    clock_case,
    fit_joint,
    frame_samples,
    integration_samples,
    lookup_table,
    period_samples,
    phased_waveform,
    pixel_std,
    read_sample,
    rebin_nearest,
    rebinned_size,
    scatter_threshold,
    sequential_nbins,
    sequential_nints_to_phase,
    spline_at,
    subtract_lookup,
    subtract_wave,
    wave_spline,
)

ROWCLOCKS, NSAMPLES = 28, 1  # SUB64 FAST


# -- slow references --------------------------------------------------------------------------------------

def reference_spline(wave):
    """scipy's cubic interp1d through the wave extended by one sample at each end, as upstream."""
    n = wave.size
    phases = (np.arange(n + 2) - 0.5) / n
    return interp1d(phases, np.concatenate([wave[-1:], wave, wave[:1]]), kind="cubic")


def reference_first_phase(ny, nx4, rowclocks=ROWCLOCKS, nsamples=NSAMPLES, period=256.0, y0=0, x0=0):
    """frac((y * rowclocks + k * nsamples) / period) of every (row, column group)."""
    t = (np.arange(y0, y0 + ny)[:, None] * rowclocks + np.arange(x0 // 4, x0 // 4 + nx4)[None, :] * nsamples)
    return (t.astype(float) / period) % 1


def reference_accumulate(data, pixeldq, threshold, nphases, y0, x0, period):
    nints, ngroups, ny, nx = data.shape
    std = np.std(data, axis=1)
    sums, counts = np.zeros((nints, nphases, ngroups)), np.zeros((nints, nphases))
    for j in range(ny):
        for xx in range(nx):
            k = (x0 + xx) // 4
            if k in (1, 2) or pixeldq[j, xx]:
                continue
            phase = (((y0 + j) * ROWCLOCKS + k * NSAMPLES) / period) % 1
            index = int(phase * nphases)
            ok = std[:, j, xx] < threshold
            sums[:, index] += data[:, :, j, xx] * ok[:, None]
            counts[:, index] += ok
    return sums, counts


def reference_fit(sums, counts, wave, dphase, dphase_frame):
    """Chi^2 of straight lines after subtracting c * wave, minimised over phase (grid + parabola) then c."""
    nints, nphases, ngroups = sums.shape
    func = reference_spline(wave)
    t = np.arange(ngroups)
    template = ((np.arange(nphases) + 0.5)[:, None] / nphases + t * dphase) % 1
    grid = np.arange(PHASE_STEPS) / PHASE_STEPS

    def terms(k, i):
        z = func((template + grid[k]) % 1)
        y, n = sums[i], counts[i]
        s_t, s_tt, d = t.sum(), (t * t).sum(), ngroups * (t * t).sum() - t.sum() ** 2
        s_z, s_tz, s_zz = z.sum(1), (t * z).sum(1), (z * z).sum(1)
        s_y, s_ty = y.sum(1), (t * y).sum(1)
        a = np.sum(n / d * (-s_tt * s_z**2 + 2 * s_t * s_z * s_tz - ngroups * s_tz**2 + s_zz * d))
        b = 2 / d * np.sum(s_tt * s_z * s_y - s_t * s_tz * s_y - s_t * s_z * s_ty + ngroups * s_tz * s_ty)
        return a, b - 2 * np.sum(z * y)

    def chisq_amplitude(phase):
        a = b = 0.0
        for i in range(nints):
            k = np.argmin(np.abs((grid - phase - dphase_frame * i) % 1))
            ai, bi = terms(k, i)
            a, b = a + ai, b + bi
        c = -b / (2 * a)
        return a * c * c + b * c, c

    chisq = np.array([chisq_amplitude(p)[0] for p in grid])
    best = int(np.argmin(chisq))
    x = grid[[best - 1, best, (best + 1) % PHASE_STEPS]]
    quad, lin, _ = np.polyfit(x, chisq[[best - 1, best, (best + 1) % PHASE_STEPS]], 2)
    phase = -lin / (2 * quad)
    return (phase + np.arange(nints) * dphase_frame) % 1, np.full(nints, chisq_amplitude(phase)[1])


def reference_waveform(data, int_samples, frame, period, nbins):
    """Upstream's sequential steps with numpy/astropy: slope, bias, 4-output mean, medians, clipped bins."""
    from astropy.stats import sigma_clipped_stats

    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    values, phases = [], []
    for i in range(nints):
        n = ngroups - 2
        s_t, s_tt, s_ty, s_y = 0.0, 0.0, np.zeros((ny, nx)), np.zeros((ny, nx))
        for c in range(n):  # least-squares slope over groups 1 .. ngroups-2, per frame index
            s_t, s_tt = s_t + c, s_tt + c * c
            plane = data[i, c + 1].astype(np.float64)
            s_ty, s_y = s_ty + c * plane, s_y + plane
        slope = (n * s_ty - s_t * s_y) / (n * s_tt - s_t * s_t)
        ramp = (data[i] - slope * np.arange(ngroups)[:, None, None]).astype(np.float32)
        bias = np.nanmedian(ramp[1:ngroups - 1], axis=0) if ngroups > 4 else np.nanmin(ramp[1:ngroups - 1], axis=0)
        for g in range(ngroups):
            clean = ramp[g] - bias
            mean = (clean[:, 0::4] + clean[:, 1::4] + clean[:, 2::4] + clean[:, 3::4]) / 4.0
            mean[:, 1] = mean[:, 2] = (mean[:, 0] + mean[:, 3]) / 2
            values.append((mean - np.median(mean)).ravel())
            times = (i * int_samples + g * frame + np.arange(ny)[:, None] * ROWCLOCKS
                     + np.arange(nx4)[None, :] * NSAMPLES)
            phases.append(((times / period) % 1).ravel())
    values, phases = np.concatenate(values).astype(np.float64), np.concatenate(phases)
    waveform = np.empty(nbins)
    for b in range(nbins):
        inside = (phases > b / nbins) & (phases <= (b + 1) / nbins)
        waveform[b] = sigma_clipped_stats(values[inside])[0]
    return waveform - np.median(waveform)


def reference_lookup(waveform, period, reference, scale):
    """np.roll / np.corrcoef / np.polyfit version of the look-up table."""
    def rebin(values, length):
        step = values.size / length
        return values[(np.arange(int(np.ceil(values.size / step))) * step).astype(int)]

    table = rebin(waveform, period)
    if reference.size == 0:
        return table
    resampled = rebin(waveform, float(reference.size))
    cc = [np.corrcoef(np.roll(reference, s), resampled)[0, 1] for s in range(reference.size)]
    matched = rebin(np.roll(reference, int(np.argmax(cc))), period)
    return matched * np.polyfit(matched, table, 1)[0] if scale else matched


# -- read clock and parameters ----------------------------------------------------------------------------

def test_clock_and_period_hand_values():
    assert clock_case("FULL", "FASTR1") == "FULL_FAST" and clock_case("FULL", "SLOW") == "FULL_SLOW"
    assert clock_case("MASK1065", "FAST") == "MASK1065"
    assert period_samples(390.625) == 256.0  # 2.56 ms in 10 us samples
    assert frame_samples(64, 28) == 64 * 28 + 960 * 7 == 8512  # = SUB64 frameclocks upstream
    assert integration_samples(64, 5, 28, 8512, "FAST") == 5 * 8512
    assert integration_samples(64, 5, 28, 8512, "FASTR1") == 6 * 8512  # one extra reset frame
    assert read_sample(2, 3, 4, 5, 1000, 100, 10, 9) == 2000 + 300 + 40 + 45


def test_sequential_parameters_follow_upstream_rules():
    assert sequential_nints_to_phase(None, None, 7, 5, 256.0, 8512) == 7
    assert sequential_nints_to_phase(None, 3, 7, 5, 256.0, 8512) == 1  # ceil(3 * 256 / (8512 * 5))
    assert sequential_nints_to_phase(None, 3, 7, 2, 9961.0, 8512) == 2
    assert sequential_nints_to_phase(9, 3, 7, 5, 256.0, 8512) == 7  # capped by nints
    assert sequential_nints_to_phase(2, None, 7, 5, 256.0, 8512) == 2
    assert sequential_nbins(None, 457.6) == 228
    assert sequential_nbins(None, 9961.0) == 500 and sequential_nbins(501, 9961.0) == 501


# -- joint algorithm --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [2, 3, 7, 40])
def test_wave_spline_equals_scipy_cubic_interp1d(n):
    wave = np.random.default_rng(n).normal(size=n)
    values, second = wave_spline(wave)
    phases = np.linspace(0, 1, 997, endpoint=False)
    ours = np.array([spline_at(values, second, p) for p in phases])
    np.testing.assert_allclose(ours, reference_spline(wave)(phases), rtol=0, atol=1e-9 * np.abs(wave).max())
    np.testing.assert_allclose([spline_at(values, second, (m + 0.5) / n) for m in range(n)], wave, atol=1e-12)


def test_wave_spline_of_a_sampled_sine_is_the_sine():
    wave = np.sin(2 * np.pi * (np.arange(128) + 0.5) / 128)
    values, second = wave_spline(wave)
    phases = np.linspace(0, 1, 501, endpoint=False)
    assert np.abs([spline_at(values, second, p) - np.sin(2 * np.pi * p) for p in phases]).max() < 1e-6


def test_pixel_std_and_threshold_equal_numpy_float32():
    data = np.random.default_rng(1).normal(1000, 30, (3, 5, 6, 8)).astype(np.float32)
    std = pixel_std(data)
    assert std.dtype == np.float32
    np.testing.assert_array_equal(std, np.std(data, axis=1))
    assert scatter_threshold(std) == 2 * np.median(np.std(data, axis=1))


def test_accumulate_phased_equals_reference_and_adds_over_blocks():
    rng = np.random.default_rng(2)
    data = rng.normal(100, 5, (2, 4, 10, 24)).astype(np.float32)
    data[:, :, 3, 13] += np.arange(4)[None, :] * 300  # a bright pixel: above the scatter cut
    pixeldq = np.zeros((10, 24), np.uint32)
    pixeldq[6, 17] = 1
    threshold = scatter_threshold(pixel_std(data))
    sums, counts = accumulate_phased(data, pixeldq, threshold, 0, 0, 16, ROWCLOCKS, NSAMPLES, 256.0)
    want_sums, want_counts = reference_accumulate(data, pixeldq, threshold, 16, 0, 0, 256.0)
    np.testing.assert_allclose(sums, want_sums, rtol=1e-12)
    np.testing.assert_array_equal(counts, want_counts)
    everything = accumulate_phased(data, pixeldq, np.float32(1e9), 0, 0, 16, ROWCLOCKS, NSAMPLES, 256.0)[1]
    assert everything.sum() == 2 * (10 * 16 - 1)  # 4 of 6 column groups (1 and 2 left out), 1 flagged pixel
    assert counts.sum() < everything.sum() - 2  # the bright pixel (and a few noisy ones) cut by scatter
    left = accumulate_phased(data[..., :12], pixeldq[:, :12], threshold, 0, 0, 16, ROWCLOCKS, NSAMPLES, 256.0)
    right = accumulate_phased(data[..., 12:], pixeldq[:, 12:], threshold, 0, 12, 16, ROWCLOCKS, NSAMPLES, 256.0)
    np.testing.assert_allclose(left[0] + right[0], sums, rtol=1e-12)
    np.testing.assert_array_equal(left[1] + right[1], counts)


def _ramps_with_wave(amplitude, phase, nints=2, ngroups=5, ny=32, nx=40, period=256.0, reset=8512.0):
    """Linear ramps (slopes differ per pixel) plus amplitude * sin(2 pi (read phase + phase)), float32."""
    rng = np.random.default_rng(3)
    dphase = (frame_samples(ny, ROWCLOCKS) / period) % 1
    dphase_frame = dphase * ngroups + reset / period
    first = np.repeat(reference_first_phase(ny, nx // 4, period=period), 4, axis=1)
    g = np.arange(ngroups)[:, None, None]
    data = np.empty((nints, ngroups, ny, nx), np.float32)
    for i in range(nints):
        slopes = rng.uniform(1, 20, (ny, nx))
        data[i] = 500 + slopes * g + amplitude * np.sin(2 * np.pi * (first + g * dphase + i * dphase_frame + phase))
    return data, dphase, dphase_frame


def test_fit_joint_recovers_a_known_wave_and_matches_reference():
    wave = np.sin(2 * np.pi * (np.arange(64) + 0.5) / 64)
    data, dphase, dphase_frame = _ramps_with_wave(4.0, 0.37)
    threshold = np.float32(1e9)
    sums, counts = accumulate_phased(data, np.zeros(data.shape[-2:], np.uint32), threshold, 0, 0, wave.size,
                                     ROWCLOCKS, NSAMPLES, 256.0)
    values, second = wave_spline(wave)
    phases, amplitudes = fit_joint(sums, counts, values, second, dphase, dphase_frame, False)
    # a sine is its own negative half a period later: compare amplitude * exp(2 pi i phase)
    np.testing.assert_allclose(amplitudes[0] * np.exp(2j * np.pi * phases[0]), 4.0 * np.exp(2j * np.pi * 0.37),
                               atol=0.15)  # 64 phase bins: ~2% (bin centres stand for their pixels)
    np.testing.assert_allclose(np.diff(phases) % 1, dphase_frame % 1)
    want_phases, want_amplitudes = reference_fit(sums, counts, wave, dphase, dphase_frame)
    np.testing.assert_allclose(phases, want_phases, atol=1e-9)
    np.testing.assert_allclose(amplitudes, want_amplitudes, rtol=1e-9)
    separate = fit_joint(sums, counts, values, second, dphase, dphase_frame, True)
    np.testing.assert_allclose(separate[1] * np.exp(2j * np.pi * separate[0]),
                               amplitudes * np.exp(2j * np.pi * phases), atol=2e-2)
    flat = fit_joint(np.zeros_like(sums), np.zeros_like(counts), values, second, dphase, dphase_frame, False)
    assert np.all(flat[1] == 0.0)  # no usable pixel: chi^2 undefined, nothing subtracted


def test_subtract_wave_removes_the_wave_blockwise():
    wave = np.sin(2 * np.pi * (np.arange(64) + 0.5) / 64)
    data, dphase, dphase_frame = _ramps_with_wave(4.0, 0.37)
    clean, _, _ = _ramps_with_wave(0.0, 0.0)
    values, second = wave_spline(wave)
    phases = (0.37 + np.arange(2) * dphase_frame) % 1
    amplitudes = np.full(2, 4.0)
    whole = subtract_wave(data, 0, 0, values, second, ROWCLOCKS, NSAMPLES, 256.0, dphase, phases, amplitudes)
    assert whole.dtype == np.float32 and np.abs(whole - clean).max() < 1e-3
    block = subtract_wave(data[..., 5:20, 8:28], 5, 8, values, second, ROWCLOCKS, NSAMPLES, 256.0, dphase, phases,
                          amplitudes)
    np.testing.assert_array_equal(block, whole[..., 5:20, 8:28])


# -- sequential algorithm ---------------------------------------------------------------------------------

def test_rebin_nearest_hand_values():
    values = np.ones(10)
    values[[1, 5, 9]] = 0.55, 1.55, 2.0
    np.testing.assert_array_equal(rebin_nearest(values, 7.0), [1.0, 0.55, 1.0, 1.0, 1.55, 1.0, 1.0])
    np.testing.assert_array_equal(rebin_nearest(values, 15.0)[[2, 8, 14]], [0.55, 1.55, 2.0])
    for n, length in ((128, 256.0), (228, 457.6228), (500, 9961.0), (303, 606.3)):
        assert rebinned_size(n, length) == rebin_nearest(np.zeros(n), length).size == np.ceil(length)


def test_phased_waveform_equals_reference():
    rng = np.random.default_rng(4)
    nints, ngroups, ny, nx = 2, 6, 12, 32
    period, frame = 100.0, frame_samples(ny, ROWCLOCKS)
    per_int = integration_samples(ny, ngroups, ROWCLOCKS, 8512, "FASTR1")
    data = (1000 + 3.0 * np.arange(ngroups)[None, :, None, None] + rng.normal(0, 2, (nints, ngroups, ny, nx)))
    data = data.astype(np.float32)
    ours = phased_waveform(data, ROWCLOCKS, frame, per_int, NSAMPLES, period, 20, -1)
    np.testing.assert_allclose(ours, reference_waveform(data, per_int, frame, period, 20), atol=1e-9)


def test_phased_waveform_finds_an_injected_wave():
    ngroups, ny, nx = 8, 40, 64
    period, frame = 256.0, frame_samples(ny, ROWCLOCKS)
    t = (np.arange(ngroups)[:, None, None] * frame + np.arange(ny)[None, :, None] * ROWCLOCKS
         + np.arange(nx // 4)[None, None, :])
    emi = np.repeat(3.0 * np.sin(2 * np.pi * t / period), 4, axis=-1)
    data = (800 + 2.0 * np.arange(ngroups)[:, None, None] + emi)[None].astype(np.float32)
    waveform = phased_waveform(data, ROWCLOCKS, frame, int(ngroups * frame), NSAMPLES, period, 128, -1)
    # bin b holds samples t = 2b+1, 2b+2 (phases in (b/128, (b+1)/128]): mean phase (b + 0.75) / 128
    expected = 3.0 * np.sin(2 * np.pi * (np.arange(128) + 0.75) / 128)
    assert np.corrcoef(waveform, expected)[0, 1] > 0.998
    assert 0.9 < np.polyfit(expected, waveform, 1)[0] < 1.0  # the crude cleaning absorbs a few per cent


@pytest.mark.parametrize("scale", [True, False])
def test_lookup_table_matches_reference(scale):
    rng = np.random.default_rng(5)
    waveform = 2.5 * np.sin(2 * np.pi * (np.arange(50) + 0.5) / 50 + 1.1) + rng.normal(0, 0.05, 50)
    reference = np.sin(2 * np.pi * (np.arange(40) + 0.5) / 40)
    for ref in (reference, np.empty(0)):
        ours = lookup_table(waveform, 101.3, ref, scale)
        np.testing.assert_allclose(ours, reference_lookup(waveform, 101.3, ref, scale), rtol=1e-10, atol=1e-12)
    assert abs(np.abs(lookup_table(waveform, 101.3, reference, True)).max() - 2.5) < 0.15


def test_subtract_lookup_hand_case_and_blocks():
    table = np.arange(8, dtype=np.float64)  # period of 8 samples: noise = t % 8
    table[3] = np.nan  # non-finite noise is not subtracted
    data = np.zeros((2, 3, 4, 8), np.float32)
    out = subtract_lookup(data, 0, 0, table, 7, 50.0, 200, 1, 8.0, -1)
    for i, g, y, x in np.ndindex(data.shape):
        noise = (i * 200 + g * 50 + y * 7 + x // 4) % 8
        assert out[i, g, y, x] == (0.0 if noise == 3 else -noise)
    shifted = subtract_lookup(data, 0, 0, table, 7, 50.0, 200, 1, 8.0, 1)  # column group 1 read 3 samples late
    assert shifted[0, 0, 0, 4] == -4.0 and shifted[0, 0, 0, 0] == 0.0
    np.testing.assert_array_equal(subtract_lookup(data[..., 1:3, 4:8], 1, 4, table, 7, 50.0, 200, 1, 8.0, -1),
                                  out[..., 1:3, 4:8])
