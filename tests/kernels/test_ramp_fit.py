"""Tests of jwstlazy.kernels.ramp_fit: a slow NumPy reference, hand-computed pixels, and stcal."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels.dqflags import (
    CHARGELOSS,
    DO_NOT_USE,
    JUMP_DET,
    NO_GAIN_VALUE,
    PERSISTENCE,
    SATURATED,
)
from jwstlazy.kernels.ramp_fit import fit_ramps

TGROUP = 10.737
TFRAME = 10.737

# ---------------------------------------------------------------------------------------------
# Slow, obviously-correct reference (per pixel, plain NumPy), written from docs/steps/ramp_fit.md
# ---------------------------------------------------------------------------------------------


def _segments(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of fitted segments of one integration."""
    good = [int(f) & ~PERSISTENCE & 0xFF == 0 for f in flags]
    runs = []
    g = 0
    while g < len(flags):
        if good[g]:
            end = g
            while end < len(flags) and good[end]:
                end += 1
            start = g - 1 if g > 0 and int(flags[g - 1]) & ~PERSISTENCE & 0xFF == JUMP_DET else g
            runs.append((start, end - start))
            g = end
        else:
            g += 1
    if any(length >= 2 for _, length in runs):
        return [r for r in runs if r[1] >= 2]
    return runs[:1]


def _optimal_slope(y: np.ndarray, start: int, gain: float, rn: float) -> float:
    """Weighted LSQ slope per group, weights |(j - m) / m|**P (P from the segment SNR)."""
    n = len(y)
    signal = y[-1] - y[0]
    den = rn**2 + signal * gain
    snr = 0.0
    if not (den <= 0 or gain == 0):
        snr = signal * gain / np.sqrt(den)  # NaN (bad read noise) selects the largest power
        snr = 0.0 if snr < 0 else snr
    powers = [(5, 0.0), (10, 0.4), (20, 1.0), (50, 3.0), (100, 6.0)]
    power = next((p for limit, p in powers if snr < limit), 10.0)
    m = (n - 1) / 2.0
    shape = np.abs((np.arange(n) - m) / m).astype(np.float32) ** np.float32(power)
    x = start + np.arange(n, dtype=float)
    w = shape.astype(float)
    xm = np.sum(w * x) / np.sum(w)
    ym = np.sum(w * y) / np.sum(w)
    return np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2)


