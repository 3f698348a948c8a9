"""Ramp physics: charge accumulated frame by frame, non-linearity, saturation, reads -> uint16 groups.

Per pixel and frame ``k`` (read at ``(k+1) * tframe`` after the reset):
``Q += Poisson((rate + dark) * tframe) + cosmic-ray charge arriving before read k`` (electrons);
the well holds at most ``full_well``; the measured charge is ``Qc * (1 - beta * Qc)`` with
``Qc = min(Q, full_well)``; the raw value in DN is ``bias + ktc + measured / gain``. A group is the mean
of its ``nframes`` reads plus white read noise (per-frame sigma / sqrt(nframes)), 1/f noise at the
pixel's read time and the amplifier/parity drift; it is rounded and clipped to 0..65535.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from jwstlazy.simulate.counter_rng import normal, pixel_stream, poisson
from jwstlazy.simulate.readout import Readout

#: sigma (DN) of the reset (kTC) offset drawn per pixel and integration
KTC_SIGMA_DN = 4.0
NEVER_SATURATED = -1


@dataclass
class PixelPhysics:
    """Per-pixel truths of one subarray, float32 arrays of shape (ny, nx).

    rate: collected signal, e-/s; dark: dark current, e-/s; gain: e-/DN; bias: DN;
    beta: non-linearity, 1/e-; full_well: e-; saturation: raw-DN threshold (bias included);
    read_noise: per-frame read noise, DN (CDS / sqrt(2)).
    """

    rate: np.ndarray
    dark: np.ndarray
    gain: np.ndarray
    bias: np.ndarray
    beta: np.ndarray
    full_well: np.ndarray
    saturation: np.ndarray
    read_noise: np.ndarray


@dataclass
class CorrelatedNoise:
    """Noise shared between pixels, for one integration.

    flicker: (ngroups, n_ticks) DN, 1/f noise by pixel-clock tick; read_index: (ny, nx) int32 tick of
    each pixel; drift: (ngroups, n_channels) DN, amplifier/parity offsets; channel: (ny, nx) int32.
    """

    flicker: np.ndarray
    read_index: np.ndarray
    drift: np.ndarray
    channel: np.ndarray


@numba.njit(cache=True, parallel=True)
def _integration_kernel(
    rate, dark, gain, bias, beta, full_well, saturation, read_noise,
    frame_groups, nframes, tframe, ktc_sigma,
    cr_ptr, cr_frame, cr_charge,
    flicker, read_index, drift, channel, key,
    sci, zero, first_sat,
):
    ny, nx = rate.shape
    nframes_int = frame_groups.shape[0]
    inv_sqrt_nframes = 1.0 / np.sqrt(nframes)
    for y in numba.prange(ny):
        for x in range(nx):
            p = y * nx + x
            state = pixel_stream(key, p)
            state, z = normal(state)
            offset = bias[y, x] + ktc_sigma * z
            mean_per_frame = (rate[y, x] + dark[y, x]) * tframe
            well = full_well[y, x]
            b = beta[y, x]
            inv_gain = 1.0 / gain[y, x]
            tick = read_index[y, x]
            chan = channel[y, x]
            charge = 0.0
            j = cr_ptr[p]
            j_end = cr_ptr[p + 1]
            total = 0.0
            count = 0
            first_sat[y, x] = -1
            for k in range(nframes_int):
                state, n = poisson(state, mean_per_frame)
                charge += n
                while j < j_end and cr_frame[j] <= k:
                    charge += cr_charge[j]
                    j += 1
                held = min(charge, well)
                measured = held * (1.0 - b * held) * inv_gain
                if k == 0 and nframes > 1:  # with one frame per group, group 0 is the zero frame
                    state, z = normal(state)
                    v = offset + measured + read_noise[y, x] * z + flicker[0, tick] + drift[0, chan]
                    zero[y, x] = min(max(np.floor(v + 0.5), 0.0), 65535.0)
                g = frame_groups[k]
                if g < 0:
                    continue
                total += measured
                count += 1
                if count == nframes:
                    noiseless = offset + total / nframes
                    if first_sat[y, x] < 0 and noiseless >= saturation[y, x]:
                        first_sat[y, x] = g
                    state, z = normal(state)
                    v = noiseless + read_noise[y, x] * inv_sqrt_nframes * z + flicker[g, tick] + drift[g, chan]
                    sci[g, y, x] = min(max(np.floor(v + 0.5), 0.0), 65535.0)
                    if k == 0:
                        zero[y, x] = sci[g, y, x]
                    total = 0.0
                    count = 0


def simulate_integration(
    physics: PixelPhysics,
    readout: Readout,
    cr_ptr: np.ndarray,
    cr_frame: np.ndarray,
    cr_charge: np.ndarray,
    noise: CorrelatedNoise,
    key: int,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Simulate one integration.

    Cosmic rays are given per pixel in CSR form: the hits of pixel ``p = y * nx + x`` are
    ``cr_frame[cr_ptr[p]:cr_ptr[p+1]]`` (frame before whose read the charge arrives, sorted) and
    ``cr_charge[...]`` (e-). Returns ``sci`` uint16 (ngroups, ny, nx) DN, ``zeroframe`` uint16 (ny, nx)
    (the first read) and ``first_saturated`` int16 (ny, nx): the first group whose read-noise-free
    value reaches the saturation threshold, -1 if none. ``out`` may give those three arrays to fill.
    """
    ny, nx = physics.rate.shape
    if out is None:
        out = (np.empty((readout.ngroups, ny, nx), dtype=np.uint16), np.empty((ny, nx), dtype=np.uint16),
               np.empty((ny, nx), dtype=np.int16))
    sci, zero, first_sat = out
    f32 = [np.ascontiguousarray(a, dtype=np.float32) for a in (
        physics.rate, physics.dark, physics.gain, physics.bias, physics.beta, physics.full_well,
        physics.saturation, physics.read_noise)]
    _integration_kernel(
        *f32, readout.frame_groups(), readout.nframes, readout.tframe, KTC_SIGMA_DN,
        np.ascontiguousarray(cr_ptr, dtype=np.int64), np.ascontiguousarray(cr_frame, dtype=np.int32),
        np.ascontiguousarray(cr_charge, dtype=np.float32),
        np.ascontiguousarray(noise.flicker, dtype=np.float32), noise.read_index,
        np.ascontiguousarray(noise.drift, dtype=np.float32), noise.channel, np.uint64(key),
        sci, zero, first_sat,
    )
    return sci, zero, first_sat
