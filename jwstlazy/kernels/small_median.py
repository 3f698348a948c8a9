"""Medians and sorts of short per-pixel sequences (a ramp's group differences) inside numba kernels.

Shared by the ramp-fitting and jump kernels. The scalar form works on one pixel's values (bubble
passes, quickselect for long sequences); the column forms work on a (values, pixels) tile and run
the same branch-free compare-exchange network (Batcher's odd-even merge sort, or the part of it
that places the middle values) on every column at once, which the compiler vectorises over pixels.
Both give exactly the median numpy gives (for even counts, the mean of the two middle values).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["column_medians", "median_of_first", "sort_columns", "transpose_columns"]

#: Up to this many values use branch-free compare-exchange sequences; longer sequences selection or a sort.
SMALL_MEDIAN = 24
#: From this many values a median first brackets itself with a sample (see ``_median_by_bracket``).
BRACKETED_MEDIAN = 400


def _odd_even_merge_sort(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sorting network for ``n`` values: compare-exchange pairs (i < j), in order.

    Built for the next power of two; pairs reaching past ``n`` are dropped (as if the missing values were
    +inf, which never move), so the network still sorts ``n`` values."""
    size = 1
    while size < n:
        size *= 2
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p) and i + j + k < n:
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


def _needed_for(pairs: list[tuple[int, int]], outputs: set[int]) -> list[tuple[int, int]]:
    """The pairs of a sorting network that can change the values ending at positions ``outputs``."""
    needed, kept = set(outputs), []
    for i, j in reversed(pairs):
        if i in needed or j in needed:
            kept.append((i, j))
            needed |= {i, j}
    return kept[::-1]


def _network_table(median_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """(pairs (SMALL_MEDIAN + 1, most, 2) int64, counts (SMALL_MEDIAN + 1,)): row n is the network for n values
    (for ``median_only``, only what puts the middle values, (n - 1) // 2 and n // 2, in place)."""
    networks = []
    for n in range(SMALL_MEDIAN + 1):
        pairs = _odd_even_merge_sort(n)
        networks.append(_needed_for(pairs, {(n - 1) // 2, n // 2}) if median_only and n else pairs)
    table = np.zeros((SMALL_MEDIAN + 1, max(len(p) for p in networks), 2), dtype=np.int64)
    for n, pairs in enumerate(networks):
        if pairs:
            table[n, : len(pairs)] = pairs
    return table, np.array([len(p) for p in networks], dtype=np.int64)


#: Compare-exchange networks by count of values: full sorts, and the part of each that places the median.
SORT_PAIRS, SORT_COUNTS = _network_table(median_only=False)
MEDIAN_PAIRS, MEDIAN_COUNTS = _network_table(median_only=True)


@numba.njit(cache=True, error_model="numpy", inline="always")
def median_of_first(buffer: np.ndarray, n: int) -> float:
    """Median of ``buffer[:n]`` (n >= 1, no NaN); reorders ``buffer[:n]`` in place.

    Bubble pass p (min/max, no data-dependent branches) puts the p-th largest value in place, so
    ``n - (n - 1) // 2`` passes settle both middle positions; for a few values this beats sorting.
    Longer sequences use quickselect (linear time; a full sort of a time series' ~1000 differences
    per pixel was most of jump detection's time), from :data:`BRACKETED_MEDIAN` values on a sample-bracketed
    one (a time series' ~4500 differences: 47 -> 23 us per median, benchmarks/detector1_kernels.py).
    """
    if n >= BRACKETED_MEDIAN:
        return _median_by_bracket(buffer, n)
    if n > SMALL_MEDIAN:
        return _median_by_selection(buffer, n)
    low_index = (n - 1) // 2
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
def _median_by_selection(buffer, n):
    """Median of ``buffer[:n]`` by quickselect of the low middle (and, for even n, the minimum above it)."""
    low_index = (n - 1) // 2
    low = _select(buffer, n, low_index)
    if n % 2 == 1:
        return low
    # after selection every value above low_index is >= the low middle: the high middle is their minimum
    high = buffer[low_index + 1]
    for j in range(low_index + 2, n):
        high = min(high, buffer[j])
    return (low + high) / 2.0


@numba.njit(cache=True, error_model="numpy", nogil=True)  # not inlined: in every caller it tripled jump's compile time
def _median_by_bracket(buffer, n):
    """Median of ``buffer[:n]`` (no NaN) selected among the values of a bracket around it.

    A sorted sample of ~2 sqrt(n) evenly spaced values gives bounds ``lo``/``hi`` three standard deviations
    of the sample's rank either side of its middle. One pass counts the values below ``lo`` and within
    ``[lo, hi]``; when the middle ranks fall within, a second pass swaps the bracketed values (about a quarter
    of them) to the front and quickselect runs on those alone. Otherwise (rare) it is quickselect on all.
    The result is the same order statistic either way, so exactly the same median.
    """
    size = min(256, max(32, int(2.0 * np.sqrt(n))))
    sample = np.empty(size, dtype=buffer.dtype)
    for i in range(size):
        sample[i] = buffer[(i * n) // size]
    sample.sort()
    low_index = (n - 1) // 2
    middle = (low_index * size) // n
    margin = int(1.5 * np.sqrt(size)) + 2
    lo = sample[max(middle - margin, 0)]
    hi = sample[min(middle + margin, size - 1)]
    below = 0
    inside = 0
    for j in range(n):  # branch-free counts
        v = buffer[j]
        below += v < lo
        inside += (v >= lo) & (v <= hi)
    if below > low_index or n // 2 >= below + inside:
        return _median_by_selection(buffer, n)
    kept = 0
    for j in range(n):  # bracketed values to the front by branch-free swaps (buffer[kept:j] lie outside it)
        v = buffer[j]
        buffer[j] = buffer[kept]
        buffer[kept] = v
        kept += (v >= lo) & (v <= hi)
    k = low_index - below
    low = _select(buffer, kept, k)
    if n % 2 == 1:
        return low
    high = buffer[k + 1]  # the high middle is inside the bracket too (checked above)
    for j in range(k + 2, kept):
        high = min(high, buffer[j])
    return (low + high) / 2.0


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
    _compare_exchange(tile, MEDIAN_PAIRS[n_rows], MEDIAN_COUNTS[n_rows], n_columns)
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
    _compare_exchange(tile, SORT_PAIRS[n_rows], SORT_COUNTS[n_rows], n_columns)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _compare_exchange(tile, pairs, n_pairs, n_columns):
    """For each of the first ``n_pairs`` pairs (i, j) of a network, rows i and j of every column to (min, max)."""
    for k in range(n_pairs):
        upper = tile[pairs[k, 0]]
        lower = tile[pairs[k, 1]]
        for c in range(n_columns):
            a = upper[c]
            b = lower[c]
            upper[c] = min(a, b)
            lower[c] = max(a, b)
