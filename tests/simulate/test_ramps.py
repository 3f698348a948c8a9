"""The ramp kernel against the statistics it must produce (uniform synthetic pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.simulate.ramps import KTC_SIGMA_DN, CorrelatedNoise, PixelPhysics, simulate_integration
from jwstlazy.simulate.readout import Readout

SHAPE = (64, 64)


def uniform_physics(rate: float, gain: float = 2.0, beta: float = 0.0, read_noise: float = 5.0,
                    full_well: float = 1e5, saturation: float = 65535.0) -> PixelPhysics:
    def full(value: float) -> np.ndarray:
        return np.full(SHAPE, value, dtype=np.float32)

    return PixelPhysics(rate=full(rate), dark=full(0.0), gain=full(gain), bias=full(1000.0), beta=full(beta),
                        full_well=full(full_well), saturation=full(saturation), read_noise=full(read_noise))


def quiet(ngroups: int) -> CorrelatedNoise:
    return CorrelatedNoise(flicker=np.zeros((ngroups, 1), np.float32), read_index=np.zeros(SHAPE, np.int32),
                           drift=np.zeros((ngroups, 1), np.float32), channel=np.zeros(SHAPE, np.int32))


def no_hits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(SHAPE[0] * SHAPE[1] + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32)


def difference_weights(nframes: int, groupgap: int) -> np.ndarray:
    """Weight of each frame increment in the difference of two consecutive group averages."""
    period = nframes + groupgap
    increments = np.arange(1, 3 * period)  # increment m arrives just before read m (group g starts at 0)
    reads = np.arange(nframes)
    return np.array([np.sum((reads < m) & (m <= period + reads)) / nframes for m in increments])


@pytest.mark.parametrize("nframes, groupgap", [(1, 0), (4, 2)])
def test_group_differences_follow_rate_and_poisson_noise(nframes: int, groupgap: int) -> None:
    readout = Readout("TEST", ngroups=6, nints=1, nframes=nframes, groupgap=groupgap, tframe=1.5)
    rate, gain, read_noise = 40.0, 2.0, 5.0
    sci, _, first_sat = simulate_integration(uniform_physics(rate, gain, read_noise=read_noise), readout,
                                             *no_hits(), quiet(6), key=11)
    diffs = np.diff(sci.astype(np.float64), axis=0)
    expected_mean = rate * readout.tgroup / gain
    n = diffs.size
    # A group difference is sum_m w_m X_m over independent per-frame Poisson increments X_m.
    weights = difference_weights(nframes, groupgap)
    poisson_var = rate * readout.tframe * np.sum(weights**2) / gain**2
    read_var = 2 * read_noise**2 / nframes + 2 / 12.0  # plus rounding to integer DN
    sigma = np.sqrt(poisson_var + read_var)
    assert abs(diffs.mean() - expected_mean) < 4 * sigma / np.sqrt(n)
    assert diffs.std() == pytest.approx(sigma, rel=0.05)
    assert np.all(first_sat == -1)


def test_first_read_holds_bias_and_reset_noise() -> None:
    readout = Readout("TEST", ngroups=3, nints=1, nframes=1, groupgap=0, tframe=1.0)
    sci, zero, _ = simulate_integration(uniform_physics(0.0, read_noise=0.0), readout, *no_hits(), quiet(3), key=3)
    assert np.array_equal(zero, sci[0])  # nframes = 1: the zero frame is the first group
    assert zero.mean() == pytest.approx(1000.0, abs=0.2)
    assert zero.std() == pytest.approx(np.sqrt(KTC_SIGMA_DN**2 + 1 / 12.0), rel=0.08)


def test_non_linearity_and_full_well() -> None:
    """Measured = bias + Q (1 - beta Q) / gain, held at the full well; saturation flagged from the threshold."""
    readout = Readout("TEST", ngroups=8, nints=1, nframes=1, groupgap=0, tframe=1.0)
    gain, beta, well = 2.0, 1e-6, 55000.0
    threshold = 1000.0 + 0.8 * well * (1 - beta * 0.8 * well) / gain
    physics = uniform_physics(10000.0, gain, beta, read_noise=0.0, full_well=well, saturation=threshold)
    sci, _, first_sat = simulate_integration(physics, readout, *no_hits(), quiet(8), key=5)
    charge = np.minimum(10000.0 * np.arange(1, 9), well)
    expected = 1000.0 + charge * (1 - beta * charge) / gain
    measured = sci.reshape(8, -1).mean(axis=1)
    assert measured == pytest.approx(expected, abs=6.0)
    expected_first = int(np.argmax(expected >= threshold))
    assert np.all(np.abs(first_sat - expected_first) <= 1)
    assert np.mean(first_sat == expected_first) > 0.95


def test_cosmic_ray_charge_appears_from_its_frame_on() -> None:
    readout = Readout("TEST", ngroups=5, nints=1, nframes=1, groupgap=0, tframe=1.0)
    ptr, _, _ = no_hits()
    pixel = 10 * SHAPE[1] + 20
    ptr[pixel + 1:] = 1
    sci, _, _ = simulate_integration(uniform_physics(0.0, read_noise=0.0), readout, ptr,
                                     np.array([3], np.int32), np.array([2000.0], np.float32), quiet(5), key=9)
    ramp = sci[:, 10, 20].astype(int) - int(sci[0, 10, 20])
    assert list(ramp) == [0, 0, 0, 1000, 1000]
    others = np.delete(sci.reshape(5, -1), pixel, axis=1).astype(int)
    assert np.all(np.abs(np.diff(others, axis=0)) <= 1)


def test_same_key_same_ramps() -> None:
    readout = Readout("TEST", ngroups=3, nints=1, nframes=1, groupgap=0, tframe=1.0)
    runs = [simulate_integration(uniform_physics(20.0), readout, *no_hits(), quiet(3), key=k)[0] for k in (1, 1, 2)]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_poisson_draws_have_poisson_moments() -> None:
    """Both Poisson branches (multiplication below 10, PTRS above) give mean = variance = lambda."""
    readout = Readout("TEST", ngroups=1, nints=1, nframes=1, groupgap=0, tframe=1.0)
    for rate in (3.0, 25.0, 400.0):
        sci, _, _ = simulate_integration(uniform_physics(rate, gain=1.0, read_noise=0.0), readout, *no_hits(),
                                         quiet(1), key=21)
        values = sci[0].astype(np.float64) - 1000.0  # includes the 4 DN reset noise and rounding
        n = values.size
        assert values.mean() == pytest.approx(rate, abs=4 * np.sqrt((rate + KTC_SIGMA_DN**2) / n))
        assert values.var() == pytest.approx(rate + KTC_SIGMA_DN**2 + 1 / 12.0, rel=0.08)
