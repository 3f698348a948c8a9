"""saturation: flag saturated groups, A/D-floor groups, and grow saturation to neighbours.

Matches ``stcal.saturation.saturation.flag_saturated_pixels`` as called by jwst 3.0's SaturationStep
(``n_pix_grow_sat=1``, ``use_readpatt=True``: read pattern of NFRAMES frames per group, GROUPGAP ignored):

1. Threshold: pixels whose SATURATION DQ has NO_SAT_CHECK, or whose threshold is NaN, get threshold
   ATOD_LIMIT + 1 = 65536 DN (never reached); NaN thresholds add NO_SAT_CHECK to the pixel DQ.
   PIXELDQ |= saturation DQ.
2. Forward pass, per integration and group: a group whose value is >= threshold is SATURATED, and so is every
   later group of the integration; a group whose value is <= 0 is AD_FLOOR | DO_NOT_USE (that group only).
   The SATURATED flags of each group are then grown into a (2n+1) x (2n+1) box (n = n_pix_grow_sat).
3. With a read pattern of NFRAMES > 1 frames per group ("dilution" = mean frame number / last frame number):
   backward pass from the second-to-last group: a group not yet SATURATED/DO_NOT_USE whose next group is
   SATURATED and whose value is >= threshold x dilution is flagged DO_NOT_USE, grown by the same box.
   Then (ngroups > 2) the second group is flagged DO_NOT_USE where the third is SATURATED and the second is
   not, the first group's bias-corrected signal extrapolated to the third group stays below threshold, and the
   jump from group 1 to 2 exceeds (threshold - group 1) / NFRAMES ("bias" = superbias SCI, NaN kept).
4. ZEROFRAME: values >= threshold (grown) or <= 0 are set to 0 (0 marks unusable ZEROFRAME data).

Chunking: the growth needs neighbours. Call through ``dask.array.map_overlap`` with
``depth = saturation_halo(n_pix_grow_sat, nframes)`` in y and x and ``boundary="none"``; the kernel treats
the array edge as "nothing saturated beyond", exactly like scipy's binary dilation used upstream.
"""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import (
    AD_FLOOR,
    DO_NOT_USE,
    GROUP_DTYPE,
    NO_SAT_CHECK,
    PIXEL_DTYPE,
    SATURATED,
)

__all__ = ["ATOD_LIMIT", "saturation_halo", "flag_saturation"]

#: Hard DN limit of the 16-bit A-to-D converter (jwst.saturation.saturation.ATOD_LIMIT).
ATOD_LIMIT = 65535.0


def saturation_halo(n_pix_grow_sat: int, nframes: int | None = 1) -> int:
    """Halo (pixels, in y and x) a chunk needs so that its interior is exact.

    n for the forward pass; 2n when the read-pattern backward pass is active (NFRAMES > 1), because that pass
    tests the already grown flags of the next group and then grows its own flags again.
    """
    n = max(int(n_pix_grow_sat), 0)
    return 2 * n if nframes is not None and nframes > 1 else n


@numba.njit(cache=True)
def _grow_box(mask, n):
    """Binary dilation of a 2-D boolean mask with a (2n+1)^2 box; outside the array counts as False."""
    ny, nx = mask.shape
    if n <= 0:
        return mask.copy()
    rows = np.zeros((ny, nx), dtype=np.bool_)
    for y in range(ny):
        for x in range(nx):
            if mask[y, x]:
                for xx in range(max(0, x - n), min(nx, x + n + 1)):
                    rows[y, xx] = True
    out = np.zeros((ny, nx), dtype=np.bool_)
    for y in range(ny):
        for x in range(nx):
            if rows[y, x]:
                for yy in range(max(0, y - n), min(ny, y + n + 1)):
                    out[yy, x] = True
    return out


@numba.njit(cache=True)
def _effective_thresholds(sat_thresh, sat_dq, pixeldq):
    ny, nx = sat_thresh.shape
    thresh = np.empty((ny, nx), dtype=np.float64)
    no_check = np.zeros((ny, nx), dtype=np.bool_)
    pdq = np.empty((ny, nx), dtype=np.uint32)
    for y in range(ny):
        for x in range(nx):
            value = sat_thresh[y, x]
            flags = sat_dq[y, x]
            if np.isnan(value):
                flags |= NO_SAT_CHECK
            pdq[y, x] = pixeldq[y, x] | flags
            if (flags & NO_SAT_CHECK) != 0:
                no_check[y, x] = True
                thresh[y, x] = ATOD_LIMIT + 1.0
            else:
                thresh[y, x] = value
    return thresh, no_check, pdq


