"""charge_migration: flag groups of bright pixels, and of their 4 neighbours, CHARGELOSS | DO_NOT_USE.

Matches ``jwst.charge_migration.charge_migration.charge_migration`` (jwst 3.0; off by default in
calwebb_detector1, near-IR only):

* A "trigger" is a group whose value is strictly above ``signal_threshold`` (default 25000 DN) and whose
  INPUT group DQ is not exactly DO_NOT_USE (upstream tests ``gdq != DNU``, an equality: a group flagged
  DO_NOT_USE | SATURATED still triggers; NaN never does).
* For a trigger in group g of integration i at pixel (y, x), groups g, g+1, ..., ngroups-1 of that
  integration get CHARGELOSS | DO_NOT_USE at (y, x) and at its 4 edge neighbours (y±1, x), (y, x±1) that lie
  inside the array (no wrap-around, no diagonals).
* Triggers are found on the input DQ, so flags added here never create new triggers.

Per pixel this is: ``first`` = the earliest trigger group (ngroups if none); every pixel is flagged from
``min(first)`` over itself and its 4 neighbours to the end of the integration.

Chunking: halo 1 in y and x. Call through ``dask.array.map_overlap`` with ``depth=CHARGE_MIGRATION_HALO``
and ``boundary="none"``; the array edge behaves as upstream (no neighbour beyond it).
"""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import CHARGELOSS, DO_NOT_USE, GROUP_DTYPE

__all__ = ["CHARGE_MIGRATION_HALO", "flag_charge_migration"]

#: Halo (pixels, in y and x) a chunk needs so that its interior is exact.
CHARGE_MIGRATION_HALO = 1

_CHLO_DNU = CHARGELOSS | DO_NOT_USE


@numba.njit(cache=True, parallel=True, nogil=True)
def _flag(data, gdq, threshold, out):
    nints, ngroups, ny, nx = data.shape
    for i in numba.prange(nints):
        first = np.full((ny, nx), ngroups, dtype=np.int64)
        for g in range(ngroups - 1, -1, -1):
            for y in range(ny):
                for x in range(nx):
                    if data[i, g, y, x] > threshold and gdq[i, g, y, x] != DO_NOT_USE:
                        first[y, x] = g
        for y in range(ny):
            for x in range(nx):
                start = first[y, x]
                if y > 0 and first[y - 1, x] < start:
                    start = first[y - 1, x]
                if y < ny - 1 and first[y + 1, x] < start:
                    start = first[y + 1, x]
                if x > 0 and first[y, x - 1] < start:
                    start = first[y, x - 1]
                if x < nx - 1 and first[y, x + 1] < start:
                    start = first[y, x + 1]
                for g in range(start, ngroups):
                    out[i, g, y, x] |= _CHLO_DNU


def flag_charge_migration(
    data: np.ndarray, groupdq: np.ndarray, signal_threshold: float = 25000.0
) -> np.ndarray:
    """Flag charge migration in one chunk (with a halo of ``CHARGE_MIGRATION_HALO`` pixels).

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN.
    groupdq : (nints, ngroups, ny, nx) uint8.
    signal_threshold : DN; compared in float32 (as NumPy 2 compares a float32 array with a Python float).

    Returns
    -------
    groupdq : (nints, ngroups, ny, nx) uint8, new array with CHARGELOSS | DO_NOT_USE added.
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    gdq = np.ascontiguousarray(groupdq, dtype=GROUP_DTYPE)
    out = gdq.copy()
    _flag(data, gdq, np.float32(signal_threshold), out)
    return out