@np.errstate(all="ignore")
def reference_fit_ramps(data, groupdq, pixeldq, gain, readnoise, tgroup, tframe, nframes, suppress=True, dark=None):
    nints, ngroups, ny, nx = data.shape
    suppress = suppress and ngroups > 1
    rn_e = (readnoise.astype(np.float32) * (gain.astype(np.float32) / np.sqrt(2.0 * nframes))).astype(float)
    t_one = (nframes + 1.0) * tframe / 2.0
    dark = np.zeros((ny, nx)) if dark is None else dark
    rate = {k: np.zeros((ny, nx)) for k in ("slope", "var_poisson", "var_rnoise", "err")}
    rate["dq"] = np.zeros((ny, nx), np.uint32)
    ints = {k: np.zeros((nints, ny, nx)) for k in ("slope", "var_poisson", "var_rnoise", "err")}
    ints["dq"] = np.zeros((nints, ny, nx), np.uint32)
    for y in range(ny):
        for x in range(nx):
            g, rn = np.float64(gain[y, x]), np.float64(rn_e[y, x])  # numpy floats: x / 0 -> inf
            flags = groupdq[:, :, y, x].astype(np.int64)
            values = data[:, :, y, x].astype(float)
            values[flags & SATURATED != 0] = np.nan
            for i in range(nints):
                if suppress and np.sum(flags[i] & ~PERSISTENCE & 0xFF == 0) == 1:
                    flags[i] |= DO_NOT_USE
            single0 = [not suppress and np.sum(flags[i] == 0) == 1 and flags[i, 0] == 0 for i in range(nints)]
            pdq = int(pixeldq[y, x])
            if not g > 0:
                pdq |= DO_NOT_USE | NO_GAIN_VALUE
            # median rate
            if ngroups == 1:
                median_rate = np.mean(values[:, 0] / t_one)
            else:
                rates = []
                for i in range(nints):
                    if single0[i]:
                        r = values[i, 0] / t_one
                    else:
                        loc = np.where(flags[i] & DO_NOT_USE, np.nan, values[i] / tgroup)
                        d = np.diff(loc)
                        d[flags[i, 1:] & JUMP_DET != 0] = np.nan
                        d = d[~np.isnan(d)]
                        r = np.median(d) if d.size else loc[0]
                    rates.append(0.0 if np.isnan(r) else r)
                median_rate = np.mean(rates)
            signal = median_rate + dark[y, x] if median_rate > 0 else dark[y, x]
            sums = dict(p=0.0, r=0.0, s=0.0)
            n_dnu = n_sat = 0
            partial_sat = False
            for i in range(nints):
                dq = pdq
                if np.any(flags[i] & JUMP_DET):
                    dq |= JUMP_DET
                if np.any(flags[i] & PERSISTENCE):
                    dq |= PERSISTENCE
                slope, vp, vr, err = np.nan, 0.0, 0.0, 0.0
                if flags[i, 0] & SATURATED:
                    dq |= DO_NOT_USE | SATURATED
                elif np.all(flags[i] & (DO_NOT_USE | SATURATED)):
                    dq |= DO_NOT_USE | (SATURATED if np.all(flags[i] & SATURATED) else 0)
                else:
                    segs = _segments(flags[i])
                    if segs:
                        inv_r = inv_p = inv_e = num = 0.0
                        for start, n in segs:
                            if n == 1:
                                t = t_one if single0[i] else tgroup
                                s, sp, sr = values[i, start] / t, signal / (t * g), 12 * (rn / t) ** 2 / (6 * g * g)
                            elif n == 2:
                                s = (values[i, start + 1] - values[i, start]) / tgroup
                                sp, sr = signal / (tgroup * g), 12 * (rn / tgroup) ** 2 / (6 * g * g)
                            else:
                                s = _optimal_slope(values[i, start : start + n], start, g, rn) / tgroup
                                sp = signal / (tgroup * g * (n - 1))
                                sr = 12 * (rn / tgroup) ** 2 / ((n**3 - n) * g * g) if g > 0 else np.float64(0.0)
                            inv_r += 1 / sr
                            inv_p += 1 / sp if sp > 0 else 0.0
                            inv_e += 1 / (sp + sr)
                            num += s / sr
                        vp = 1 / inv_p if inv_p > 0 else 0.0
                        vp = 0.0 if vp >= 1e6 else vp
                        vr = 1 / inv_r
                        vr = 0.0 if vr >= 1e6 else vr
                        if dq & (DO_NOT_USE | SATURATED):
                            vp = vr = 0.0
                        else:
                            slope = num * vr
                            err = 0.0 if 1 / inv_e > 1e6 else np.sqrt(1 / inv_e)
                        sums["p"] += inv_p
                        sums["r"] += inv_r
                        sums["s"] += num
                    else:
                        slope = np.nan if dq & (DO_NOT_USE | SATURATED) else 0.0
                n_dnu += bool(dq & DO_NOT_USE)
                n_sat += bool(dq & SATURATED)
                if np.any(flags[i] & SATURATED):
                    dq |= SATURATED
                    partial_sat = True
                rate_dq_bits = dq & (JUMP_DET | PERSISTENCE)
                rate["dq"][y, x] |= rate_dq_bits
                for key, value in (("slope", slope), ("var_poisson", vp), ("var_rnoise", vr), ("err", err)):
                    ints[key][i, y, x] = value
                ints["dq"][i, y, x] = dq
            dq = pdq | int(rate["dq"][y, x])
            dq |= DO_NOT_USE if n_dnu == nints else 0
            dq |= SATURATED if n_sat == nints else 0
            # stcal inverts positive sums only; a zero or NaN sum is kept as it is
            vp = 1 / sums["p"] if sums["p"] > 0 else sums["p"]
            vp = 0.0 if vp >= 1e6 or vp < 0 else vp
            vr = 1 / sums["r"] if sums["r"] > 0 else sums["r"]
            vr = 0.0 if vr >= 1e6 else vr
            if dq & (DO_NOT_USE | SATURATED):
                slope, vp, vr, err = np.nan, 0.0, 0.0, 0.0
            else:
                slope, err = sums["s"] * vr, np.sqrt(vp + vr)
            if partial_sat:
                dq |= SATURATED
            for key, value in (("slope", slope), ("var_poisson", vp), ("var_rnoise", vr), ("err", err)):
                rate[key][y, x] = value
            rate["dq"][y, x] = dq
    return rate, ints


