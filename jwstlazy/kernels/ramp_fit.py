"""Ramp fitting: ordinary least squares with optimal weighting (stcal 1.20 ``OLS_C``).

One chunk of ramps (all integrations and groups of a block of pixels) becomes count rates for the
exposure (``rate``) and for each integration (``rateints``), with the Poisson and read-noise
variances, the total error and the data-quality flags, as stcal 1.20's C slope fitter computes
them (``stcal/ramp_fitting/src/slope_fitter.c``; results agree bit for bit, see
``docs/steps/ramp_fit.md``).

Per pixel and integration:

1. Groups flagged SATURATED are NaN. With ``suppress_one_group``, an integration with exactly one
   group whose flags (ignoring PERSISTENCE) are zero gets DO_NOT_USE on every group.
2. Segments are runs of groups whose flags, ignoring PERSISTENCE, are zero; a group flagged only
   JUMP_DET (ignoring PERSISTENCE) right before a run is the run's first group. If any segment has
   two or more groups, one-group segments are dropped; otherwise only the first one is kept.
3. The pixel's median rate is the mean over integrations of the median first difference / t_group
   (DO_NOT_USE groups and differences ending in a JUMP_DET group excluded; NaN counts as zero).
4. A segment of n >= 3 groups is fitted by weighted least squares with weights
   ``|(i - m) / m|**P / rn**2`` (m = (n - 1) / 2, P from the segment's signal-to-noise ratio);
   n = 2: the difference / t_group; n = 1: the value / t_group (or / the one-group time).
   ``var_R = 12 (rn / t)**2 / ((n**3 - n) g**2)`` (n**3 - n taken as 6 for n <= 2) and
   ``var_P = (median_rate + dark) / (t g (n - 1))`` (n - 1 taken as 1 for n <= 2).
5. Integration: ``1 / var = sum(1 / var_s)`` for var_R and var_P, the slope weighted by 1 / var_R
   (stcal >= 1.16, "JP-4318"), ERR = sqrt(1 / sum(1 / (var_P,s + var_R,s))). Exposure: the same
   sums over integrations, ERR = sqrt(var_P + var_R).

The read noise enters as ``rn = RN_CDS * gain / sqrt(2 nframes)`` electrons while the data stay
in DN, so rates are DN/s and variances (DN/s)**2.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import (
    CHARGELOSS,
    DO_NOT_USE,
    JUMP_DET,
    NO_GAIN_VALUE,
    PERSISTENCE,
    SATURATED,
)
from jwstlazy.kernels.small_median import column_medians, median_of_first

__all__ = ["RampFitProducts", "RateArrays", "fit_ramps"]

#: Variances at or above this are reported as zero (stcal's ``LARGE_VARIANCE_THRESHOLD``).
LARGE_VARIANCE_THRESHOLD = 1.0e6
#: Pixel flags that make a slope unusable (stcal's "invalid" mask).
UNUSABLE = DO_NOT_USE | SATURATED
#: Group-flag mask that ignores PERSISTENCE when deciding whether a group is good.
NOT_PERSISTENCE = 0xFF & ~PERSISTENCE
#: Optimal-weighting exponents P, chosen by segment signal-to-noise ratio (see _power_index).
WEIGHT_POWERS = (0.0, 0.4, 1.0, 3.0, 6.0, 10.0)

#: Pixels fitted together in the vectorised path.
TILE = 128

# Indices of the float planes in the packed output arrays.
_SLOPE, _VAR_POISSON, _VAR_RNOISE, _ERR = 0, 1, 2, 3


class RateArrays(NamedTuple):
    """Fitted count rates and their uncertainties; shapes (ny, nx) or (nints, ny, nx)."""

    slope: np.ndarray  #: float32, DN/s (NaN where unusable)
    dq: np.ndarray  #: uint32 pixel DQ flags
    var_poisson: np.ndarray  #: float32, (DN/s)**2
    var_rnoise: np.ndarray  #: float32, (DN/s)**2
    err: np.ndarray  #: float32, DN/s


class RampFitProducts(NamedTuple):
    """The exposure-level ``rate`` and the per-integration ``rateints`` results."""

    rate: RateArrays
    rateints: RateArrays


def fit_ramps(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    group_time: float,
    frame_time: float,
    nframes: int,
    suppress_one_group: bool = True,
    average_dark_current: np.ndarray | None = None,
) -> RampFitProducts:
    """Fit the ramps of one chunk with optimally weighted OLS, matching stcal 1.20.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    groupdq : (nints, ngroups, ny, nx) uint8 group DQ flags
    pixeldq : (ny, nx) uint32 pixel DQ flags
    gain : (ny, nx) float, e-/DN; non-positive or NaN gain flags the pixel DO_NOT_USE|NO_GAIN_VALUE
    readnoise : (ny, nx) float, DN, the CDS read noise of the READNOISE reference file
    group_time, frame_time : seconds (TGROUP, TFRAME)
    nframes : frames averaged per group (NFRAMES)
    suppress_one_group : an integration with a single good group gets no rate (forced off when
        ngroups == 1, as ``stcal.ramp_fitting.ramp_fit.ramp_fit`` does)
    average_dark_current : (ny, nx) float, e-/s added to the median rate in var_P; zero if None

    Returns
    -------
    RampFitProducts with ``rate`` arrays of shape (ny, nx) and ``rateints`` of (nints, ny, nx).
    Pixels are independent, so any chunking in y and x gives the same results. The kernel runs on
    numba's current thread count (``numba.set_num_threads``, which is thread-local).
    """
    nints, ngroups, ny, nx = data.shape
    data = np.ascontiguousarray(data, dtype=np.float32)
    groupdq = np.ascontiguousarray(groupdq, dtype=np.uint8)
    pixeldq = np.ascontiguousarray(pixeldq, dtype=np.uint32)
    gain = np.ascontiguousarray(gain, dtype=np.float32)
    # stcal: readnoise_2d *= gain_2d / np.sqrt(2.0 * nframes), in float32.
    read_noise = np.asarray(readnoise, dtype=np.float32) * (gain / np.sqrt(2.0 * nframes))
    read_noise = np.ascontiguousarray(read_noise, dtype=np.float32)
    if average_dark_current is None:
        dark = np.zeros((ny, nx), dtype=np.float32)
    else:
        dark = np.ascontiguousarray(average_dark_current, dtype=np.float32)
    # stcal's C code receives the times as C floats and computes in double.
    group_time_c = float(np.float32(group_time))
    one_group_time = (float(np.float32(nframes)) + 1.0) * float(np.float32(frame_time)) / 2.0

    rate_planes = np.empty((4, ny, nx), dtype=np.float32)
    rate_dq = np.empty((ny, nx), dtype=np.uint32)
    int_planes = np.empty((4, nints, ny, nx), dtype=np.float32)
    int_dq = np.empty((nints, ny, nx), dtype=np.uint32)
    _fit_chunk(
        data,
        groupdq,
        pixeldq,
        gain,
        read_noise,
        dark,
        group_time_c,
        one_group_time,
        bool(suppress_one_group and ngroups > 1),
        rate_planes,
        rate_dq,
        int_planes,
        int_dq,
    )
    return RampFitProducts(
        rate=RateArrays(rate_planes[_SLOPE], rate_dq, *rate_planes[_VAR_POISSON:]),
        rateints=RateArrays(int_planes[_SLOPE], int_dq, *int_planes[_VAR_POISSON:]),
    )


@numba.njit(cache=True, parallel=True, error_model="numpy", nogil=True)
def _fit_chunk(
    data,
    groupdq,
    pixeldq,
    gain,
    read_noise,
    dark,
    group_time,
    one_group_time,
    suppress_one_group,
    rate_planes,
    rate_dq,
    int_planes,
    int_dq,
):
    """Fit every pixel of the chunk; rows are distributed over threads.

    Each row is taken in tiles of TILE pixels. Pixels with a usable gain and pixel DQ, no CHARGELOSS
    group and >= 3 groups are fitted together, vectorised over the tile, integration by integration:
    their clean integrations (no group flags, finite data) in the vectorised code, the others (a jump,
    saturation) one by one with the per-integration code. The remaining pixels go through the general
    per-pixel code. All use the same arithmetic in the same order.
    """
    nints, ngroups, ny, nx = data.shape
    weight_table = _optimal_weight_table(ngroups)
    for y in numba.prange(ny):
        tile = _tile_work(nints, ngroups)
        values = np.empty((nints, ngroups), dtype=np.float64)
        flags = np.empty((nints, ngroups), dtype=np.uint8)
        first_of_single_good = np.empty(nints, dtype=np.bool_)
        int_results = np.empty((nints, 4), dtype=np.float64)
        int_flags = np.empty(nints, dtype=np.uint32)
        scratch = np.empty(max(ngroups, 1), dtype=np.float64)
        seg_start = np.empty(max(ngroups, 1), dtype=np.int64)
        seg_length = np.empty(max(ngroups, 1), dtype=np.int64)
        for x0 in range(0, nx, TILE):
            n = min(TILE, nx - x0)
            flagged_ints = _classify_tile(data, groupdq, pixeldq, gain, y, x0, n, tile.clean, tile.clean_ints)
            if ngroups >= 3:
                _fit_clean_tile(
                    data, groupdq, pixeldq, gain, read_noise, dark, y, x0, n, group_time, one_group_time,
                    suppress_one_group, weight_table, tile, flagged_ints > 0, values[0], flags[:1], first_of_single_good[:1],
                    scratch, seg_start, seg_length, rate_planes, rate_dq, int_planes, int_dq,
                )  # fmt: skip
            for t in range(n):  # the general per-pixel path for the others
                if not (tile.clean[t] and ngroups >= 3):
                    x = x0 + t
                    for i in range(nints):
                        for g in range(ngroups):
                            f = groupdq[i, g, y, x]
                            flags[i, g] = f
                            values[i, g] = np.nan if f & SATURATED else data[i, g, y, x]
                    has_chargeloss = _suppress_and_classify(flags, suppress_one_group, first_of_single_good)
                    pdq = np.uint32(pixeldq[y, x])
                    pixel_gain = np.float64(gain[y, x])
                    rn = np.float64(read_noise[y, x])
                    if not pixel_gain > 0.0:  # also NaN
                        pdq |= DO_NOT_USE | NO_GAIN_VALUE
                    slope, var_p, var_r, err, dq = _fit_pixel(
                        values, flags, first_of_single_good, pdq, pixel_gain, rn, np.float64(dark[y, x]),
                        group_time, one_group_time, weight_table, scratch, seg_start, seg_length, int_results,
                        int_flags,
                    )  # fmt: skip
                    if has_chargeloss:
                        var_r = _chargeloss_read_noise_variance(
                            groupdq[:, :, y, x], first_of_single_good, pixel_gain, rn, group_time, one_group_time,
                            seg_start, seg_length, int_results[:, _VAR_RNOISE], var_r,
                        )  # fmt: skip
                    _write_rate(rate_planes, rate_dq, y, x, slope, var_p, var_r, err, dq)
                    for i in range(nints):
                        for k in range(4):
                            int_planes[k, i, y, x] = int_results[i, k]
                        int_dq[i, y, x] = int_flags[i]


class _TileWork(NamedTuple):
    """Scratch arrays for the vectorised fit of one tile of pixels."""

    clean: np.ndarray  #: (TILE,) the pixel is fitted in the vectorised code
    clean_ints: np.ndarray  #: (nints, TILE) the integration has no group flags and finite data
    exposure_dq: np.ndarray  #: (TILE,) the per-pixel code's exposure-level tallies, for flagged integrations
    n_unusable: np.ndarray
    n_saturated: np.ndarray
    any_saturated_group: np.ndarray
    group_rates: np.ndarray  #: (ngroups, TILE) an integration's groups / t_group
    diffs: np.ndarray
    median_rate: np.ndarray
    medians: np.ndarray
    power_index: np.ndarray
    inv_rn2: np.ndarray
    weights: np.ndarray  #: (ngroups, TILE) each group's optimal weight in the integration being fitted
    sums: np.ndarray
    exposure_sums: np.ndarray
    pixel_terms: np.ndarray  #: (6, TILE) a clean integration's variance terms, the same for all of a pixel's


@numba.njit(cache=True, error_model="numpy", inline="always")
def _tile_work(nints, ngroups):
    return _TileWork(
        np.zeros(TILE, dtype=np.bool_),
        np.zeros((nints, TILE), dtype=np.bool_),
        np.zeros(TILE, dtype=np.uint32),
        np.zeros(TILE, dtype=np.int64),
        np.zeros(TILE, dtype=np.int64),
        np.zeros(TILE, dtype=np.bool_),
        np.empty((max(ngroups, 1), TILE), dtype=np.float64),
        np.empty((max(ngroups - 1, 1), TILE), dtype=np.float64),
        np.empty(TILE, dtype=np.float64),
        np.empty(TILE, dtype=np.float64),
        np.empty(TILE, dtype=np.int64),
        np.empty(TILE, dtype=np.float64),
        np.empty((max(ngroups, 1), TILE), dtype=np.float64),
        np.empty((5, TILE), dtype=np.float64),
        np.empty((3, TILE), dtype=np.float64),
        np.empty((6, TILE), dtype=np.float64),
    )


@numba.njit(cache=True, error_model="numpy", inline="always")
def _classify_tile(data, groupdq, pixeldq, gain, y, x0, n, clean, clean_ints):
    """``clean_ints[i, t]``: integration i has no group flags and finite data; ``clean[t]``: gain > 0, no
    DO_NOT_USE/SATURATED pixel DQ, no CHARGELOSS group and a clean integration. Returns the number of
    flagged integrations of the pixels marked clean."""
    nints, ngroups = data.shape[:2]
    for t in range(n):
        clean[t] = gain[y, x0 + t] > 0.0 and pixeldq[y, x0 + t] & UNUSABLE == 0
    for i in range(nints):  # branch-free, vectorised over the tile
        row = clean_ints[i]
        for t in range(n):
            row[t] = True
        for g in range(ngroups):
            flags = groupdq[i, g, y, x0 : x0 + n]
            values = data[i, g, y, x0 : x0 + n]
            for t in range(n):
                row[t] &= (flags[t] == 0) & np.isfinite(values[t])
                clean[t] &= (flags[t] & CHARGELOSS) == 0
    flagged_ints = 0
    for t in range(n):  # a pixel without a clean integration is left to the per-pixel code
        n_clean = 0
        for i in range(nints):
            n_clean += clean_ints[i, t]
        clean[t] &= n_clean > 0
        if clean[t]:
            flagged_ints += nints - n_clean
    return flagged_ints


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _fit_clean_tile(
    data, groupdq, pixeldq, gain, read_noise, dark, y, x0, n, group_time, one_group_time, suppress_one_group,
    weight_table, tile, any_flagged, values, flags, first_of_single_good, scratch, seg_start, seg_length,
    rate_planes, rate_dq, int_planes, int_dq,
):  # fmt: skip
    """Fit the pixels of a tile marked ``tile.clean``: clean integrations as one segment of all groups,
    vectorised; flagged ones with the per-pixel code's :func:`_fit_integration`.

    The median rate (a column median of the differences), the snr and the weighted sums are
    computed for all pixels of the tile at once, in the order the per-pixel code uses.
    ``values`` (ngroups,), ``flags`` (1, ngroups) and ``first_of_single_good`` (1,) are scratch for one
    flagged integration.
    """
    nints, ngroups = data.shape[:2]
    diffs = tile.diffs
    for t in range(n):
        tile.median_rate[t] = 0.0
        for k in range(3):
            tile.exposure_sums[k, t] = 0.0
        tile.exposure_dq[t] = pixeldq[y, x0 + t]
        tile.n_unusable[t] = 0
        tile.n_saturated[t] = 0
        tile.any_saturated_group[t] = False
    rates = tile.group_rates
    for i in range(nints):
        for g in range(ngroups):  # each group / t_group once: both differences it is in use the same quotient
            group_values = data[i, g, y, x0 : x0 + n]
            for t in range(n):
                rates[g, t] = group_values[t] / group_time
        for k in range(ngroups - 1):
            for t in range(n):
                diffs[k, t] = rates[k + 1, t] - rates[k, t]
        column_medians(diffs, ngroups - 1, n, tile.medians)
        for t in range(n):
            if tile.clean_ints[i, t]:
                tile.median_rate[t] += tile.medians[t]
        if not any_flagged:
            continue
        for t in range(n):
            if tile.clean[t] and not tile.clean_ints[i, t]:  # as _pixel_median_rate for this integration
                _load_integration(data, groupdq, i, y, x0 + t, suppress_one_group, values, flags, first_of_single_good)
                rate = _integration_rate(values, flags[0], first_of_single_good[0], group_time, one_group_time, scratch)
                if not np.isnan(rate):
                    tile.median_rate[t] += rate
    for t in range(n):
        tile.median_rate[t] /= nints
    # A clean integration is one segment of all groups: its variances depend on the pixel's median rate only
    terms = tile.pixel_terms
    for t in range(n):
        if tile.clean[t]:
            signal_rate = _signal_rate(tile.median_rate[t], np.float64(dark[y, x0 + t]))
            var_p, var_r = _segment_variances(
                ngroups, group_time, np.float64(gain[y, x0 + t]), np.float64(read_noise[y, x0 + t]), signal_rate
            )
            inv_var_p = 1.0 / var_p if var_p > 0.0 else 0.0
            inv_var_r = 1.0 / var_r
            _, int_var_p, int_var_r, int_err = _integration_result(
                np.uint32(pixeldq[y, x0 + t]), inv_var_p, inv_var_r, 1.0 / (var_p + var_r), 0.0
            )
            terms[0, t], terms[1, t], terms[2, t] = var_r, inv_var_p, inv_var_r
            terms[3, t], terms[4, t], terms[5, t] = int_var_p, int_var_r, int_err

    sums = tile.sums
    for i in range(nints):
        for t in range(n):
            g = np.float64(gain[y, x0 + t])
            rn = np.float64(read_noise[y, x0 + t])
            signal = np.float64(data[i, ngroups - 1, y, x0 + t]) - np.float64(data[i, 0, y, x0 + t])
            tile.power_index[t] = _power_index(_signal_to_noise(signal, g, rn))
            tile.inv_rn2[t] = 1.0 / (rn * rn)
            for k in range(5):
                sums[k, t] = 0.0
        # the weighted sums over groups, as the per-pixel code adds them; weights gathered first, and each loop
        # over the tile writes few arrays (more than LLVM's limit of runtime alias checks and it is not vectorised)
        shape_weights = weight_table[:, ngroups]
        for t in range(n):
            for j in range(ngroups):
                tile.weights[j, t] = shape_weights[tile.power_index[t], j] * tile.inv_rn2[t]
        for j in range(ngroups):
            x = np.float64(j)
            weights = tile.weights[j]
            s0, s1, s2 = sums[0], sums[1], sums[2]
            for t in range(n):
                x_weight = x * weights[t]
                s0[t] += weights[t]
                s1[t] += x_weight
                s2[t] += x * x_weight
            group_values = data[i, j, y, x0 : x0 + n]
            s3, s4 = sums[3], sums[4]
            for t in range(n):
                value = np.float64(group_values[t])
                s3[t] += value * weights[t]
                s4[t] += value * (x * weights[t])
        if any_flagged:
            for t in range(n):
                if tile.clean[t] and not tile.clean_ints[i, t]:
                    _fit_flagged_integration(
                        data, groupdq, pixeldq, gain, read_noise, dark, i, y, x0, t, group_time, one_group_time,
                        suppress_one_group, weight_table, tile, values, flags, first_of_single_good, seg_start,
                        seg_length, int_planes, int_dq,
                    )  # fmt: skip
        for t in range(n):
            if not (tile.clean[t] and tile.clean_ints[i, t]):
                continue
            slope = _slope_from_sums(sums[0, t], sums[1, t], sums[2, t], sums[3, t], sums[4, t]) / group_time
            slope_sum = slope / terms[0, t]
            int_planes[_SLOPE, i, y, x0 + t] = slope_sum * terms[4, t]  # as _integration_result
            int_planes[_VAR_POISSON, i, y, x0 + t] = terms[3, t]
            int_planes[_VAR_RNOISE, i, y, x0 + t] = terms[4, t]
            int_planes[_ERR, i, y, x0 + t] = terms[5, t]
            int_dq[i, y, x0 + t] = pixeldq[y, x0 + t]
            if terms[1, t] > 0.0:
                tile.exposure_sums[0, t] += terms[1, t]
            tile.exposure_sums[1, t] += terms[2, t]
            tile.exposure_sums[2, t] += slope_sum
    for t in range(n):
        if tile.clean[t]:
            slope, var_p, var_r, err, dq = _exposure_result(
                tile.exposure_dq[t], tile.n_unusable[t], tile.n_saturated[t], nints, tile.any_saturated_group[t],
                tile.exposure_sums[0, t], tile.exposure_sums[1, t], tile.exposure_sums[2, t],
            )  # fmt: skip
            _write_rate(rate_planes, rate_dq, y, x0 + t, slope, var_p, var_r, err, dq)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _load_integration(data, groupdq, i, y, x, suppress_one_group, values, flags, first_of_single_good):
    """One integration of one pixel as the per-pixel code sees it: SATURATED groups NaN, one-group
    suppression applied to ``flags`` (1, ngroups), ``first_of_single_good`` (1,) set."""
    for g in range(values.shape[0]):
        f = groupdq[i, g, y, x]
        flags[0, g] = f
        values[g] = np.nan if f & SATURATED else data[i, g, y, x]
    _suppress_and_classify(flags, suppress_one_group, first_of_single_good)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _fit_flagged_integration(
    data, groupdq, pixeldq, gain, read_noise, dark, i, y, x0, t, group_time, one_group_time, suppress_one_group,
    weight_table, tile, values, flags, first_of_single_good, seg_start, seg_length, int_planes, int_dq,
):  # fmt: skip
    """Integration i of tile pixel t through :func:`_fit_integration`, tallied as :func:`_fit_pixel` does
    (the same steps on tile arrays: _fit_pixel keeps its tallies in local variables, which numba keeps in
    registers; given the tile's arrays inside the prange body, its tally writes were lost with numba 0.68)."""
    x = x0 + t
    _load_integration(data, groupdq, i, y, x, suppress_one_group, values, flags, first_of_single_good)
    pixel_dq = np.uint32(pixeldq[y, x])
    dq, slope, var_p, var_r, err, inv_var_p, inv_var_r, slope_sum, fitted = _fit_integration(
        values, flags[0], first_of_single_good[0], pixel_dq, np.float64(gain[y, x]), np.float64(read_noise[y, x]),
        np.float64(dark[y, x]), tile.median_rate[t], group_time, one_group_time, weight_table, seg_start, seg_length,
    )  # fmt: skip
    if fitted:
        if inv_var_p > 0.0:
            tile.exposure_sums[0, t] += inv_var_p
        tile.exposure_sums[1, t] += inv_var_r
        tile.exposure_sums[2, t] += slope_sum
    if dq & DO_NOT_USE:
        tile.n_unusable[t] += 1
    if dq & SATURATED:
        tile.n_saturated[t] += 1
    tile.exposure_dq[t] |= dq & (JUMP_DET | PERSISTENCE)
    if _any_flag(flags[0], SATURATED):  # partial saturation is flagged after the fit
        dq |= SATURATED
        tile.any_saturated_group[t] = True
    int_planes[_SLOPE, i, y, x] = slope
    int_planes[_VAR_POISSON, i, y, x] = var_p
    int_planes[_VAR_RNOISE, i, y, x] = var_r
    int_planes[_ERR, i, y, x] = err
    int_dq[i, y, x] = dq


@numba.njit(cache=True, error_model="numpy", inline="always")
def _write_rate(rate_planes, rate_dq, y, x, slope, var_p, var_r, err, dq):
    rate_planes[_SLOPE, y, x] = slope
    rate_planes[_VAR_POISSON, y, x] = var_p
    rate_planes[_VAR_RNOISE, y, x] = var_r
    rate_planes[_ERR, y, x] = err
    rate_dq[y, x] = dq


@numba.njit(cache=True, error_model="numpy", inline="always")
def _optimal_weight_table(ngroups):
    """``|(j - m) / m|**P`` for every weighting power, segment length and group (float32 powf).

    Shape (len(WEIGHT_POWERS), ngroups + 1, ngroups); computed in single precision as stcal does.
    """
    table = np.zeros((len(WEIGHT_POWERS), ngroups + 1, max(ngroups, 1)), dtype=np.float64)
    for p in range(len(WEIGHT_POWERS)):
        power = np.float32(WEIGHT_POWERS[p])
        for length in range(3, ngroups + 1):
            middle = (length - 1) / 2.0
            inv_middle = 1.0 / middle
            for j in range(length):
                distance = np.float32(abs((j - middle) * inv_middle))
                table[p, length, j] = np.float64(distance**power)
    return table


@numba.njit(cache=True, error_model="numpy", inline="always")
def _suppress_and_classify(flags, suppress_one_group, first_of_single_good):
    """Apply one-group suppression to ``flags`` (nints, ngroups) in place; classify integrations.

    ``first_of_single_good[i]`` marks integrations whose only zero-flag group is group 0 (they
    use the one-group time when suppression is off). Returns whether any group is CHARGELOSS.
    """
    nints, ngroups = flags.shape
    has_chargeloss = False
    for i in range(nints):
        n_good_ignoring_persistence = 0
        n_zero_flags = 0
        for g in range(ngroups):
            f = flags[i, g]
            if f & NOT_PERSISTENCE == 0:
                n_good_ignoring_persistence += 1
            if f == 0:
                n_zero_flags += 1
            if f & CHARGELOSS:
                has_chargeloss = True
        if suppress_one_group and n_good_ignoring_persistence == 1:
            for g in range(ngroups):
                flags[i, g] |= DO_NOT_USE
            n_zero_flags = 0
        first_of_single_good[i] = (not suppress_one_group) and n_zero_flags == 1 and flags[i, 0] == 0
    return has_chargeloss


@numba.njit(cache=True, error_model="numpy", inline="always")
def _fit_pixel(
    values, flags, first_of_single_good, pixel_dq, gain, read_noise, dark, group_time, one_group_time,
    weight_table, scratch, seg_start, seg_length, int_results, int_flags,
):  # fmt: skip
    """Fit all integrations of one pixel (``values``, ``flags``: (nints, ngroups)).

    Fills ``int_results`` (nints, 4: slope, var_poisson, var_rnoise, err) and ``int_flags`` and
    returns the exposure's ``(slope, var_poisson, var_rnoise, err, dq)``.
    """
    nints = values.shape[0]
    median_rate = _pixel_median_rate(values, flags, first_of_single_good, group_time, one_group_time, scratch)
    exposure_dq = pixel_dq
    inv_var_poisson_sum = 0.0
    inv_var_rnoise_sum = 0.0
    weighted_slope_sum = 0.0
    n_unusable = 0
    n_saturated = 0
    any_saturated_group = False
    for i in range(nints):
        dq, slope, var_p, var_r, err, inv_var_p, inv_var_r, slope_sum, fitted = _fit_integration(
            values[i],
            flags[i],
            first_of_single_good[i],
            pixel_dq,
            gain,
            read_noise,
            dark,
            median_rate,
            group_time,
            one_group_time,
            weight_table,
            seg_start,
            seg_length,
        )
        if fitted:
            if inv_var_p > 0.0:
                inv_var_poisson_sum += inv_var_p
            inv_var_rnoise_sum += inv_var_r
            weighted_slope_sum += slope_sum
        if dq & DO_NOT_USE:
            n_unusable += 1
        if dq & SATURATED:
            n_saturated += 1
        exposure_dq |= dq & (JUMP_DET | PERSISTENCE)
        if _any_flag(flags[i], SATURATED):  # partial saturation is flagged after the fit
            dq |= SATURATED
            any_saturated_group = True
        int_results[i, _SLOPE] = slope
        int_results[i, _VAR_POISSON] = var_p
        int_results[i, _VAR_RNOISE] = var_r
        int_results[i, _ERR] = err
        int_flags[i] = dq
    return _exposure_result(
        exposure_dq,
        n_unusable,
        n_saturated,
        nints,
        any_saturated_group,
        inv_var_poisson_sum,
        inv_var_rnoise_sum,
        weighted_slope_sum,
    )


@numba.njit(cache=True, error_model="numpy", inline="always")
def _exposure_result(dq, n_unusable, n_saturated, nints, any_saturated_group, inv_var_p, inv_var_r, slope_sum):
    """The exposure's ``(slope, var_poisson, var_rnoise, err, dq)`` from the integration sums."""
    if n_unusable == nints:
        dq |= DO_NOT_USE
    if n_saturated == nints:
        dq |= SATURATED
    var_p = _invert_positive(inv_var_p)
    if var_p >= LARGE_VARIANCE_THRESHOLD or var_p < 0.0:
        var_p = 0.0
    var_r = _invert_positive(inv_var_r)
    if var_r >= LARGE_VARIANCE_THRESHOLD:
        var_r = 0.0
    err = np.sqrt(var_p + var_r)
    if dq & UNUSABLE:
        slope = np.nan
        var_p = 0.0
        var_r = 0.0
        err = 0.0
    else:
        slope = slope_sum * var_r
    if any_saturated_group:
        dq |= SATURATED
    return slope, var_p, var_r, err, dq


@numba.njit(cache=True, error_model="numpy", inline="always")
def _integration_result(dq, inv_var_p, inv_var_r, inv_var_e, slope_sum):
    """An integration's ``(slope, var_poisson, var_rnoise, err)`` from its segment sums."""
    var_p = 1.0 / inv_var_p if inv_var_p > 0.0 else 0.0
    if var_p >= LARGE_VARIANCE_THRESHOLD:
        var_p = 0.0
    var_r = 1.0 / inv_var_r
    if var_r >= LARGE_VARIANCE_THRESHOLD:
        var_r = 0.0
    if dq & UNUSABLE:
        return np.nan, 0.0, 0.0, 0.0
    var_total = 1.0 / inv_var_e
    err = 0.0 if var_total > LARGE_VARIANCE_THRESHOLD else np.sqrt(var_total)
    return slope_sum * var_r, var_p, var_r, err


@numba.njit(cache=True, error_model="numpy", inline="always")
def _any_flag(flags, flag):
    """Whether any element of ``flags`` has a bit of ``flag``."""
    for f in flags:
        if f & flag:
            return True
    return False


@numba.njit(cache=True, error_model="numpy", inline="always")
def _invert_positive(inverse_sum):
    """1 / sum for a positive sum; zero (or NaN) passes through unchanged, as in stcal."""
    return 1.0 / inverse_sum if inverse_sum > 0.0 else inverse_sum


@numba.njit(cache=True, error_model="numpy", inline="always")
def _fit_integration(
    values,
    flags,
    first_of_single_good,
    pixel_dq,
    gain,
    read_noise,
    dark,
    median_rate,
    group_time,
    one_group_time,
    weight_table,
    seg_start,
    seg_length,
):
    """Fit one integration of one pixel.

    Returns ``(dq, slope, var_poisson, var_rnoise, err, inv_var_poisson, inv_var_rnoise,
    slope_over_var_rnoise_sum, fitted)``: the rateints values (before the partial-saturation flag)
    and the sums the exposure combines; ``fitted`` is False when no segment was fitted.
    """
    ngroups = values.shape[0]
    dq = pixel_dq
    n_sat = 0
    n_dnu_or_sat = 0
    for f in flags:
        if f & JUMP_DET:
            dq |= JUMP_DET
        if f & PERSISTENCE:
            dq |= PERSISTENCE
        if f & SATURATED:
            n_sat += 1
        if f & (DO_NOT_USE | SATURATED):
            n_dnu_or_sat += 1

    nan = np.nan
    if flags[0] & SATURATED:
        return dq | DO_NOT_USE | SATURATED, nan, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False
    if n_dnu_or_sat == ngroups:
        dq |= DO_NOT_USE
        if n_sat == ngroups:
            dq |= SATURATED
        return dq, nan, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False
    n_segments = _find_segments(flags, seg_start, seg_length)
    if n_segments == 0:
        slope = nan if dq & UNUSABLE else 0.0
        return dq, slope, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False

    inv_var_r = 0.0
    inv_var_p = 0.0
    inv_var_e = 0.0
    slope_sum = 0.0
    signal_rate = _signal_rate(median_rate, dark)
    for s in range(n_segments):
        start = seg_start[s]
        length = seg_length[s]
        if length == 1:
            timing = one_group_time if first_of_single_good else group_time
            seg_slope = values[start] / timing
        elif length == 2:
            timing = group_time
            seg_slope = (values[start + 1] - values[start]) / group_time
        else:
            timing = group_time
            seg_slope = _weighted_slope(values, start, length, gain, read_noise, weight_table) / group_time
        seg_var_p, seg_var_r = _segment_variances(length, timing, gain, read_noise, signal_rate)
        inv_var_r += 1.0 / seg_var_r
        if seg_var_p > 0.0:
            inv_var_p += 1.0 / seg_var_p
        inv_var_e += 1.0 / (seg_var_p + seg_var_r)
        slope_sum += seg_slope / seg_var_r
    slope, var_p, var_r, err = _integration_result(dq, inv_var_p, inv_var_r, inv_var_e, slope_sum)
    return dq, slope, var_p, var_r, err, inv_var_p, inv_var_r, slope_sum, True


@numba.njit(cache=True, error_model="numpy", inline="always")
def _pixel_median_rate(values, flags, first_of_single_good, group_time, one_group_time, scratch):
    """Mean over integrations of the median first-difference rate (DN/s), NaN counted as 0."""
    nints, ngroups = values.shape
    total = 0.0
    if ngroups == 1:
        for i in range(nints):
            total += values[i, 0] / one_group_time
        return total / nints
    for i in range(nints):
        rate = _integration_rate(values[i], flags[i], first_of_single_good[i], group_time, one_group_time, scratch)
        if not np.isnan(rate):
            total += rate
    return total / nints


@numba.njit(cache=True, error_model="numpy", inline="always")
def _integration_rate(values, flags, first_of_single_good, group_time, one_group_time, scratch):
    """One integration's share of the pixel's median rate (DN/s): its first group / the one-group time when
    only group 0 is good and suppression is off, else its median first difference."""
    if first_of_single_good:
        return values[0] / one_group_time
    return _integration_median_rate(values, flags, group_time, scratch)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _integration_median_rate(values, flags, group_time, scratch):
    """Median of the usable first differences / t_group of one integration (DN/s).

    A difference is unusable when its later group is JUMP_DET or either group is DO_NOT_USE or
    SATURATED (NaN). With no usable difference, stcal returns the first group's value / t_group.
    """
    ngroups = values.shape[0]
    n = 0
    earlier = np.nan if flags[0] & DO_NOT_USE else values[0] / group_time
    first = earlier
    for k in range(1, ngroups):
        later = np.nan if flags[k] & DO_NOT_USE else values[k] / group_time
        if not flags[k] & JUMP_DET:
            difference = later - earlier
            if not np.isnan(difference):
                scratch[n] = difference
                n += 1
        earlier = later
    if n == 0:
        return first
    return median_of_first(scratch, n)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _find_segments(flags, seg_start, seg_length):
    """Fill ``seg_start``/``seg_length`` with the integration's fitted segments; return their count.

    Segments are runs of groups with zero flags (PERSISTENCE ignored); a preceding group flagged
    only JUMP_DET starts the run. One-group segments are kept only when no longer segment exists,
    and then only the first.
    """
    ngroups = flags.shape[0]
    n_segments = 0
    longest = 0
    in_segment = False
    start = 0
    for g in range(ngroups + 1):
        good = g < ngroups and flags[g] & NOT_PERSISTENCE == 0
        if good and not in_segment:
            in_segment = True
            start = g - 1 if g > 0 and flags[g - 1] & NOT_PERSISTENCE == JUMP_DET else g
        elif not good and in_segment:
            in_segment = False
            seg_start[n_segments] = start
            seg_length[n_segments] = g - start
            longest = max(longest, g - start)
            n_segments += 1
    if longest < 2:
        return min(n_segments, 1)
    kept = 0
    for s in range(n_segments):
        if seg_length[s] >= 2:
            seg_start[kept] = seg_start[s]
            seg_length[kept] = seg_length[s]
            kept += 1
    return kept


@numba.njit(cache=True, error_model="numpy", inline="always")
def _signal_rate(median_rate, dark):
    """Rate entering the Poisson variance: the median rate (if positive) plus the dark current."""
    return median_rate + dark if median_rate > 0.0 else dark


@numba.njit(cache=True, error_model="numpy", inline="always")
def _segment_variances(length, timing, gain, read_noise, signal_rate):
    """Poisson and read-noise variances ((DN/s)**2) of a segment of ``length`` groups.

    ``timing`` is t_group, or the one-group time for a single-group segment that needs it.
    """
    if length <= 2:
        return signal_rate / (timing * gain), _read_noise_variance(read_noise, gain, timing, 6.0)
    var_poisson = signal_rate / (timing * gain * (length - 1.0))
    if not gain > 0.0:
        return var_poisson, 0.0
    n = np.float64(length)
    return var_poisson, _read_noise_variance(read_noise, gain, timing, n * n * n - n)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _read_noise_variance(read_noise, gain, timing, n_cubed_minus_n):
    """``12 (rn / t)**2 / ((n**3 - n) g**2)`` in stcal's order of operations."""
    scaled = read_noise / timing
    return (12.0 * scaled * scaled) / (n_cubed_minus_n * gain * gain)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _signal_to_noise(signal, gain, read_noise):
    """Segment signal-to-noise ratio ``s g / sqrt(rn**2 + s g)`` (0 when not positive)."""
    denominator = read_noise * read_noise + signal * gain
    if denominator <= 0.0 or gain == 0.0:
        return 0.0
    ratio = signal * gain / np.sqrt(denominator)
    return 0.0 if ratio < 0.0 else ratio  # noqa: FURB136 - NaN must stay NaN (it selects the largest power)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _weighted_slope(values, start, length, gain, read_noise, weight_table):
    """Optimally weighted least-squares slope of ``values[start:start+length]`` in DN/group."""
    snr = _signal_to_noise(values[start + length - 1] - values[start], gain, read_noise)
    shape_weights = weight_table[_power_index(snr), length]
    inv_rn2 = 1.0 / (read_noise * read_noise)
    sum_w = 0.0
    sum_x = 0.0
    sum_xx = 0.0
    sum_y = 0.0
    sum_xy = 0.0
    for j in range(length):
        weight = shape_weights[j] * inv_rn2
        x = np.float64(j + start)
        y = values[start + j]
        if np.isnan(y):
            y = 0.0
        x_weight = x * weight
        sum_w += weight
        sum_x += x_weight
        sum_xx += x * x_weight
        sum_y += y * weight
        sum_xy += y * x_weight
    return _slope_from_sums(sum_w, sum_x, sum_xx, sum_y, sum_xy)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _slope_from_sums(sum_w, sum_x, sum_xx, sum_y, sum_xy):
    """Weighted least-squares slope from its sums."""
    return (sum_w * sum_xy - sum_x * sum_y) / (sum_w * sum_xx - sum_x * sum_x)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _power_index(snr):
    """Index into WEIGHT_POWERS for a segment signal-to-noise ratio (NaN -> the largest)."""
    if snr < 5.0:
        return 0
    if snr < 10.0:
        return 1
    if snr < 20.0:
        return 2
    if snr < 50.0:
        return 3
    if snr < 100.0:
        return 4
    return 5


@numba.njit(cache=True, error_model="numpy", inline="always")
def _chargeloss_read_noise_variance(
    pixel_groupdq, first_of_single_good, gain, read_noise, group_time, one_group_time, seg_start, seg_length,
    int_var_rnoise, exposure_var_rnoise,
):  # fmt: skip
    """Recompute read-noise variances of integrations with CHARGELOSS groups, as stcal does.

    ``pixel_groupdq`` (nints, ngroups) holds the pixel's original flags (before one-group
    suppression). Integrations with CHARGELOSS are re-segmented with DO_NOT_USE|CHARGELOSS toggled
    off on CHARGELOSS groups; ``int_var_rnoise`` is updated in place and the exposure read-noise
    variance returned. Slopes and ERR are left as fitted (stcal does not update them either).
    """
    nints, ngroups = pixel_groupdq.shape
    restored = np.empty(ngroups, dtype=np.uint8)
    inv_exposure = 0.0
    for i in range(nints):
        if not _any_flag(pixel_groupdq[i], CHARGELOSS):
            if int_var_rnoise[i] > 0.0:
                inv_exposure += 1.0 / int_var_rnoise[i]
            continue
        for g in range(ngroups):
            f = pixel_groupdq[i, g]
            restored[g] = f ^ (DO_NOT_USE | CHARGELOSS) if f & CHARGELOSS else f
        inv_var_r = 0.0
        for s in range(_find_segments(restored, seg_start, seg_length)):
            length = seg_length[s]
            timing = one_group_time if length == 1 and first_of_single_good[i] else group_time
            var_r = _segment_variances(length, timing, gain, read_noise, 0.0)[1]
            if var_r > 0.0:
                inv_var_r += 1.0 / var_r
        var_r = 1.0 / inv_var_r
        int_var_rnoise[i] = 0.0 if var_r >= LARGE_VARIANCE_THRESHOLD else var_r
        inv_exposure += inv_var_r
    if inv_exposure > 0.0:
        exposure_var_rnoise = 1.0 / inv_exposure
    if exposure_var_rnoise >= LARGE_VARIANCE_THRESHOLD:
        exposure_var_rnoise = 0.0
    return exposure_var_rnoise
