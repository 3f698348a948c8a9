"""A counter-based random generator for numba kernels: reproducible under parallel loops.

Each pixel gets its own stream ``pixel_stream(key, index)``; draws advance that stream only, so
results do not depend on how ``prange`` distributes pixels over threads. The stream is SplitMix64
(Steele et al. 2014), ample for simulation noise.
Poisson draws are exact: the multiplication method for small means, PTRS above 10.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@numba.njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def pixel_stream(key, index):
    """Initial state (uint64) of the stream of pixel ``index`` under ``key``."""
    return _mix(np.uint64(key) ^ (np.uint64(index) * _GOLDEN))


@numba.njit(cache=True, inline="always")
def uniform(state):
    """(new_state, u) with u uniform in (0, 1)."""
    state = state + _GOLDEN
    u = ((_mix(state) >> np.uint64(11)) + np.uint64(1)) * _TO_UNIT
    return state, u


@numba.njit(cache=True, inline="always")
def normal(state):
    """(new_state, z) with z standard normal (Box-Muller, one value per call)."""
    state, u1 = uniform(state)
    state, u2 = uniform(state)
    return state, math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(cache=True)
def _poisson_ptrs(state, mean):
    """Hormann's transformed rejection with squeeze (PTRS, 1993), exact for mean >= 10."""
    root = math.sqrt(mean)
    log_mean = math.log(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inv_alpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        state, u = uniform(state)
        state, v = uniform(state)
        u -= 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= v_r:
            return state, k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + log_inv_alpha - math.log(a / (us * us) + b) <= -mean + k * log_mean - math.lgamma(k + 1.0):
            return state, k


@numba.njit(cache=True, inline="always")
def poisson(state, mean):
    """(new_state, k) with k Poisson(mean): multiplication method below 10, PTRS above."""
    if mean <= 0.0:
        return state, 0.0
    if mean < 10.0:
        limit = math.exp(-mean)
        k = -1
        p = 1.0
        while p > limit:
            state, u = uniform(state)
            p *= u
            k += 1
        return state, float(k)
    return _poisson_ptrs(state, mean)
