"""refpix (near-IR): reference-pixel correction of NIRCam, NIRISS and NIRSpec (traditional readout).

Matches ``jwst.refpix.reference_pixels`` (jwst 3.0, ``refpix_algorithm="median"``). All geometry is in the
DETECTOR orientation (``jwstlazy.kernels.orientation``): amplifiers are 512-column bands, reference rows
are 0-3 and 2044-2047, side reference columns 0-3 and 2044-2047.

Full frames (and subarrays read with 4 outputs, embedded in a full frame with everything outside them marked
DO_NOT_USE | REFERENCE_PIXEL, see ``embed_in_full_frame``), per integration and group:

1. Top/bottom: per amplifier, the sigma-clipped mean (``siglimit`` = 3 sigma, DO_NOT_USE pixels excluded) of
   the bottom rows and of the top rows, separately for even and odd columns (``odd_even_columns``), top and
   bottom averaged (one of them alone if the other has no good pixel). Subtracted (float32) from the matching
   columns of the whole amplifier. An amplifier lacking either parity's signal is left alone.
2. Side (``use_side_ref_pixels``): after step 1, per detector row, the median of the good pixels in a
   ``side_smoothing_length`` (odd; +1 if even) rows x 4 columns window, the array reflected at the ends, for
   the left and for the right columns; the two averaged (one alone, 0 if neither), times ``side_gain``,
   subtracted from the whole row (float64, result stored as float32).

``refpix_algorithm="sirs"`` (Simple Improved Reference Subtraction, full frames with a SIRSKERNEL reference)
replaces step 2: per group, the left and right side columns after step 1, their values beyond ``sigreject``
robust sigmas (median, 1.48 MAD over the whole 2048 x 4 strip) left out, averaged per row (sum of the good
values / 4), are convolved with per-channel kernels (``sirs_kernels``: the inverse real FFT of the reference's
gamma (left) and zeta (right) coefficients, ``halfwidth`` samples each side of the centre, smoothed by a
Gaussian of ``gaussmooth``) and normalised for the left-out values; their sum, one value per row and output
channel (``sirs_row_offsets``), is subtracted from the channel's columns (float64, result stored as float32).

Subarrays read with one output (``single_output_offsets``): one sigma-clipped mean of every REFERENCE_PIXEL,
not DO_NOT_USE pixel, per column parity (of the full-frame detector column) if ``odd_even_columns``,
subtracted from the whole subarray. No reference pixels: no correction.

Dask split. The statistics need whole amplifiers, so the step runs
  (i) a REDUCTION on the four 4-pixel reference strips of the full frame in detector orientation
      (``split_reference_strips``), all integrations and groups: ``full_frame_offsets`` returns per-column
      offsets (nints, ngroups, 2048) float32 and per-row offsets (nints, ngroups, 2048) float64. These are
      small; the step turns them into DMS-axis vectors with ``orientation.detector_column_vector_to_dms`` /
      ``detector_row_vector_to_dms``, cuts them to the subarray and to each chunk; then
 (ii) the per-chunk APPLY kernel ``subtract_offsets`` (no halo).
The ZEROFRAME is corrected like a one-group ramp (its zeros must be restored to 0 afterwards).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, PIXEL_DTYPE, REFERENCE_PIXEL
from jwstlazy.kernels.corrections import Corrections, apply_corrections
from jwstlazy.kernels.sigma_clip import clipped_mean

__all__ = [
    "AMPLIFIER_WIDTH",
    "N_REFERENCE",
    "embed_in_full_frame",
    "split_reference_strips",
    "full_frame_offsets",
    "single_output_offsets",
    "subtract_offsets",
    "sirs_kernels",
    "sirs_row_offsets",
]

#: Columns per amplifier in the detector orientation.
AMPLIFIER_WIDTH = 512
#: Width of each reference-pixel border.
N_REFERENCE = 4


def embed_in_full_frame(
    array: Any, pixeldq: Any, xstart: int, ystart: int, full_shape: tuple[int, int] = (2048, 2048)
) -> tuple[Any, Any]:
    """Embed a DMS subarray (..., ny, nx) and its pixel DQ in a full DMS frame (numpy or dask).

    ``xstart``/``ystart`` are SUBSTRT1/SUBSTRT2 (1-based). Data outside is 0; DQ outside is
    DO_NOT_USE | REFERENCE_PIXEL, so that only reference pixels inside the subarray enter the statistics.
    """
    ny, nx = array.shape[-2:]
    y0, x0 = ystart - 1, xstart - 1
    pad_yx = [(y0, full_shape[0] - y0 - ny), (x0, full_shape[1] - x0 - nx)]
    if min(min(p) for p in pad_yx) < 0:
        raise ValueError("subarray does not fit in the full frame")
    data_full = np.pad(array, [(0, 0)] * (array.ndim - 2) + pad_yx, constant_values=0)
    dq_full = np.pad(pixeldq, pad_yx, constant_values=DO_NOT_USE | REFERENCE_PIXEL)
    return data_full, dq_full


def split_reference_strips(array: Any) -> tuple[Any, Any, Any, Any]:
    """(bottom, top, left, right) reference strips of a detector-oriented (..., 2048, 2048) array (views)."""
    n = N_REFERENCE
    return array[..., :n, :], array[..., -n:, :], array[..., :, :n], array[..., :, -n:]


@numba.njit(cache=True, nogil=True)
def _strip_mean(strip, dq, col_start, col_stop, col_step, sigma):
    """Clipped mean of strip[:, col_start:col_stop:col_step] over good pixels; NaN when none."""
    nrows = strip.shape[0]
    values = np.empty(nrows * ((col_stop - col_start + col_step - 1) // col_step), dtype=np.float64)
    n = 0
    for r in range(nrows):
        for c in range(col_start, col_stop, col_step):
            if (dq[r, c] & DO_NOT_USE) == 0:
                values[n] = strip[r, c]
                n += 1
    return clipped_mean(values[:n], sigma, sigma)


@numba.njit(cache=True, nogil=True)
def _mean_of_available(a, b):
    """Average of a and b in float32; either alone when the other is NaN; NaN when both are."""
    if np.isnan(a):
        return b
    if np.isnan(b):
        return a
    return np.float32(0.5) * (a + b)


@numba.njit(cache=True, nogil=True)
def _reflected(k, nrows):
    """Row ``k`` of a window reflected at the strip's ends (``k`` may lie outside 0..nrows-1)."""
    return -k if k < 0 else (2 * (nrows - 1) - k if k >= nrows else k)


