"""ipc: inter-pixel capacitance correction by convolution with the IPC deconvolution kernel.

Matches ``jwst.ipc.ipc_corr`` (jwst 3.0). Only the science region (reference pixels excluded: near-IR rows
and columns 0-3 / 2044-2047, MIRI columns 0-3 / 1028-1031, as far as the subarray contains them) is
convolved; reference pixels keep their values and count as 0 for their neighbours, as does everything
beyond the region. out[y, x] = sum_{j,i} k[j, i] * sci[y + kh - 1 - j - kh//2, x + kw - 1 - i - kw//2]
(a true convolution), summed in float32 over (j, i) in C order with the centre term added last. A 4-D kernel
(kh, kw, ny, nx) gives each output pixel its own kernel.

Chunking: ``dask.array.map_overlap`` with depth (kh // 2, kw // 2) in (y, x) and ``boundary="none"``; pass the
science region in the coordinates of the chunk including its halo (``science_rows`` / ``science_cols`` =
[start, stop) clipped to the chunk).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["ipc_halo", "convolve_ipc"]


def ipc_halo(kernel_shape: tuple[int, ...]) -> tuple[int, int]:
    """(y, x) halo a chunk needs: the kernel half sizes (kh // 2, kw // 2)."""
    kh, kw = kernel_shape[:2]
    return kh // 2, kw // 2


@numba.njit(cache=True, nogil=True)
def _sample(plane, y, x, y0, y1, x0, x1):
    if y < y0 or y >= y1 or x < x0 or x >= x1:
        return np.float32(0.0)
    return plane[y, x]


@numba.njit(cache=True, parallel=True, nogil=True)
def _convolve(data, kernel4, y0, y1, x0, x1):
    nints, ngroups, ny, nx = data.shape
    kh, kw = kernel4.shape[0], kernel4.shape[1]
    per_pixel = kernel4.shape[2] > 1
    bh, lh = kh // 2, kw // 2
    out = data.copy()
    for y in numba.prange(y0, y1):
        for i in range(nints):
            for g in range(ngroups):
                plane = data[i, g]
                for x in range(x0, x1):
                    ky = y if per_pixel else 0
                    kx = x if per_pixel else 0
                    total = np.float32(0.0)
                    for j in range(kh):
                        for ii in range(kw):
                            if j == bh and ii == lh:
                                continue
                            value = _sample(plane, y + kh - 1 - j - bh, x + kw - 1 - ii - lh, y0, y1, x0, x1)
                            total += kernel4[j, ii, ky, kx] * value
                    total += kernel4[bh, lh, ky, kx] * plane[y, x]
                    out[i, g, y, x] = total
    return out


def convolve_ipc(
    data: np.ndarray,
    kernel: np.ndarray,
    science_rows: tuple[int, int] | None = None,
    science_cols: tuple[int, int] | None = None,
) -> np.ndarray:
    """IPC-correct one chunk.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN.
    kernel : (kh, kw) float32, or (kh, kw, ny, nx) per-pixel kernel cut to the chunk (IPC ``SCI``).
    science_rows, science_cols : [start, stop) of the science region in chunk coordinates (default: all).

    Returns
    -------
    (nints, ngroups, ny, nx) float32, new array.
    """
    ny, nx = data.shape[-2:]
    y0, y1 = science_rows if science_rows is not None else (0, ny)
    x0, x1 = science_cols if science_cols is not None else (0, nx)
    k = np.asarray(kernel, dtype=np.float32)
    kernel4 = k[:, :, None, None] if k.ndim == 2 else k
    return _convolve(
        np.ascontiguousarray(data, dtype=np.float32), np.ascontiguousarray(kernel4),
        int(y0), int(y1), int(x0), int(x1),
    )