def random_ramps(nints=2, ngroups=7, ny=9, nx=11, seed=0, chargeloss=False, sparse=1.0):
    """Realistic ramps (DN) with jumps, saturation, DO_NOT_USE, persistence and bad pixels; ``sparse`` scales
    the rates of the group flags (a time series with mostly clean integrations: 0.02)."""
    rng = np.random.default_rng(seed)
    rate = np.where(rng.random((ny, nx)) < 0.3, rng.uniform(-2, 5, (ny, nx)), 10 ** rng.uniform(0, 3.5, (ny, nx)))
    gain = rng.uniform(1.5, 2.5, (ny, nx)).astype(np.float32)
    rn = rng.uniform(5, 15, (ny, nx)).astype(np.float32)
    g = np.arange(ngroups)[None, :, None, None]
    shape = (nints, ngroups, ny, nx)
    data = rate * (g + 1) + rng.normal(0, 1, shape) * rn / np.sqrt(2)
    data += rng.normal(0, 1, shape) * np.sqrt(np.abs(rate) * (g + 1) / gain)
    gdq = np.zeros(shape, np.uint8)
    hits = rng.random(shape) < 0.06 * sparse
    data += np.cumsum(hits * rng.uniform(50, 500, shape), axis=1)
    gdq[hits] |= JUMP_DET
    saturating = rng.random((nints, ny, nx)) < 0.12 * sparse
    first_saturated = rng.integers(0, ngroups, (nints, ny, nx))
    gdq[saturating[:, None] & (g >= first_saturated[:, None])] |= SATURATED
    gdq[rng.random(shape) < 0.03 * sparse] |= DO_NOT_USE
    gdq[rng.random(shape) < 0.02 * sparse] |= PERSISTENCE
    if chargeloss:
        lossy = rng.random((nints, ny, nx)) < 0.15 * sparse
        first_lost = rng.integers(1, ngroups + 1, (nints, ny, nx))
        gdq[lossy[:, None] & (g >= first_lost[:, None])] |= CHARGELOSS | DO_NOT_USE
    pdq = np.zeros((ny, nx), np.uint32)
    pdq[rng.random((ny, nx)) < 0.02] |= DO_NOT_USE
    pdq[rng.random((ny, nx)) < 0.02] |= dqflags.HOT
    gain[rng.random((ny, nx)) < 0.01] = 0.0
    gain[rng.random((ny, nx)) < 0.01] = np.nan
    rn[rng.random((ny, nx)) < 0.01] = np.nan
    return data.astype(np.float32), gdq, pdq, gain, rn


def assert_same_products(products, rate, ints, rtol=1e-6):
    for result, expected in ((products.rate, rate), (products.rateints, ints)):
        np.testing.assert_array_equal(result.dq, expected["dq"])
        for key in ("slope", "var_poisson", "var_rnoise", "err"):
            np.testing.assert_allclose(getattr(result, key), expected[key], rtol=rtol, atol=0, err_msg=key)


