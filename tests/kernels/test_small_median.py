"""Tests of jwstlazy.kernels.small_median against numpy."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from jwstlazy.kernels.small_median import (
    BRACKETED_MEDIAN,
    MEDIAN_COUNTS,
    MEDIAN_PAIRS,
    SMALL_MEDIAN,
    SORT_COUNTS,
    SORT_PAIRS,
    column_medians,
    median_of_first,
    sort_columns,
)


@numba.njit  # not cached: it inlines the kernels, and numba would not see them change
def _median_of_first(buffer, n):
    return median_of_first(buffer, n)


@numba.njit  # not cached: it inlines the kernels, and numba would not see them change
def _column_medians(tile, n_rows, n_columns, out):
    column_medians(tile, n_rows, n_columns, out)


@numba.njit  # not cached: it inlines the kernels, and numba would not see them change
def _sort_columns(tile, n_rows, n_columns):
    sort_columns(tile, n_rows, n_columns)


@pytest.mark.parametrize("n", [*range(1, 27), 40, 100, 901])
def test_medians_and_sorts_match_numpy(n):
    rng = np.random.default_rng(n)
    tile = np.round(rng.normal(0, 3, (n + 2, 7)), 1)  # rounding gives ties
    expected = np.median(tile[:n, :5], axis=0)

    for c in range(5):
        column = tile[:, c].copy()
        assert _median_of_first(column, n) == expected[c]
        assert sorted(column[:n]) == sorted(tile[:n, c]) and np.array_equal(column[n:], tile[n:, c])

    medians = np.full(7, -1.0)
    scratch = tile.copy()
    _column_medians(scratch, n, 5, medians)
    np.testing.assert_array_equal(medians[:5], expected)
    assert np.all(medians[5:] == -1.0) and np.array_equal(scratch[:, 5:], tile[:, 5:])

    ordered = tile.copy()
    _sort_columns(ordered, n, 5)
    np.testing.assert_array_equal(ordered[:n, :5], np.sort(tile[:n, :5], axis=0))
    np.testing.assert_array_equal(ordered[n:], tile[n:])


@pytest.mark.parametrize("n", [25, 26, 100, 901])
@pytest.mark.parametrize("pattern", ["sorted", "reversed", "constant", "two values", "one outlier"])
def test_long_medians_by_selection_match_numpy(n, pattern):
    """Above SMALL_MEDIAN values the median comes from quickselect: orders that defeat naive pivots."""
    values = {
        "sorted": np.arange(n, dtype=np.float64),
        "reversed": np.arange(n, 0, -1, dtype=np.float64),
        "constant": np.full(n, 2.5),
        "two values": np.resize([1.0, -1.0], n),
        "one outlier": np.concatenate([np.full(n - 1, 3.0), [1e9]]),
    }[pattern]
    buffer = values.copy()
    assert _median_of_first(buffer, n) == np.median(values)
    assert sorted(buffer) == sorted(values)


@pytest.mark.parametrize("n", [BRACKETED_MEDIAN, BRACKETED_MEDIAN + 1, 4500, 4501])
@pytest.mark.parametrize("pattern", ["normal with jumps", "sorted", "reversed", "constant", "three values",
                                     "sample points high"])
def test_bracketed_medians_match_numpy(n, pattern):
    """From BRACKETED_MEDIAN values the median is selected inside a sampled bracket; a sample that misleads
    (every sampled position holds a huge value) falls back to selection over all values."""
    rng = np.random.default_rng(n)
    size = min(256, max(32, int(2.0 * np.sqrt(n))))
    misleading = rng.normal(0.0, 1.0, n)
    misleading[(np.arange(size) * n) // size] = 1e9
    values = {
        "normal with jumps": rng.normal(20.0, 5.0, n) + 1000.0 * (rng.random(n) < 0.01),
        "sorted": np.arange(n, dtype=np.float64),
        "reversed": np.arange(n, 0, -1, dtype=np.float64),
        "constant": np.full(n, 2.5),
        "three values": rng.integers(0, 3, n).astype(np.float64),
        "sample points high": misleading,
    }[pattern]
    buffer = values.copy()
    assert _median_of_first(buffer, n) == np.median(values)
    assert _median_of_first(values.astype(np.float32), n) == np.median(values.astype(np.float32))


@pytest.mark.parametrize("n", range(1, 17))
def test_networks_sort_every_zero_one_input(n):
    """The 0-1 principle: a compare-exchange network that sorts every sequence of 0s and 1s sorts everything;
    the median networks must place the middle values of each."""
    patterns = ((np.arange(2**n)[None, :] >> np.arange(n)[:, None]) & 1).astype(np.uint8)  # (n, 2**n)
    for pairs, count, rows in ((SORT_PAIRS, SORT_COUNTS, slice(None)),
                               (MEDIAN_PAIRS, MEDIAN_COUNTS, [(n - 1) // 2, n // 2])):  # fmt: skip
        values = patterns.copy()
        for i, j in pairs[n, : count[n]]:
            assert 0 <= i < j < n
            values[i], values[j] = np.minimum(values[i], values[j]), np.maximum(values[i], values[j])
        np.testing.assert_array_equal(values[rows], np.sort(patterns, axis=0)[rows])
    assert SMALL_MEDIAN >= 16 and MEDIAN_COUNTS[n] <= SORT_COUNTS[n] <= n * (n - 1) // 2
