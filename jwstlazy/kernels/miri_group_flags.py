"""firstframe and lastframe (MIRI): flag the first / last group DO_NOT_USE.

Matches ``jwst.firstframe.firstframe_sub`` and ``jwst.lastframe.lastframe_sub`` (jwst 3.0).
* lastframe: with more than 2 groups, every pixel's last group gets DO_NOT_USE; otherwise nothing.
* firstframe (off by default in calwebb_detector1): with more than 3 groups, the first group gets
  DO_NOT_USE; with ``bright_use_group1`` (default True) pixels whose third group is SATURATED keep their first
  group and, if that happens in any integration, get FLUX_ESTIMATED in PIXELDQ.
Per-pixel; no halo.
"""

from __future__ import annotations

import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, FLUX_ESTIMATED, GROUP_DTYPE, PIXEL_DTYPE, SATURATED

__all__ = ["flag_last_group", "flag_first_group"]


def flag_last_group(groupdq: np.ndarray) -> np.ndarray:
    """groupdq (nints, ngroups, ny, nx) uint8 -> new array with the last group DO_NOT_USE when ngroups > 2."""
    out = np.array(groupdq, dtype=GROUP_DTYPE)
    if out.shape[1] > 2:
        out[:, -1] |= DO_NOT_USE
    return out


def flag_first_group(
    groupdq: np.ndarray, pixeldq: np.ndarray, bright_use_group1: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """groupdq (nints, ngroups, ny, nx) uint8, pixeldq (ny, nx) uint32 -> new (groupdq, pixeldq)."""
    out = np.array(groupdq, dtype=GROUP_DTYPE)
    pdq = np.array(pixeldq, dtype=PIXEL_DTYPE)
    if out.shape[1] <= 3:
        return out, pdq
    if bright_use_group1:
        saturated_third = (out[:, 2] & SATURATED) != 0
        out[:, 0] |= np.where(saturated_third, 0, DO_NOT_USE).astype(GROUP_DTYPE)
        pdq[saturated_third.any(axis=0)] |= FLUX_ESTIMATED
    else:
        out[:, 0] |= DO_NOT_USE
    return out, pdq