# ---------------------------------------------------------------------------------------------
# Kernel vs reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nints", "ngroups", "nframes", "suppress", "seed"),
    [(2, 7, 1, True, 0), (3, 5, 4, False, 1), (1, 3, 1, True, 2), (2, 2, 1, False, 3), (2, 1, 1, True, 4),
     (40, 5, 1, True, 5)],  # the last: mostly clean integrations, so pixels mix vectorised and per-integration fits
)
def test_matches_reference_on_random_ramps(nints, ngroups, nframes, suppress, seed):
    data, gdq, pdq, gain, rn = random_ramps(nints, ngroups, seed=seed, sparse=0.02 if nints > 10 else 1.0)
    dark = np.random.default_rng(seed).uniform(0, 0.3, pdq.shape).astype(np.float32)
    kwargs = dict(group_time=TGROUP, frame_time=TFRAME / nframes, nframes=nframes, suppress_one_group=suppress)
    products = fit_ramps(data, gdq, pdq, gain, rn, average_dark_current=dark, **kwargs)
    rate, ints = reference_fit_ramps(data, gdq, pdq, gain, rn, TGROUP, TFRAME / nframes, nframes, suppress, dark)
    assert_same_products(products, rate, ints)
    assert products.rate.slope.dtype == np.float32 and products.rate.dq.dtype == np.uint32
    assert products.rateints.slope.shape == (nints, 9, 11)


def test_inputs_are_not_modified():
    data, gdq, pdq, gain, rn = random_ramps(seed=5)
    copies = [a.copy() for a in (data, gdq, pdq, gain, rn)]
    fit_ramps(data, gdq, pdq, gain, rn, group_time=TGROUP, frame_time=TFRAME, nframes=1)
    for before, after in zip(copies, (data, gdq, pdq, gain, rn)):
        np.testing.assert_array_equal(before, after)


def test_chunks_give_the_same_result():
    data, gdq, pdq, gain, rn = random_ramps(ny=10, nx=12, seed=6)
    kwargs = dict(group_time=TGROUP, frame_time=TFRAME, nframes=1)
    whole = fit_ramps(data, gdq, pdq, gain, rn, **kwargs)
    window = (slice(3, 7), slice(5, 12))
    part = fit_ramps(data[(..., *window)], gdq[(..., *window)], pdq[window], gain[window], rn[window], **kwargs)
    np.testing.assert_array_equal(part.rate.slope, whole.rate.slope[3:7, 5:12])
    np.testing.assert_array_equal(part.rateints.dq, whole.rateints.dq[:, 3:7, 5:12])


# ---------------------------------------------------------------------------------------------
# Hand-computed single pixels
# ---------------------------------------------------------------------------------------------


