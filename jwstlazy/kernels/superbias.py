"""superbias: subtract the superbias image from every group.

Matches ``jwst.superbias.bias_sub`` (jwst 3.0): NaN superbias values become 0 (no flag is set), the superbias
DQ is ORed into PIXELDQ, every group of every integration has the bias subtracted (float32 arithmetic), and
the ZEROFRAME (when present) is corrected the same way except where it is exactly 0 (0 marks unusable
ZEROFRAME data and stays 0).
"""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import PIXEL_DTYPE
from jwstlazy.kernels.corrections import Corrections, apply_corrections

__all__ = ["clean_bias", "subtract_superbias", "subtract_superbias_zeroframe"]


def clean_bias(superbias: np.ndarray) -> np.ndarray:
    """The superbias image (ny, nx) as float32 with NaN replaced by 0, as jwst subtracts it."""
    bias = np.asarray(superbias, dtype=np.float32)
    return np.where(np.isnan(bias), np.float32(0.0), bias)


@numba.njit(cache=True, nogil=True)
def _subtract_zeroframe(zeroframe, bias):
    nints, ny, nx = zeroframe.shape
    out = np.empty_like(zeroframe)
    for i in range(nints):
        for y in range(ny):
            for x in range(nx):
                value = zeroframe[i, y, x]
                out[i, y, x] = 0.0 if value == 0.0 else value - bias[y, x]
    return out


def subtract_superbias(
    data: np.ndarray, pixeldq: np.ndarray, superbias: np.ndarray, superbias_dq: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the superbias from one chunk.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN.
    pixeldq : (ny, nx) uint32.
    superbias : (ny, nx) float32 DN (SUPERBIAS ``SCI``), NaN allowed (treated as 0).
    superbias_dq : (ny, nx) uint32 (SUPERBIAS ``DQ``).

    Returns
    -------
    data : (nints, ngroups, ny, nx) float32, new array.
    pixeldq : (ny, nx) uint32, ``pixeldq | superbias_dq``.
    """
    out = apply_corrections(data, None, Corrections(bias=clean_bias(superbias)))
    return out, np.bitwise_or(pixeldq, superbias_dq).astype(PIXEL_DTYPE)


def subtract_superbias_zeroframe(zeroframe: np.ndarray, superbias: np.ndarray) -> np.ndarray:
    """Subtract the superbias from a ZEROFRAME chunk (nints, ny, nx) float32; zeros stay zero."""
    return _subtract_zeroframe(np.asarray(zeroframe, dtype=np.float32), clean_bias(superbias))
