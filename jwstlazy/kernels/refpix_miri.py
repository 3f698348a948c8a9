"""refpix (MIRI): reference-pixel correction from the left and right reference columns.

Matches ``jwst.refpix.reference_pixels.MIRIDataset`` (jwst 3.0), full frame only (subarrays are skipped
upstream). Per integration, the first group is subtracted from every group; then for each group after the
first, per amplifier (detector column % 4) and, with ``odd_even_rows``, per row parity, the sigma-clipped mean
(``siglimit``, DO_NOT_USE excluded) of the left reference column (0-3) and of the right one (1028-1031) are
averaged and subtracted from every pixel of that amplifier (and parity); the first group is added back.
Group 0 is unchanged. Upstream stops correcting at the first (integration, group) whose reference pixels
are all DO_NOT_USE and never resumes (later groups and integrations keep only the round trip).

Dask split: (i) REDUCTION ``miri_reference_offsets`` on the two 4-column strips (all rows, all groups) ->
offsets (nints, ngroups, 4, 2) float32; (ii) per-chunk APPLY ``subtract_miri_offsets`` (no halo; needs
group 0 of the chunk, which every chunk has, and the chunk's origin for the amplifier/parity phase).
"""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, PIXEL_DTYPE
from jwstlazy.kernels.sigma_clip import clipped_mean

__all__ = ["MIRI_RIGHT_REFERENCE_START", "miri_reference_offsets", "subtract_miri_offsets"]

#: First column of the right reference columns in the MIRI full frame (1032 columns).
MIRI_RIGHT_REFERENCE_START = 1028


@numba.njit(cache=True, nogil=True)
def _column_mean(strip, first, dq, column, row_start, row_step, sigma):
    """Clipped mean of (strip - first)[row_start::row_step, column] over good pixels (float32 differences)."""
    nrows = strip.shape[0]
    values = np.empty((nrows - row_start + row_step - 1) // row_step, dtype=np.float64)
    n = 0
    for r in range(row_start, nrows, row_step):
        if (dq[r, column] & DO_NOT_USE) == 0:
            values[n] = strip[r, column] - first[r, column]
            n += 1
    return clipped_mean(values[:n], sigma, sigma)


@numba.njit(cache=True, nogil=True)
def _offsets(left, right, left_dq, right_dq, odd_even_rows, sigma):
    nints, ngroups, nrows, _ = left.shape
    out = np.zeros((nints, ngroups, 4, 2), dtype=np.float32)
    signals = np.zeros((4, 2), dtype=np.float32)
    for i in range(nints):
        for g in range(1, ngroups):
            for amp in range(4):
                for p in range(2 if odd_even_rows else 1):
                    start, step = (p, 2) if odd_even_rows else (0, 1)
                    lhs = np.float32(_column_mean(left[i, g], left[i, 0], left_dq, amp, start, step, sigma))
                    rhs = np.float32(_column_mean(right[i, g], right[i, 0], right_dq, amp, start, step, sigma))
                    if np.isnan(lhs) or np.isnan(rhs):
                        return out  # upstream corrects nothing of this group, and stops for good
                    signals[amp, p] = np.float32(0.5) * (lhs + rhs)
                if not odd_even_rows:
                    signals[amp, 1] = signals[amp, 0]
            out[i, g] = signals
    return out


def miri_reference_offsets(
    left: np.ndarray,
    right: np.ndarray,
    left_dq: np.ndarray,
    right_dq: np.ndarray,
    odd_even_rows: bool = True,
    siglimit: float = 3.0,
) -> np.ndarray:
    """Reduction (i): per (integration, group, amplifier, row parity) offsets.

    Parameters
    ----------
    left, right : (nints, ngroups, 1024, 4) float32 DN, columns 0-3 and 1028-1031 (column k = amplifier k).
    left_dq, right_dq : (1024, 4) uint32 pixel DQ of those columns.

    Returns
    -------
    (nints, ngroups, 4, 2) float32 DN; [..., amp, p] applies to columns with column % 4 == amp and rows with
    row % 2 == p. Group 0, and everything from the first group without good reference pixels on, is 0.
    """
    return _offsets(
        np.ascontiguousarray(left, dtype=np.float32), np.ascontiguousarray(right, dtype=np.float32),
        np.ascontiguousarray(left_dq, dtype=PIXEL_DTYPE), np.ascontiguousarray(right_dq, dtype=PIXEL_DTYPE),
        bool(odd_even_rows), float(siglimit),
    )


@numba.njit(cache=True, parallel=True, nogil=True)
def _subtract(data, offsets, row_origin, column_origin):
    nints, ngroups, ny, nx = data.shape
    out = data.copy()
    for y in numba.prange(ny):
        parity = (y + row_origin) % 2
        for i in range(nints):
            for g in range(1, ngroups):
                for x in range(nx):
                    first = data[i, 0, y, x]
                    relative = data[i, g, y, x] - first
                    out[i, g, y, x] = (relative - offsets[i, g, (x + column_origin) % 4, parity]) + first
    return out


def subtract_miri_offsets(
    data: np.ndarray, offsets: np.ndarray, row_origin: int = 0, column_origin: int = 0
) -> np.ndarray:
    """Apply kernel (ii) on one chunk.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN (all groups of the chunk).
    offsets : (nints, ngroups, 4, 2) float32 from ``miri_reference_offsets`` (integrations of this chunk).
    row_origin, column_origin : full-frame row and column of the chunk's first pixel.

    Returns
    -------
    (nints, ngroups, ny, nx) float32, new array: ((data - group0) - offset) + group0 in float32, as upstream.
    """
    return _subtract(
        np.ascontiguousarray(data, dtype=np.float32), np.ascontiguousarray(offsets, dtype=np.float32),
        int(row_origin), int(column_origin),
    )