@numba.njit(cache=True)
def _flag_integration(data, gdq, thresh, no_check, n_grow, nframes, bias):
    """Flag one integration in place: data (ngroups, ny, nx) float32, gdq (ngroups, ny, nx) uint8."""
    ngroups, ny, nx = data.shape
    # Forward pass: running tally of saturation, A/D floor on the current group, growth per group.
    tally = np.zeros((ny, nx), dtype=np.bool_)
    sat_plane = np.zeros((ny, nx), dtype=np.bool_)
    for g in range(ngroups):
        for y in range(ny):
            for x in range(nx):
                value = data[g, y, x]
                if value >= thresh[y, x]:
                    tally[y, x] = True
                flags = gdq[g, y, x]
                if tally[y, x]:
                    flags |= SATURATED
                if value <= 0:
                    flags |= AD_FLOOR | DO_NOT_USE
                gdq[g, y, x] = flags
                sat_plane[y, x] = (flags & SATURATED) != 0
        if n_grow > 0:
            grown = _grow_box(sat_plane, n_grow)
            for y in range(ny):
                for x in range(nx):
                    if grown[y, x]:
                        gdq[g, y, x] |= SATURATED
    if nframes <= 1:
        return  # no frame averaging: the read-pattern passes cannot flag anything new
    # Backward pass for saturation hidden by frame averaging.
    partial = np.zeros((ny, nx), dtype=np.bool_)
    for g in range(ngroups - 2, -1, -1):
        mean_frame = g * nframes + (nframes + 1) / 2.0
        dilution = mean_frame / ((g + 1) * nframes)
        any_flag = False
        for y in range(ny):
            for x in range(nx):
                factor = 1.0 if no_check[y, x] else dilution
                hit = (
                    data[g, y, x] >= thresh[y, x] * factor
                    and (gdq[g, y, x] & (SATURATED | DO_NOT_USE)) == 0
                    and (gdq[g + 1, y, x] & SATURATED) != 0
                )
                partial[y, x] = hit
                any_flag = any_flag or hit
        if any_flag:
            grown = _grow_box(partial, n_grow)
            for y in range(ny):
                for x in range(nx):
                    if grown[y, x]:
                        gdq[g, y, x] |= DO_NOT_USE
    # Second-group pass for saturation in the last frame of group 2.
    if ngroups > 2:
        mean_first = (nframes + 1) / 2.0
        last_frame_third = 3.0 * nframes
        frames = np.float32(nframes)
        for y in range(ny):
            for x in range(nx):
                # float32 / float64 mix as upstream, so that borderline pixels agree
                t32 = np.float32(thresh[y, x])
                b = bias[y, x]
                d0 = data[0, y, x]
                d1 = data[1, y, x]
                signal_first = np.float64(d0 - b)
                quiet = (signal_first / mean_first) * last_frame_third + np.float64(b) < np.float64(t32)
                jump = (d1 - d0) > (t32 - d0) / frames
                third_sat = (gdq[2, y, x] & SATURATED) != 0 and (gdq[1, y, x] & SATURATED) == 0
                if quiet and jump and third_sat:
                    gdq[1, y, x] |= DO_NOT_USE


@numba.njit(cache=True, parallel=True)
def _flag_all(data, gdq, thresh, no_check, n_grow, nframes, bias):
    nints = data.shape[0]
    for i in numba.prange(nints):
        _flag_integration(data[i], gdq[i], thresh, no_check, n_grow, nframes, bias)


@numba.njit(cache=True)
def _clean_zeroframe(zeroframe, thresh, n_grow):
    nints, ny, nx = zeroframe.shape
    out = zeroframe.copy()
    sat = np.zeros((ny, nx), dtype=np.bool_)
    for i in range(nints):
        for y in range(ny):
            for x in range(nx):
                sat[y, x] = zeroframe[i, y, x] >= thresh[y, x]
        grown = _grow_box(sat, n_grow)
        for y in range(ny):
            for x in range(nx):
                if grown[y, x] or zeroframe[i, y, x] <= 0:
                    out[i, y, x] = 0.0
    return out


def flag_saturation(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    sat_thresh: np.ndarray,
    sat_dq: np.ndarray,
    n_pix_grow_sat: int = 1,
    nframes: int | None = None,
    bias: np.ndarray | None = None,
    zeroframe: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Flag saturation and A/D floor in one chunk (with its halo, see ``saturation_halo``).

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN (raw counts; saturation runs before superbias).
    groupdq : (nints, ngroups, ny, nx) uint8.
    pixeldq : (ny, nx) uint32.
    sat_thresh : (ny, nx) float32 DN, SATURATION ``SCI``; NaN = no check.
    sat_dq : (ny, nx) uint32, SATURATION ``DQ``.
    n_pix_grow_sat : growth radius in pixels (upstream default 1; 0 disables).
    nframes : NFRAMES when ``use_readpatt`` (upstream default True), None to disable the read-pattern passes.
    bias : (ny, nx) float32 superbias SCI for the second-group pass, or None (0).
    zeroframe : (nints, ny, nx) float32 ZEROFRAME or None.

    Returns
    -------
    groupdq : (nints, ngroups, ny, nx) uint8, new array.
    pixeldq : (ny, nx) uint32, new array (with the saturation DQ and NO_SAT_CHECK for NaN thresholds).
    zeroframe : (nints, ny, nx) float32 with flagged values set to 0, or None.
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    gdq = np.array(groupdq, dtype=GROUP_DTYPE, order="C")
    thresh, no_check, pdq = _effective_thresholds(
        np.ascontiguousarray(sat_thresh, dtype=np.float32),
        np.ascontiguousarray(sat_dq, dtype=PIXEL_DTYPE),
        np.ascontiguousarray(pixeldq, dtype=PIXEL_DTYPE),
    )
    bias_array = (
        np.zeros(thresh.shape, dtype=np.float32)
        if bias is None
        else np.ascontiguousarray(bias, dtype=np.float32)
    )
    read_nframes = 0 if nframes is None else int(nframes)
    _flag_all(data, gdq, thresh, no_check, int(n_pix_grow_sat), read_nframes, bias_array)
    zf = None
    if zeroframe is not None:
        zf = _clean_zeroframe(np.ascontiguousarray(zeroframe, dtype=np.float32), thresh, int(n_pix_grow_sat))
    return gdq, pdq.astype(PIXEL_DTYPE), zf
