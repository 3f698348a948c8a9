"""rscd (MIRI): flag the first groups of each integration DO_NOT_USE (reset switch charge decay).

Matches ``jwst.rscd.rscd_sub`` (jwst 3.0), which only FLAGS groups (no correction is subtracted any more):

1. ``rscd_group_skip``: the RSCD reference table ``RSCD_GROUP_SKIP`` (columns subarray, readpatt, group_skip1,
   group_skip) is searched for the first row whose subarray and readpatt equal the exposure's SUBARRAY and
   READPATT exactly (SUBPRISM is renamed SLITLESSPRISM first). No row: the step is SKIPPED. group_skip1 < 0
   (deprecated files) becomes 1.
2. ``rscd_skip_counts`` adjusts the counts to the readout: ngroups < 3 -> SKIPPED; ngroups <= 5 -> 1 and 1;
   then each count is lowered to max(0, ngroups - 3) if ngroups < count + 3 (the int-2+ count only when
   nints > 1).
3. ``flag_rscd`` per pixel and integration: exposure integration 0 (INTSTART = 1 and the first integration)
   uses ``skip_int1``, every later one ``skip_int2p``. Saturation back-off: starting with group index
   skip + 1 (the second group kept) and walking down to index 1, while that group is SATURATED (and group 0
   is not), the count is lowered by 1 (floor 0). Pixels whose count was lowered in any integration get
   FLUX_ESTIMATED in PIXELDQ. Groups 0 .. count-1 get DO_NOT_USE.

Difference: upstream's back-off loop runs over the whole array at once and stops at the first level where no
pixel at all is SATURATED; we walk each pixel down while ITS group is SATURATED. The two agree whenever the
SATURATED flags are monotonic in time (once saturated, saturated to the end of the integration), which the
saturation step guarantees; they could differ only on hand-made DQ with saturation gaps.

Per pixel: no halo. ``first_integration`` = INTSTART - 1 + the chunk's integration offset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, FLUX_ESTIMATED, GROUP_DTYPE, PIXEL_DTYPE, SATURATED

__all__ = ["rscd_group_skip", "rscd_skip_counts", "flag_rscd"]


def rscd_group_skip(
    subarrays: Sequence[str],
    readpatts: Sequence[str],
    group_skip1: Sequence[int],
    group_skip: Sequence[int],
    subarray: str,
    readpatt: str,
) -> tuple[int, int] | None:
    """(skip_int1, skip_int2p) from the RSCD_GROUP_SKIP table columns, or None when no row matches."""
    if subarray.upper() == "SUBPRISM":
        subarray = "SLITLESSPRISM"
    for sub, patt, skip1, skip in zip(subarrays, readpatts, group_skip1, group_skip):
        if str(sub) == subarray and str(patt) == readpatt:
            skip1 = int(skip1)
            return (1 if skip1 < 0 else skip1), int(skip)
    return None


def rscd_skip_counts(skip_int1: int, skip_int2p: int, ngroups: int, nints: int) -> tuple[int, int] | None:
    """Counts adjusted to the readout (NGROUPS, NINTS of the whole exposure); None = step SKIPPED (< 3 groups)."""
    if ngroups < 3:
        return None
    if ngroups <= 5:
        skip_int1 = skip_int2p = 1
    if ngroups < skip_int1 + 3:
        skip_int1 = max(0, ngroups - 3)
    if nints > 1 and ngroups < skip_int2p + 3:
        skip_int2p = max(0, ngroups - 3)
    return int(skip_int1), int(skip_int2p)


@numba.njit(cache=True, parallel=True, nogil=True)
def _flag(gdq, pdq, first_integration, skip_int1, skip_int2p):
    nints, ngroups, ny, nx = gdq.shape
    lowered = np.zeros((nints, ny, nx), dtype=np.bool_)
    for y in numba.prange(ny):
        for i in range(nints):
            skip0 = skip_int1 if first_integration + i == 0 else skip_int2p
            for x in range(nx):
                skip = skip0
                if (gdq[i, 0, y, x] & SATURATED) == 0:
                    level = skip0 + 1  # 0-based index of the second group kept
                    while level >= 1 and level < ngroups and (gdq[i, level, y, x] & SATURATED) != 0:
                        skip = max(skip - 1, 0)
                        level -= 1
                if skip < skip0:
                    lowered[i, y, x] = True
                for g in range(min(skip, ngroups)):
                    gdq[i, g, y, x] |= DO_NOT_USE
            for x in range(nx):
                if lowered[i, y, x]:
                    pdq[y, x] |= FLUX_ESTIMATED


def flag_rscd(
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    skip_int1: int,
    skip_int2p: int,
    first_integration: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Flag RSCD-affected groups of one chunk.

    Parameters
    ----------
    groupdq : (nints, ngroups, ny, nx) uint8 (the chunk's integrations).
    pixeldq : (ny, nx) uint32.
    skip_int1, skip_int2p : counts from ``rscd_skip_counts``.
    first_integration : 0-based exposure integration number of the chunk's first integration
        (INTSTART - 1 + chunk offset); only exposure integration 0 uses ``skip_int1``.

    Returns
    -------
    groupdq : (nints, ngroups, ny, nx) uint8, new array (DO_NOT_USE added).
    pixeldq : (ny, nx) uint32, new array (FLUX_ESTIMATED added where the count was lowered).
    """
    gdq = np.array(groupdq, dtype=GROUP_DTYPE, order="C")
    pdq = np.array(pixeldq, dtype=PIXEL_DTYPE, order="C")
    _flag(gdq, pdq, int(first_integration), int(skip_int1), int(skip_int2p))
    return gdq, pdq