def fit_pixel(values, flags=None, *, gain=2.0, rn=10.0, pixel_dq=0, nframes=1, suppress=True, tframe=TFRAME):
    """Fit one pixel given (nints, ngroups) values and flags."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim == 1:
        values = values[None]
    flags = np.zeros(values.shape, np.uint8) if flags is None else np.asarray(flags, np.uint8).reshape(values.shape)
    return fit_ramps(
        values[..., None, None],
        flags[..., None, None],
        np.array([[pixel_dq]], np.uint32),
        np.array([[gain]], np.float32),
        np.array([[rn]], np.float32),
        group_time=TGROUP,
        frame_time=tframe,
        nframes=nframes,
        suppress_one_group=suppress,
    )


def rate_of(products):
    r = products.rate
    values = (r.slope, r.dq, r.var_poisson, r.var_rnoise, r.err)
    return tuple(int(v[0, 0]) if v.dtype.kind == "u" else float(v[0, 0]) for v in values)


def test_low_snr_ramp_is_plain_least_squares():
    values = [0.0, 3.0, 1.0, 6.0, 4.0]  # signal 4 DN: SNR < 5 -> unweighted fit
    slope, dq, var_p, var_r, err = rate_of(fit_pixel(values))
    x = np.arange(5)
    expected_slope = np.polyfit(x, values, 1)[0] / TGROUP  # 1.1 DN/group
    assert slope == pytest.approx(expected_slope, rel=1e-6)
    # rn_e = 10 * 2 / sqrt(2); var_R = 12 rn_e^2 / (t^2 (n^3 - n) g^2) = 12 * 200 / (t^2 * 120 * 4)
    assert var_r == pytest.approx(12 * 200 / (TGROUP**2 * 120 * 4), rel=1e-6)
    # median rate = median(3, -2, 5, -2) / t = 0.5 / t; var_P = rate / (t g (n - 1))
    assert var_p == pytest.approx((0.5 / TGROUP) / (TGROUP * 2 * 4), rel=1e-6)
    assert err == pytest.approx(np.sqrt(var_p + var_r), rel=1e-6)
    assert dq == 0


def test_high_snr_ramp_uses_optimal_weights():
    values = 800.0 * np.arange(6) + np.array([0, 3, -2, 1, 4, -1])  # SNR ~ 89 -> P = 6
    slope, *_ = rate_of(fit_pixel(values, rn=5.0))
    m = 2.5
    w = np.abs((np.arange(6) - m) / m) ** 6
    expected = np.polyfit(np.arange(6), values, 1, w=np.sqrt(w))[0] / TGROUP
    assert slope == pytest.approx(expected, rel=1e-6)
    assert slope != pytest.approx(np.polyfit(np.arange(6), values, 1)[0] / TGROUP, rel=1e-6)


def test_two_group_ramp_is_the_difference():
    slope, _, var_p, var_r, _ = rate_of(fit_pixel([10.0, 40.0], rn=10.0))
    assert slope == pytest.approx(30.0 / TGROUP)
    assert var_r == pytest.approx(12 * 200 / (TGROUP**2 * 6 * 4), rel=1e-6)
    assert var_p == pytest.approx((30.0 / TGROUP) / (TGROUP * 2), rel=1e-6)


def test_all_groups_saturated():
    sat = np.full(5, SATURATED)
    products = fit_pixel(np.arange(5.0) * 100, sat)
    slope, dq, var_p, var_r, err = rate_of(products)
    assert np.isnan(slope) and (var_p, var_r, err) == (0.0, 0.0, 0.0)
    assert dq == DO_NOT_USE | SATURATED
    assert int(products.rateints.dq[0, 0, 0]) == DO_NOT_USE | SATURATED


def test_saturated_from_group_zero_in_one_integration():
    values = np.array([[0.0, 10, 20, 30, 40], [0.0, 10, 20, 30, 40]])
    flags = np.array([[SATURATED] * 5, [0] * 5])
    products = fit_pixel(values, flags)
    slope, dq, *_ = rate_of(products)
    assert slope == pytest.approx(10.0 / TGROUP, rel=1e-6)
    assert dq == SATURATED  # partial saturation; the exposure is still usable
    assert np.isnan(products.rateints.slope[0, 0, 0])
    assert products.rateints.dq[0, 0, 0] == DO_NOT_USE | SATURATED
    assert products.rateints.dq[1, 0, 0] == 0


@pytest.mark.parametrize("suppress", [True, False])
def test_saturated_from_group_one(suppress):
    flags = [0, SATURATED, SATURATED, SATURATED]
    nframes, tframe = 4, 2.0
    products = fit_pixel([50.0, 0, 0, 0], flags, suppress=suppress, nframes=nframes, tframe=tframe)
    slope, dq, _, var_r, _ = rate_of(products)
    if suppress:
        assert np.isnan(slope) and dq == DO_NOT_USE | SATURATED
    else:
        one_group_time = (nframes + 1) * tframe / 2.0
        assert slope == pytest.approx(50.0 / one_group_time)
        assert dq == SATURATED
        rn_e2 = (10.0 * 2 / np.sqrt(2 * nframes)) ** 2
        assert var_r == pytest.approx(12 * rn_e2 / (one_group_time**2 * 6 * 4), rel=1e-6)


def test_one_group_segments_are_dropped_when_longer_segments_exist():
    values = [0.0, 10.0, 20.0, 500.0, 900.0, 910.0, 920.0]
    flags = [0, 0, 0, DO_NOT_USE, 0, DO_NOT_USE, 0]
    slope, *_ = rate_of(fit_pixel(values, flags))
    assert slope == pytest.approx(10.0 / TGROUP, rel=1e-6)  # only groups 0-2 are fitted


def test_only_the_first_one_group_segment_is_kept():
    values = [30.0, 500.0, 900.0]
    flags = [0, DO_NOT_USE, 0]  # two good groups -> not suppressed; two 1-group segments
    slope, *_ = rate_of(fit_pixel(values, flags))
    assert slope == pytest.approx(30.0 / TGROUP)


def test_jump_splits_the_ramp_into_segments_weighted_by_read_noise():
    values = [0.0, 10.0, 20.0, 530.0, 545.0, 560.0]
    flags = [0, 0, 0, JUMP_DET, 0, 0]
    slope, dq, *_ = rate_of(fit_pixel(values, flags))
    # segments [0, 3) slope 10 and [3, 6) slope 15, equal lengths -> equal read-noise weights
    assert slope == pytest.approx(12.5 / TGROUP, rel=1e-6)
    assert dq == JUMP_DET


def test_jump_in_the_last_group_drops_it():
    slope, dq, *_ = rate_of(fit_pixel([0.0, 10.0, 20.0, 900.0], [0, 0, 0, JUMP_DET]))
    assert slope == pytest.approx(10.0 / TGROUP, rel=1e-6)
    assert dq == JUMP_DET


def test_jump_in_the_first_group_keeps_it():
    slope, dq, *_ = rate_of(fit_pixel([0.0, 10.0, 20.0, 30.0], [JUMP_DET, 0, 0, 0]))
    assert slope == pytest.approx(10.0 / TGROUP, rel=1e-6)
    assert dq == JUMP_DET


@pytest.mark.parametrize("bad_gain", [0.0, np.nan, -1.0])
def test_bad_gain_flags_no_gain_value(bad_gain):
    slope, dq, var_p, var_r, err = rate_of(fit_pixel([0.0, 10.0, 20.0, 30.0], gain=bad_gain))
    assert np.isnan(slope) and (var_p, var_r, err) == (0.0, 0.0, 0.0)
    assert dq == DO_NOT_USE | NO_GAIN_VALUE


def test_nan_read_noise_gives_nan_slope_and_variances():
    slope, dq, _, var_r, err = rate_of(fit_pixel([0.0, 10.0, 20.0, 30.0], rn=np.nan))
    assert np.isnan(slope) and np.isnan(var_r) and np.isnan(err)
    assert dq == 0


def test_do_not_use_pixel():
    products = fit_pixel([0.0, 10.0, 20.0, 30.0], pixel_dq=DO_NOT_USE | dqflags.DEAD)
    slope, dq, var_p, var_r, err = rate_of(products)
    assert np.isnan(slope) and (var_p, var_r, err) == (0.0, 0.0, 0.0)
    assert dq == DO_NOT_USE | dqflags.DEAD


def test_single_group_ramp_uses_the_one_group_time():
    nframes, tframe = 4, 2.5
    slope, _, var_p, _, _ = rate_of(fit_pixel([40.0], nframes=nframes, tframe=tframe, suppress=True))
    one_group_time = (nframes + 1) * tframe / 2.0
    assert slope == pytest.approx(40.0 / one_group_time)
    assert var_p == pytest.approx((40.0 / one_group_time) / (one_group_time * 2.0), rel=1e-6)


def test_nframes_scales_the_read_noise():
    values = [0.0, 3.0, 1.0, 6.0, 4.0]
    var_r1 = rate_of(fit_pixel(values, nframes=1))[3]
    var_r4 = rate_of(fit_pixel(values, nframes=4))[3]
    assert var_r4 == pytest.approx(var_r1 / 4, rel=1e-6)


def test_integrations_combine_by_inverse_variance():
    values = np.array([[0.0, 10, 20, 30], [0.0, 20, 40, 60]])
    products = fit_pixel(values)
    slope, _, var_p, var_r, err = rate_of(products)
    ints = products.rateints
    assert var_r == pytest.approx(1 / (1 / ints.var_rnoise[0, 0, 0] + 1 / ints.var_rnoise[1, 0, 0]), rel=1e-6)
    assert var_p == pytest.approx(1 / (1 / ints.var_poisson[0, 0, 0] + 1 / ints.var_poisson[1, 0, 0]), rel=1e-6)
    assert slope == pytest.approx(15.0 / TGROUP, rel=1e-6)  # equal read-noise variances
    assert err == pytest.approx(np.sqrt(var_p + var_r), rel=1e-6)


# ---------------------------------------------------------------------------------------------
# Agreement with the official stcal 1.20
# ---------------------------------------------------------------------------------------------


def stcal_fit(data, gdq, pdq, gain, rn, nframes, suppress, dark=None):
    from stcal.ramp_fitting.ramp_fit import ramp_fit_data
    from stcal.ramp_fitting.ramp_fit_class import RampData

    ramp_data = RampData()
    ramp_data.algorithm = "OLS_C"
    original = gdq.copy() if np.any(gdq & CHARGELOSS) else None
    dark = np.zeros(pdq.shape, np.float32) if dark is None else dark
    ramp_data.set_arrays(data.copy(), gdq.copy(), pdq.copy(), dark, orig_gdq=original)
    ramp_data.set_meta(name="NIRCAM", frame_time=TFRAME / nframes, group_time=TGROUP, groupgap=0, nframes=nframes)
    ramp_data.set_dqflags(dqflags.PIXEL)
    ramp_data.start_row, ramp_data.num_rows = 0, data.shape[2]
    ramp_data.suppress_one_group_ramps = suppress and data.shape[1] > 1
    return ramp_fit_data(ramp_data, False, rn.copy(), gain.copy(), "OLS_C", "optimal", "none")


def agreement(ours, theirs):
    """Fractions of pixels with matching values (rel 1e-4, NaN == NaN) and identical DQ."""
    values = ("slope", "var_poisson", "var_rnoise", "err")
    same = {}
    for key in values:
        a, b = getattr(ours, key), theirs[key]
        same[key] = np.mean((np.abs(a - b) <= 1e-4 * np.abs(b)) | (np.isnan(a) & np.isnan(b)))
    same["dq"] = np.mean(ours.dq == theirs["dq"])
    return same


@pytest.mark.crosscheck
@pytest.mark.parametrize(
    ("nints", "ngroups", "nframes", "suppress", "chargeloss", "seed"),
    [
        (2, 8, 1, True, False, 10),
        (3, 5, 4, False, True, 11),
        (1, 3, 1, True, False, 12),
        (2, 2, 1, False, True, 13),
        (2, 1, 1, True, False, 14),
        (1, 40, 2, True, False, 15),
        (40, 5, 1, True, True, 16),  # mostly clean integrations: pixels mixing vectorised and per-integration fits
    ],
)
def test_agrees_with_stcal(nints, ngroups, nframes, suppress, chargeloss, seed):
    pytest.importorskip("stcal")
    # 300 columns: several 128-pixel tiles of the vectorised path, and a partial one
    data, gdq, pdq, gain, rn = random_ramps(nints, ngroups, ny=8, nx=300, seed=seed, chargeloss=chargeloss,
                                            sparse=0.02 if nints > 10 else 1.0)
    dark = np.random.default_rng(seed).uniform(0, 0.3, pdq.shape).astype(np.float32)
    kwargs = dict(group_time=TGROUP, frame_time=TFRAME / nframes, nframes=nframes, suppress_one_group=suppress)
    ours = fit_ramps(data, gdq, pdq, gain, rn, average_dark_current=dark, **kwargs)
    rate, ints, _ = stcal_fit(data, gdq, pdq, gain, rn, nframes, suppress, dark)
    for mine, theirs in ((ours.rate, rate), (ours.rateints, ints)):
        same = agreement(mine, theirs)
        # The brief asks >= 99.5 % of slopes within 1e-4 and >= 99.9 % identical DQ; we match all.
        assert same == {key: 1.0 for key in same}, same
