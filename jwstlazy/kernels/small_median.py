"""Medians and sorts of short per-pixel sequences (a ramp's group differences) inside numba kernels.

Shared by the ramp-fitting and jump kernels. The scalar form works on one pixel's values; the
column forms work on a (values, pixels) tile and run the same branch-free compare-exchange
sequence on every column at once, which the compiler vectorises over pixels. Both give exactly
the median numpy gives (for even counts, the mean of the two middle values).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["column_medians", "median_of_first", "sort_columns", "transpose_columns"]

#: Up to this many values use branch-free bubble passes; longer sequences a full sort.
SMALL_MEDIAN = 24


@numba.njit(cache=True, error_model="numpy", inline="always")
def median_of_first(buffer: np.ndarray, n: int) -> float:
    """Median of ``buffer[:n]`` (n >= 1, no NaN); reorders ``buffer[:n]`` in place.

    Bubble pass p (min/max, no data-dependent branches) puts the p-th largest value in place, so
    ``n - (n - 1) // 2`` passes settle both middle positions; for a few values this beats sorting.
    Longer sequences use quickselect (linear time; a full sort of a time series' ~1000 differences
    per pixel was most of jump detection's time).
    """
    low_index = (n - 1) // 2
    if n > SMALL_MEDIAN:
        low = _select(buffer, n, low_index)
        if n % 2 == 1:
            return low
        # after selection every value above low_index is >= the low middle: the high middle is their minimum
        high = buffer[low_index + 1]
        for j in range(low_index + 2, n):
            high = min(high, buffer[j])
        return (low + high) / 2.0
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
def _select(buffer, n, k):
    """The k-th smallest of ``buffer[:n]`` (no NaN), by quickselect with a median-of-three pivot.

    Reorders ``buffer[:n]`` so that ``buffer[k]`` is that value, those before it are <= it and those
    after it >= it.
    """
    left = 0
    right = n - 1
    while right > left:
        middle = (left + right) // 2
        # median of three to buffer[middle]; buffer[left] <= it <= buffer[right]
        if buffer[middle] < buffer[left]:
            buffer[middle], buffer[left] = buffer[left], buffer[middle]
        if buffer[right] < buffer[left]:
            buffer[right], buffer[left] = buffer[left], buffer[right]
        if buffer[right] < buffer[middle]:
            buffer[right], buffer[middle] = buffer[middle], buffer[right]
        pivot = buffer[middle]
        i = left
        j = right
        while i <= j:  # Hoare partition
            while buffer[i] < pivot:
                i += 1
            while buffer[j] > pivot:
                j -= 1
            if i <= j:
                buffer[i], buffer[j] = buffer[j], buffer[i]
                i += 1
                j -= 1
        # now buffer[left:j + 1] <= pivot <= buffer[i:right + 1], and values between are == pivot
        if k <= j:
            right = j
        elif k >= i:
            left = i
        else:
            break
    return buffer[k]


@numba.njit(cache=True, error_model="numpy", inline="always")
def column_medians(tile: np.ndarray, n_rows: int, n_columns: int, out: np.ndarray) -> None:
    """``out[c]`` = median of ``tile[:n_rows, c]`` for c < n_columns (no NaN); reorders ``tile``."""
    low_index = (n_rows - 1) // 2
    if n_rows > SMALL_MEDIAN:
        columns = transpose_columns(tile, n_rows, n_columns)
        for c in range(n_columns):
            out[c] = median_of_first(columns[c], n_rows)
        return
    for p in range(1, n_rows - low_index + 1):
        _bubble_pass(tile, n_rows - p, n_columns)
    for c in range(n_columns):
        if n_rows % 2 == 1:
            out[c] = tile[low_index, c]
        else:
            out[c] = (tile[low_index, c] + tile[low_index + 1, c]) / 2.0


@numba.njit(cache=True, error_model="numpy", inline="always")
def transpose_columns(tile: np.ndarray, n_rows: int, n_columns: int) -> np.ndarray:
    """(n_columns, n_rows) copy of ``tile[:n_rows, :n_columns]``: each column contiguous, for per-column
    work on long columns (copied in blocks of rows, so that each cache line read is used whole)."""
    columns = np.empty((n_columns, n_rows), dtype=tile.dtype)
    block = 16
    for r0 in range(0, n_rows, block):
        r1 = min(r0 + block, n_rows)
        for c in range(n_columns):
            for r in range(r0, r1):
                columns[c, r] = tile[r, c]
    return columns


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
