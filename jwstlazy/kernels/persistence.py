"""persistence: flag groups inside a per-pixel persistence time window (jwst 3.0 flagging model).

Matches ``jwst.persistence.persistence.DataSet`` (jwst 3.0). NOTE: jwst 3.0 no longer has the trap model
(TRAPDENSITY / TRAPPARS / PERSAT references, ``_trapsfilled`` products, subtraction of predicted
persistence); it only FLAGS. Its state, carried from one exposure of a detector to the next (upstream:
``save_persistence`` / ``persistence_array_file``, an ASDF file of per-detector non-zero rows, cols, vals and
``pers_time``), is the "persistence array": per pixel the Unix epoch time (s) at which the pixel's current
persistence window ends, 0 = no open window. ``persistence_time`` (s) has no default: without it upstream
FAILS the step; ``dn_threshold`` (DN) is optional; ``persistence_dnu`` (default False) adds DO_NOT_USE.

Per integration i: ``t`` = start time of the integration (INT_TIMES ``int_start_MJD_UTC`` converted to epoch
seconds when the table has row i, else EXPSTART + i x EFFINTTM, see ``integration_start_epochs``); a count of
SATURATED groups starts at 0. Per group (t += TGROUP first, accumulated in float64):

1. windows that ended (P < t) are closed: P = 0; ``window_end`` = t + persistence_time;
2. a SATURATED group increments the count; while the count equals 1 (the first saturated group and every
   following group up to the next SATURATED one) P = window_end;
3. with ``dn_threshold``: where value > dn_threshold (float32 comparison) and P <= 0, P = window_end;
4. "backwards" windows (P != 0 and P > window_end) are reset to 0;
5. P > 0 -> the group gets PERSISTENCE (| DO_NOT_USE with ``persistence_dnu``).

Chunking: per pixel, no halo, but the state runs through all integrations in order: a chunk must hold ALL
integrations of the exposure (``{"integration": -1}``). The returned state is the next exposure's input.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, GROUP_DTYPE, PERSISTENCE, SATURATED

__all__ = ["mjd_to_epoch", "epoch_to_mjd", "integration_start_epochs", "flag_persistence"]


def mjd_to_epoch(mjd):
    """Modified Julian Date -> Unix epoch seconds (float64), as upstream."""
    return (np.asarray(mjd, dtype=np.float64) - 40587.0) * 86400.0


def epoch_to_mjd(epoch):
    """Unix epoch seconds -> Modified Julian Date."""
    return np.asarray(epoch, dtype=np.float64) / 86400.0 + 40587.0


def integration_start_epochs(
    nints: int,
    exposure_start_mjd: float,
    integration_time: float,
    int_start_mjd: Sequence[float] | None = None,
    first_integration: int = 0,
) -> np.ndarray:
    """Start time (epoch s, float64) of each of ``nints`` integrations held by the data.

    ``int_start_mjd``: the INT_TIMES ``int_start_MJD_UTC`` column (rows indexed like the data's integrations,
    as upstream), or None. Rows it lacks fall back to EXPSTART (``exposure_start_mjd``) +
    (``first_integration`` + i) x EFFINTTM (``integration_time``); upstream uses i (``first_integration`` 0).
    """
    epoch = float(mjd_to_epoch(exposure_start_mjd))
    out = np.empty(nints, dtype=np.float64)
    for i in range(nints):
        if int_start_mjd is not None and len(int_start_mjd) > i:
            out[i] = mjd_to_epoch(int_start_mjd[i])
        else:
            out[i] = epoch + (first_integration + i) * integration_time
    return out


@numba.njit(cache=True, parallel=True, nogil=True)
def _flag(data, gdq, state, starts, group_time, persistence_time, use_dn, dn_threshold, flag):
    nints, ngroups, ny, nx = data.shape
    for y in numba.prange(ny):
        count = np.zeros(nx, dtype=np.int64)
        for i in range(nints):
            t = starts[i]
            count[:] = 0
            for g in range(ngroups):
                t = t + group_time
                window_end = t + persistence_time
                for x in range(nx):
                    p = state[y, x]
                    if p < t:
                        p = 0.0
                    if (gdq[i, g, y, x] & SATURATED) != 0:
                        count[x] += 1
                    if count[x] == 1:
                        p = window_end
                    if use_dn and data[i, g, y, x] > dn_threshold and not p > 0.0:
                        p = window_end
                    if p != 0.0 and p - window_end > 0.0:
                        p = 0.0
                    if p > 0.0:
                        gdq[i, g, y, x] |= flag
                    state[y, x] = p


def flag_persistence(
    data: np.ndarray,
    groupdq: np.ndarray,
    persistence_array: np.ndarray | None,
    integration_starts: np.ndarray,
    group_time: float,
    persistence_time: float,
    dn_threshold: float | None = None,
    persistence_dnu: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Flag groups in persistence windows for one chunk holding all integrations.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN (used only with ``dn_threshold``).
    groupdq : (nints, ngroups, ny, nx) uint8.
    persistence_array : (ny, nx) float64 window end times (epoch s, 0 = none) from the previous exposure of
        this detector, or None (all zero).
    integration_starts : (nints,) float64 epoch s, see ``integration_start_epochs``.
    group_time : TGROUP, s.  persistence_time : s (> 0).
    dn_threshold : DN or None.  persistence_dnu : also set DO_NOT_USE.

    Returns
    -------
    groupdq : (nints, ngroups, ny, nx) uint8, new array.
    persistence_array : (ny, nx) float64, new array: the state after the last group (next exposure's input).
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    gdq = np.array(groupdq, dtype=GROUP_DTYPE, order="C")
    ny, nx = gdq.shape[2:]
    if persistence_array is None:
        state = np.zeros((ny, nx), dtype=np.float64)
    else:
        state = np.array(persistence_array, dtype=np.float64, order="C")
    starts = np.ascontiguousarray(integration_starts, dtype=np.float64)
    flag = PERSISTENCE | DO_NOT_USE if persistence_dnu else PERSISTENCE
    use_dn = dn_threshold is not None
    thr = np.float32(dn_threshold if use_dn else 0.0)
    _flag(data, gdq, state, starts, float(group_time), float(persistence_time), use_dn, thr, np.uint8(flag))
    return gdq, state
