"""Medians and sorts of short per-pixel sequences (a ramp's group differences) inside numba kernels.

Shared by the ramp-fitting and jump kernels. The scalar form works on one pixel's values; the
column forms work on a (values, pixels) tile and run the same branch-free compare-exchange
sequence on every column at once, which the compiler vectorises over pixels. Both give exactly
the median numpy gives (for even counts, the mean of the two middle values).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["column_medians", "median_of_first", "sort_columns"]

#: Up to this many values use branch-free bubble passes; longer sequences a full sort.
SMALL_MEDIAN = 24


@numba.njit(cache=True, error_model="numpy", inline="always")
def median_of_first(buffer: np.ndarray, n: int) -> float:
    """Median of ``buffer[:n]`` (n >= 1, no NaN); reorders ``buffer[:n]`` in place.

    Bubble pass p (min/max, no data-dependent branches) puts the p-th largest value in place, so
    ``n - (n - 1) // 2`` passes settle both middle positions; for a few values this beats sorting.
    """
    low_index = (n - 1) // 2
    if n > SMALL_MEDIAN:
        buffer[:n] = np.sort(buffer[:n])
    else:
        for p in range(1, n - low_index + 1):
            for j in range(n - p):
                a = buffer[j]
                b = buffer[j + 1]
                buffer[j] = min(a, b)
                buffer[j + 1] = max(a, b)
    if n % 2 == 1:
        return buffer[low_index]
    return (buffer[low_index] + buffer[low_index + 1]) / 2.0


@numba.njit(cache=True, error_model="numpy", inline="always")
def column_medians(tile: np.ndarray, n_rows: int, n_columns: int, out: np.ndarray) -> None:
    """``out[c]`` = median of ``tile[:n_rows, c]`` for c < n_columns (no NaN); reorders ``tile``."""
    low_index = (n_rows - 1) // 2
    if n_rows > SMALL_MEDIAN:
        for c in range(n_columns):
            out[c] = np.median(tile[:n_rows, c])
        return
    for p in range(1, n_rows - low_index + 1):
        _bubble_pass(tile, n_rows - p, n_columns)
    for c in range(n_columns):
        if n_rows % 2 == 1:
            out[c] = tile[low_index, c]
        else:
            out[c] = (tile[low_index, c] + tile[low_index + 1, c]) / 2.0


@numba.njit(cache=True, error_model="numpy", inline="always")
def sort_columns(tile: np.ndarray, n_rows: int, n_columns: int) -> None:
    """Sort each column ``tile[:n_rows, c]`` (c < n_columns, no NaN) ascending, in place."""
    if n_rows > SMALL_MEDIAN:
        for c in range(n_columns):
            tile[:n_rows, c] = np.sort(tile[:n_rows, c])
        return
    for p in range(1, n_rows):
        _bubble_pass(tile, n_rows - p, n_columns)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _bubble_pass(tile, n_pairs, n_columns):
    """Compare-exchange rows (j, j + 1) for j < n_pairs in every column."""
    for j in range(n_pairs):
        upper = tile[j]
        lower = tile[j + 1]
        for c in range(n_columns):
            a = upper[c]
            b = lower[c]
            upper[c] = min(a, b)
            lower[c] = max(a, b)
