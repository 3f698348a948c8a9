"""Sigma clipping: scipy's ``sigmaclip`` mean (reference-pixel steps) and astropy's ``sigma_clip`` (jump, showers)."""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.kernels.small_median import median_of_first

__all__ = ["astropy_sigma_clip", "clipped_mean"]


@numba.njit(cache=True, error_model="numpy", inline="always")
def astropy_sigma_clip(kept, count, sigma, maxiters, work):
    """astropy's ``sigma_clip(cenfunc='median', stdfunc='std')`` on ``kept[:count]`` (float64, finite), in place.

    Each iteration: bounds ``median -/+ sigma * std`` (population std) of the kept values; keep those inside,
    in their order; stop when nothing is removed or after ``maxiters``. ``work``: scratch of >= ``count``.
    Returns (count, low, high): the number kept (they are ``kept[:count]``) and the last bounds (NaN if none).
    """
    low = np.nan
    high = np.nan
    for _ in range(maxiters):
        if count == 0:
            break
        work[:count] = kept[:count]
        centre = median_of_first(work, count)
        mean = 0.0
        for j in range(count):
            mean += kept[j]
        mean /= count
        variance = 0.0
        for j in range(count):
            variance += (kept[j] - mean) * (kept[j] - mean)
        std = np.sqrt(variance / count)
        low = centre - sigma * std
        high = centre + sigma * std
        n_inside = 0
        for j in range(count):
            if kept[j] >= low and kept[j] <= high:
                kept[n_inside] = kept[j]
                n_inside += 1
        if n_inside == count:
            break
        count = n_inside
    return count, low, high


@numba.njit(cache=True, nogil=True)
def clipped_mean(values, sigma_low, sigma_high):
    """Iteratively clipped mean of a 1-D array (float64 arithmetic).

    Repeats: mean and population std of the kept values; keep values within [mean - sigma_low * std,
    mean + sigma_high * std]; until nothing more is removed (scipy.stats.sigmaclip). Returns NaN for an empty
    input. A zero-std input returns its mean (jwst's guard around sigmaclip).
    """
    n = values.size
    if n == 0:
        return np.nan
    kept = np.empty(n, dtype=np.float64)
    for k in range(n):
        kept[k] = values[k]
    while True:
        total = 0.0
        for k in range(n):
            total += kept[k]
        mean = total / n
        squares = 0.0
        for k in range(n):
            squares += (kept[k] - mean) ** 2
        std = np.sqrt(squares / n)
        if std == 0.0:
            return mean
        low = mean - std * sigma_low
        high = mean + std * sigma_high
        m = 0
        for k in range(n):
            if kept[k] >= low and kept[k] <= high:
                kept[m] = kept[k]
                m += 1
        if m == n:
            return mean
        n = m