@numba.njit(cache=True, nogil=True)
def _window_median(ordered, n):
    """Median of the first ``n`` sorted float32 values, the middle pair averaged in float32 (as numpy)."""
    if n % 2 == 1:
        return np.float64(ordered[n // 2])
    return np.float64(np.float32(ordered[n // 2 - 1] + ordered[n // 2]) / np.float32(2.0))


@numba.njit(cache=True, nogil=True)
def _running_median_by_sorting(strip, dq, offsets, first_col, length):
    """:func:`_running_median` sorting every row's window afresh (used when a strip holds NaN)."""
    nrows, ncols = strip.shape
    half = length // 2
    result = np.empty(nrows, dtype=np.float64)
    window = np.empty(length * ncols, dtype=np.float32)
    for r in range(nrows):
        n = 0
        for k in range(r - half, r + half + 1):
            src = _reflected(k, nrows)
            for c in range(ncols):
                if (dq[src, c] & DO_NOT_USE) == 0:
                    window[n] = strip[src, c] - offsets[first_col + c]
                    n += 1
        if n == 0:
            result[r] = np.nan
            continue
        result[r] = _window_median(np.sort(window[:n]), n)
    return result


@numba.njit(cache=True, nogil=True)
def _window_update(ordered, n, strip, dq, offsets, first_col, row, add):
    """Insert (``add``) or remove the good values of ``row`` into/from the sorted ``ordered[:n]``; new n."""
    for c in range(strip.shape[1]):
        if (dq[row, c] & DO_NOT_USE) != 0:
            continue
        v = strip[row, c] - offsets[first_col + c]  # float32, as the sorting version computes it
        if add:
            j = n
            while j > 0 and ordered[j - 1] > v:
                ordered[j] = ordered[j - 1]
                j -= 1
            ordered[j] = v
            n += 1
        else:
            j = 0
            while ordered[j] != v:
                j += 1
            for m in range(j, n - 1):
                ordered[m] = ordered[m + 1]
            n -= 1
    return n


@numba.njit(cache=True, nogil=True)
def _running_median(strip, dq, offsets, first_col, length):
    """Per-row median of good pixels in a `length`-row window of strip (nrows, 4), reflected at the ends.

    The strip's values are first corrected by ``offsets[first_col + c]`` (float32). NaN where no good pixel.
    The window is kept sorted from row to row (one row leaves, one enters) rather than sorted per row: the
    same order statistics, ~10x less work for the 2048 rows of a full frame's side strips.
    """
    nrows, ncols = strip.shape
    for r in range(nrows):
        for c in range(ncols):
            if (dq[r, c] & DO_NOT_USE) == 0 and np.isnan(strip[r, c] - offsets[first_col + c]):
                return _running_median_by_sorting(strip, dq, offsets, first_col, length)
    half = length // 2
    result = np.empty(nrows, dtype=np.float64)
    ordered = np.empty(length * ncols, dtype=np.float32)
    n = 0
    for k in range(-half, half + 1):
        n = _window_update(ordered, n, strip, dq, offsets, first_col, _reflected(k, nrows), True)
    for r in range(nrows):
        result[r] = np.nan if n == 0 else _window_median(ordered, n)
        if r + 1 < nrows:
            n = _window_update(ordered, n, strip, dq, offsets, first_col, _reflected(r - half, nrows), False)
            n = _window_update(ordered, n, strip, dq, offsets, first_col, _reflected(r + half + 1, nrows), True)
    return result


@numba.njit(cache=True, parallel=True, nogil=True)
def _full_frame_offsets(bottom, top, left, right, bottom_dq, top_dq, left_dq, right_dq,
                        odd_even_columns, use_side, length, side_gain, sigma):
    nints, ngroups, _, ncols = bottom.shape
    nrows = left.shape[2]
    namps = ncols // AMPLIFIER_WIDTH
    column_offsets = np.zeros((nints, ngroups, ncols), dtype=np.float32)
    row_offsets = np.zeros((nints, ngroups, nrows), dtype=np.float64)
    for k in numba.prange(nints * ngroups):
        i = k // ngroups
        g = k % ngroups
        for a in range(namps):
            c0 = a * AMPLIFIER_WIDTH
            c1 = c0 + AMPLIFIER_WIDTH
            if odd_even_columns:
                signals = np.empty(2, dtype=np.float32)
                for p in range(2):
                    b = np.float32(_strip_mean(bottom[i, g], bottom_dq, c0 + p, c1, 2, sigma))
                    t = np.float32(_strip_mean(top[i, g], top_dq, c0 + p, c1, 2, sigma))
                    signals[p] = _mean_of_available(t, b)
                if not (np.isnan(signals[0]) or np.isnan(signals[1])):
                    for c in range(c0, c1):
                        column_offsets[i, g, c] = signals[(c - c0) % 2]
            else:
                b = np.float32(_strip_mean(bottom[i, g], bottom_dq, c0, c1, 1, sigma))
                t = np.float32(_strip_mean(top[i, g], top_dq, c0, c1, 1, sigma))
                signal = _mean_of_available(t, b)
                if not np.isnan(signal):
                    for c in range(c0, c1):
                        column_offsets[i, g, c] = signal
        if use_side:
            offs = column_offsets[i, g]
            lhs = _running_median(left[i, g], left_dq, offs, 0, length)
            rhs = _running_median(right[i, g], right_dq, offs, ncols - right.shape[3], length)
            for r in range(nrows):
                if np.isnan(lhs[r]) and np.isnan(rhs[r]):
                    combined = 0.0
                elif np.isnan(lhs[r]):
                    combined = rhs[r]
                elif np.isnan(rhs[r]):
                    combined = lhs[r]
                else:
                    combined = 0.5 * (lhs[r] + rhs[r])
                row_offsets[i, g, r] = side_gain * combined
    return column_offsets, row_offsets


def full_frame_offsets(
    bottom: np.ndarray,
    top: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    bottom_dq: np.ndarray,
    top_dq: np.ndarray,
    left_dq: np.ndarray,
    right_dq: np.ndarray,
    odd_even_columns: bool = True,
    use_side_ref_pixels: bool = True,
    side_smoothing_length: int = 11,
    side_gain: float = 1.0,
    siglimit: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Reduction (i) for full frames / 4-output subarrays, from the detector-oriented reference strips.

    Parameters
    ----------
    bottom, top : (nints, ngroups, 4, 2048) float32 DN, detector rows 0-3 and 2044-2047.
    left, right : (nints, ngroups, 2048, 4) float32 DN, detector columns 0-3 and 2044-2047.
    *_dq : the matching pixel DQ, (4, 2048) and (2048, 4) uint32.
    odd_even_columns, use_side_ref_pixels, side_smoothing_length, side_gain, siglimit : step parameters
        (upstream names and defaults).

    Returns
    -------
    column_offsets : (nints, ngroups, 2048) float32 DN per detector column.
    row_offsets : (nints, ngroups, 2048) float64 DN per detector row (side signal x side_gain; 0 if unused).
    """
    length = int(side_smoothing_length)
    if length % 2 == 0:
        length += 1

    def f32(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.float32)

    def u32(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=PIXEL_DTYPE)

    return _full_frame_offsets(
        f32(bottom), f32(top), f32(left), f32(right), u32(bottom_dq), u32(top_dq), u32(left_dq), u32(right_dq),
        bool(odd_even_columns), bool(use_side_ref_pixels), length, float(side_gain), float(siglimit),
    )


def sirs_kernels(gamma: np.ndarray, zeta: np.ndarray, gaussmooth: float = 1.0,
                 halfwidth: int = 30) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The SIRS convolution kernels of one detector, as jwst's ``make_kernels``.

    Parameters
    ----------
    gamma, zeta : (nchan, nfreq) float64 Fourier coefficients (SIRSKERNEL reference) of the left and right
        side columns' transfer to each output channel.
    gaussmooth : width (samples) of the Gaussian low-pass applied to each kernel; halfwidth : samples each side.

    Returns
    -------
    left, right : (nchan, 2 halfwidth + 1) float64 kernels.
    """
    x = np.arange(-halfwidth, halfwidth + 1)
    window = np.exp(-(x**2) / (2 * gaussmooth**2))
    window /= np.sum(window)
    kernels = []
    for coefficients in (gamma, zeta):
        per_channel = []
        for channel in np.asarray(coefficients):
            n = len(channel) - 1
            kernel = np.fft.fftshift(np.fft.irfft(channel))[n - halfwidth: n + halfwidth + 1]
            per_channel.append(np.convolve(kernel, window, mode="same"))
        kernels.append(np.array(per_channel))
    return kernels[0], kernels[1]


def sirs_row_offsets(left: np.ndarray, right: np.ndarray, column_offsets: np.ndarray, kernels_left: np.ndarray,
                     kernels_right: np.ndarray, sigreject: float = 4.0) -> np.ndarray:  # fmt: skip
    """Reduction (i) with ``refpix_algorithm="sirs"``: the side signal per detector row and output channel.

    Parameters
    ----------
    left, right : (nints, ngroups, 2048, 4) float32 DN, detector columns 0-3 and 2044-2047.
    column_offsets : (nints, ngroups, 2048) float32 DN of step 1 (subtracted from the strips first).
    kernels_left, kernels_right : (nchan, nk) from :func:`sirs_kernels`.
    sigreject : robust sigmas beyond which side pixels are left out.

    Returns
    -------
    (nints, ngroups, nchan, 2048) float64 DN, per channel and detector row.
    """
    nints, ngroups, nrows, width = left.shape
    ncols = column_offsets.shape[-1]
    nchan = len(kernels_left)
    out = np.zeros((nints, ngroups, nchan, nrows))
    for i in range(nints):
        for g in range(ngroups):
            sides = []
            for strip, first in ((left, 0), (right, ncols - width)):
                values = (strip[i, g] - column_offsets[i, g, first: first + width]).astype(float)
                centre = np.median(values)
                spread = 1.48 * np.median(np.abs(values - centre))
                good = 1 * (np.abs(values - centre) <= sigreject * spread)
                sides.append((np.sum(values * good, axis=1) / 4, np.sum(good, axis=1)))
            (mean_l, n_l), (mean_r, n_r) = sides
            for c in range(nchan):
                k_l, k_r = kernels_left[c], kernels_right[c]
                norm_l = np.convolve(np.ones(n_l.shape), k_l, mode="same")
                norm_l /= np.convolve(n_l / 4, k_l, mode="same")
                norm_r = np.convolve(np.ones(n_r.shape), k_r, mode="same")
                norm_r /= np.convolve(n_r / 4, k_r, mode="same")
                template = np.convolve(mean_l, k_l, mode="same") * norm_l
                template += np.convolve(mean_r, k_r, mode="same") * norm_r
                out[i, g, c] = template
    return out


@numba.njit(cache=True, parallel=True, nogil=True)
def _single_output_offsets(data, dq, column_origin, odd_even_columns, sigma):
    nints, ngroups, ny, nx = data.shape
    out = np.zeros((nints, ngroups, nx), dtype=np.float32)
    for k in numba.prange(nints * ngroups):
        i = k // ngroups
        g = k % ngroups
        nclass = 2 if odd_even_columns else 1
        for p in range(nclass):
            values = np.empty(ny * nx, dtype=np.float64)
            n = 0
            for y in range(ny):
                for x in range(nx):
                    flags = dq[y, x]
                    is_ref = (flags & REFERENCE_PIXEL) != 0 and (flags & DO_NOT_USE) == 0
                    if is_ref and (nclass == 1 or (x + column_origin) % 2 == p):
                        values[n] = data[i, g, y, x]
                        n += 1
            signal = np.float32(clipped_mean(values[:n], sigma, sigma))
            if np.isnan(signal):
                signal = np.float32(0.0)
            for x in range(nx):
                if nclass == 1 or (x + column_origin) % 2 == p:
                    out[i, g, x] = signal
    return out


def single_output_offsets(
    data: np.ndarray, pixeldq: np.ndarray, column_origin: int, odd_even_columns: bool = True, siglimit: float = 3.0
) -> np.ndarray:
    """Reduction (i) for one-output subarrays, on the whole subarray in DETECTOR orientation.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN, detector orientation.
    pixeldq : (ny, nx) uint32, detector orientation (REFERENCE_PIXEL marks reference pixels; jwst adds it to
        the 4 outer detector columns of the NIRSpec SUB32/SUB512/SUB512S subarrays).
    column_origin : full-frame detector column of column 0 (sets the parity).

    Returns
    -------
    column_offsets : (nints, ngroups, nx) float32 DN per detector column (0 where no reference pixel).
    """
    return _single_output_offsets(
        np.ascontiguousarray(data, dtype=np.float32), np.ascontiguousarray(pixeldq, dtype=PIXEL_DTYPE),
        int(column_origin), bool(odd_even_columns), float(siglimit),
    )


def subtract_offsets(
    data: np.ndarray, column_offsets: np.ndarray, row_offsets: np.ndarray | None, columns_along_x: bool
) -> np.ndarray:
    """Apply kernel (ii): subtract the reduced offsets from one DMS-oriented chunk.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN, DMS orientation.
    column_offsets : (nints, ngroups, n) float32, per detector column, re-indexed along the chunk's DMS axis
        (x when ``columns_along_x``, i.e. not transposed; else y). Subtracted first, in float32.
    row_offsets : (nints, ngroups, m) float64 per detector row along the other DMS axis, or None (zeros).
        Subtracted second, in float64, result rounded to float32.
    columns_along_x : ``not orientation.is_transposed(FASTAXIS)``.

    Returns
    -------
    (nints, ngroups, ny, nx) float32, new array.
    """
    corrections = Corrections(column_offsets=column_offsets, row_offsets=row_offsets, columns_along_x=columns_along_x)
    return apply_corrections(data, None, corrections)
