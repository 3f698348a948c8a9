"""group_scale: rescale groups averaged on board with FRMDIVSR != NFRAMES.

Matches ``jwst.group_scale`` (jwst 3.0): every group is multiplied by FRMDIVSR / NFRAMES (float32). The step
is skipped when NFRAMES is missing, when FRMDIVSR is missing and NFRAMES is a power of 2, or when
FRMDIVSR == NFRAMES (``group_scale_needed``).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["group_scale_needed", "group_scale_factor", "scale_groups"]


def group_scale_needed(nframes: int | None, frame_divisor: int | None) -> bool:
    """Whether jwst would apply the correction for these NFRAMES / FRMDIVSR values."""
    if nframes is None:
        return False
    if frame_divisor is None:
        # jwst skips when NFRAMES is a power of 2; otherwise do_correction finds no divisor and skips too.
        return False
    return int(nframes) != int(frame_divisor)


def group_scale_factor(nframes: int, frame_divisor: int) -> float:
    """FRMDIVSR / NFRAMES."""
    return float(frame_divisor) / nframes


@numba.njit(cache=True, parallel=True, nogil=True)
def _scale(data, factor):
    flat = data.reshape(-1)
    out = np.empty_like(flat)
    for k in numba.prange(flat.size):
        out[k] = flat[k] * factor
    return out.reshape(data.shape)


def scale_groups(data: np.ndarray, nframes: int, frame_divisor: int) -> np.ndarray:
    """Multiply a ramp chunk (nints, ngroups, ny, nx) float32 DN by FRMDIVSR / NFRAMES; returns a new array."""
    factor = np.float32(group_scale_factor(nframes, frame_divisor))
    return _scale(np.ascontiguousarray(data, dtype=np.float32), factor)
