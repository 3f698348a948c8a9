"""Tests of jwstlazy.kernels.small_median against numpy."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from jwstlazy.kernels.small_median import column_medians, median_of_first, sort_columns


@numba.njit(cache=True)
def _median_of_first(buffer, n):
    return median_of_first(buffer, n)


@numba.njit(cache=True)
def _column_medians(tile, n_rows, n_columns, out):
    column_medians(tile, n_rows, n_columns, out)


@numba.njit(cache=True)
def _sort_columns(tile, n_rows, n_columns):
    sort_columns(tile, n_rows, n_columns)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9, 10, 24, 25, 40, 100, 901])
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
