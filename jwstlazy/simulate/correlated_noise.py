"""Noise shared between pixels: 1/f ("flicker") noise along the read order, amplifier drifts.

Flicker noise is one 1/f time series per group, sampled at the pixel clock, common to all amplifiers
(they read synchronously); a pixel sees the value at its read tick, so the noise is correlated along
the fast-read direction and appears as row striping. The reference-pixel drift is, per amplifier, a
constant offset per integration, an even/odd-column offset and a random walk from group to group.
Reference pixels see all of it, which is what refpix corrections rely on.
"""

from __future__ import annotations

import numpy as np

from jwstlazy.simulate.amplifiers import AmplifierLayout
from jwstlazy.simulate.ramps import CorrelatedNoise

#: sigma (DN) of each amplifier's offset per integration, its even/odd offset, and its walk step per group
AMPLIFIER_OFFSET_DN = 20.0
PARITY_OFFSET_DN = 4.0
DRIFT_STEP_DN = 2.0


def flicker_series(n_series: int, n_ticks: int, rms: float, rng: np.random.Generator) -> np.ndarray:
    """``n_series`` independent 1/f series of ``n_ticks`` samples with the given rms; float32."""
    if rms <= 0 or n_ticks < 2:
        return np.zeros((n_series, max(n_ticks, 1)), dtype=np.float32)
    white = rng.standard_normal((n_series, n_ticks)).astype(np.float32)
    spectrum = np.fft.rfft(white, axis=1)
    freq = np.arange(spectrum.shape[1], dtype=np.float32)
    freq[0] = np.inf  # no DC term: offsets are the drift's job
    spectrum /= np.sqrt(freq)
    series = np.fft.irfft(spectrum, n=n_ticks, axis=1).astype(np.float32)
    series *= rms / max(float(series.std()), 1e-12)
    return series


def amplifier_drift(n_groups: int, n_channels: int, rng: np.random.Generator) -> np.ndarray:
    """Offsets (DN) per group and channel (amplifier * 2 + parity); float32 (n_groups, n_channels)."""
    n_amps = n_channels // 2
    base = rng.normal(0.0, AMPLIFIER_OFFSET_DN, n_amps)
    parity = rng.normal(0.0, PARITY_OFFSET_DN, (n_amps, 2))
    walk = np.cumsum(rng.normal(0.0, DRIFT_STEP_DN, (n_groups, n_amps)), axis=0)
    per_amp = base[None, :, None] + parity[None, :, :] + walk[:, :, None]
    return per_amp.reshape(n_groups, n_channels).astype(np.float32)


def correlated_noise(
    layout: AmplifierLayout, n_groups: int, flicker_rms: float, rng: np.random.Generator
) -> CorrelatedNoise:
    """Flicker and drift of one integration for the pixels described by ``layout``."""
    return CorrelatedNoise(
        flicker=flicker_series(n_groups, layout.n_ticks, flicker_rms, rng),
        read_index=layout.read_index,
        drift=amplifier_drift(n_groups, layout.n_channels, rng),
        channel=layout.channel,
    )
