"""reset (MIRI): subtract the reset-anomaly reference from the first groups of each integration.

Matches ``jwst.reset.reset_sub`` (jwst 3.0): NaN reset values become 0; groups j < min(reset ngroups, science
ngroups) of exposure integration n (0-based, INTSTART - 1 + index in the file) get RESET[min(n, reset nints
- 1), j] subtracted (float32); PIXELDQ |= reset DQ. Per-pixel; no halo.
"""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import PIXEL_DTYPE

__all__ = ["subtract_reset"]


@numba.njit(cache=True, parallel=True, nogil=True)
def _subtract(data, reset, first_integration):
    nints, ngroups, ny, nx = data.shape
    reset_nints, reset_ngroups = reset.shape[0], reset.shape[1]
    ncorrect = min(ngroups, reset_ngroups)
    out = data.copy()
    for y in numba.prange(ny):
        for i in range(nints):
            r = min(first_integration + i, reset_nints - 1)
            for g in range(ncorrect):
                for x in range(nx):
                    value = reset[r, g, y, x]
                    if not np.isnan(value):
                        out[i, g, y, x] = data[i, g, y, x] - value
    return out


def subtract_reset(
    data: np.ndarray,
    pixeldq: np.ndarray,
    reset: np.ndarray,
    reset_dq: np.ndarray,
    first_integration: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Reset-correct one chunk.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN.
    pixeldq : (ny, nx) uint32.
    reset : (reset_nints, reset_ngroups, ny, nx) float32 DN (RESET ``SCI``).
    reset_dq : (ny, nx) uint32 (RESET ``DQ``).
    first_integration : 0-based exposure integration number of the chunk's first integration
        (INTSTART - 1 + the chunk's offset in the file).

    Returns
    -------
    data : new float32 array; pixeldq : new uint32 array.
    """
    out = _subtract(
        np.ascontiguousarray(data, dtype=np.float32), np.ascontiguousarray(reset, dtype=np.float32),
        int(first_integration),
    )
    return out, np.bitwise_or(pixeldq, reset_dq).astype(PIXEL_DTYPE)
