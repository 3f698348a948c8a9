"""dq_init: initialise the pixel and group DQ arrays from the MASK reference.

Matches ``jwst.dq_init.dq_initialization.do_dqinit`` (jwst 3.0): the mask DQ (ORed with an optional
user-supplied DQ) is ORed into PIXELDQ, and its DO_NOT_USE bit is ORed into every group of GROUPDQ so that no
ramp is fitted to a bad pixel. NON_SCIENCE and the other mask bits stay pixel-level only.
"""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, GROUP_DTYPE, PIXEL_DTYPE

__all__ = ["initialize_dq"]


@numba.njit(cache=True, parallel=True, nogil=True)
def _or_mask_into_dq(pixeldq, groupdq, mask_dq):
    nints, ngroups, ny, nx = groupdq.shape
    for y in numba.prange(ny):
        for x in range(nx):
            mask = mask_dq[y, x]
            pixeldq[y, x] |= mask
            if mask & DO_NOT_USE:
                for i in range(nints):
                    for g in range(ngroups):
                        groupdq[i, g, y, x] |= DO_NOT_USE


def initialize_dq(
    mask_dq: np.ndarray,
    ramp_shape: tuple[int, int, int, int],
    pixeldq: np.ndarray | None = None,
    groupdq: np.ndarray | None = None,
    user_dq: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Initialise PIXELDQ and GROUPDQ of one chunk from the mask.

    Parameters
    ----------
    mask_dq : (ny, nx) uint32, the MASK reference DQ cut to the chunk.
    ramp_shape : (nints, ngroups, ny, nx) of the science chunk.
    pixeldq : (ny, nx) uint32 existing pixel DQ, or None for zeros.
    groupdq : (nints, ngroups, ny, nx) uint8 existing group DQ, or None for zeros.
    user_dq : (ny, nx) integer, optional user-supplied DQ ORed into the mask (``user_supplied_dq``).

    Returns
    -------
    pixeldq : (ny, nx) uint32, new array.
    groupdq : (nints, ngroups, ny, nx) uint8, new array.
    """
    mask = np.asarray(mask_dq, dtype=PIXEL_DTYPE)
    if user_dq is not None:
        if np.shape(user_dq) != mask.shape:
            raise ValueError(f"user_dq has shape {np.shape(user_dq)} but expecting {mask.shape}")
        mask = mask | np.asarray(user_dq).astype(PIXEL_DTYPE)
    ny, nx = ramp_shape[-2:]
    if mask.shape != (ny, nx):
        raise ValueError(f"mask has shape {mask.shape} but the chunk is {(ny, nx)}")
    pixel_out = (
        np.zeros((ny, nx), dtype=PIXEL_DTYPE) if pixeldq is None else np.array(pixeldq, dtype=PIXEL_DTYPE)
    )
    group_out = (
        np.zeros(ramp_shape, dtype=GROUP_DTYPE) if groupdq is None else np.array(groupdq, dtype=GROUP_DTYPE)
    )
    _or_mask_into_dq(pixel_out, group_out, np.ascontiguousarray(mask))
    return pixel_out, group_out
