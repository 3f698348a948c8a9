"""Sigma-clipped mean, as ``scipy.stats.sigmaclip`` followed by ``mean`` (used by the reference-pixel steps)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["clipped_mean"]


@numba.njit(cache=True)
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
