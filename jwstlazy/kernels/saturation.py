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

Chunking: two passes, so that only 1-byte flags cross chunk borders. :func:`flag_saturated_pixels` works
per pixel (own saturation, A/D floor, and the read-pattern tests as "hints"); :func:`grow_saturation` needs
neighbours: give it the uint8 group DQ and hints with a halo of ``saturation_halo(n_pix_grow_sat, nframes)``
pixels (``boundary="none"``); the array edge counts as "nothing saturated beyond", like scipy's binary
dilation used upstream. :func:`flag_saturation` runs both on one chunk.
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

__all__ = ["ATOD_LIMIT", "saturation_halo", "flag_saturation", "flag_saturated_pixels", "grow_saturation"]

#: Bits of the pass-1 hints: the group reaches the diluted threshold / the second-group test holds.
HINT_DILUTED, HINT_SECOND_GROUP = 1, 2

#: Hard DN limit of the 16-bit A-to-D converter (jwst.saturation.saturation.ATOD_LIMIT).
ATOD_LIMIT = 65535.0


def saturation_halo(n_pix_grow_sat: int, nframes: int | None = 1) -> int:
    """Halo (pixels, in y and x) a chunk needs so that its interior is exact.

    n for the forward pass; 2n when the read-pattern backward pass is active (NFRAMES > 1), because that pass
    tests the already grown flags of the next group and then grows its own flags again.
    """
    n = max(int(n_pix_grow_sat), 0)
    return 2 * n if nframes is not None and nframes > 1 else n


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True)
def _flag_pixels(data, gdq, hints, thresh, no_check, nframes, bias):
    """Pass 1, per pixel, in place: own SATURATED (a running tally) and A/D floor into ``gdq``; with
    NFRAMES > 1 the read-pattern tests of pass 2 into ``hints`` (HINT_DILUTED, HINT_SECOND_GROUP).

    data, gdq, hints: (nints, ngroups, ny, nx); thresh, no_check, bias: (ny, nx).
    """
    nints, ngroups, ny, nx = data.shape
    tally = np.zeros(nx, dtype=np.uint8)  # a row's pixels saturated so far in the integration
    for i in range(nints):
        for y in range(ny):  # a row at a time: its tally and thresholds stay in the L1 cache
            limit = thresh[y]
            for x in range(nx):
                tally[x] = 0
            for g in range(ngroups):
                values, flags = data[i, g, y], gdq[i, g, y]
                for x in range(nx):  # branch-free, vectorised
                    value = values[x]
                    tally[x] |= value >= limit[x]
                    flags[x] |= (SATURATED if tally[x] else 0) | ((AD_FLOOR | DO_NOT_USE) if value <= 0 else 0)
        if nframes <= 1:
            continue
        for g in range(ngroups - 1):
            mean_frame = g * nframes + (nframes + 1) / 2.0
            dilution = mean_frame / ((g + 1) * nframes)
            for y in range(ny):
                for x in range(nx):
                    factor = 1.0 if no_check[y, x] else dilution
                    if data[i, g, y, x] >= thresh[y, x] * factor:
                        hints[i, g, y, x] |= HINT_DILUTED
        if ngroups > 2:
            mean_first = (nframes + 1) / 2.0
            last_frame_third = 3.0 * nframes
            frames = np.float32(nframes)
            for y in range(ny):
                for x in range(nx):
                    # float32 / float64 mix as upstream, so that borderline pixels agree
                    t32 = np.float32(thresh[y, x])
                    b = bias[y, x]
                    d0 = data[i, 0, y, x]
                    d1 = data[i, 1, y, x]
                    signal_first = np.float64(d0 - b)
                    quiet = (signal_first / mean_first) * last_frame_third + np.float64(b) < np.float64(t32)
                    if quiet and (d1 - d0) > (t32 - d0) / frames:
                        hints[i, 1, y, x] |= HINT_SECOND_GROUP


@numba.njit(cache=True, nogil=True)
def _grow_integration(gdq, hints, n_grow, nframes):
    """Pass 2 on one integration, in place: gdq, hints (ngroups, ny, nx) uint8 (hints unused if NFRAMES <= 1)."""
    ngroups, ny, nx = gdq.shape
    sat_plane = np.zeros((ny, nx), dtype=np.bool_)
    if n_grow > 0:
        for g in range(ngroups):
            seen = np.uint8(0)  # the OR of the plane's flags: a branch-free scan, which the compiler vectorises
            for y in range(ny):
                for x in range(nx):
                    seen |= gdq[g, y, x]
            if seen & SATURATED:
                for y in range(ny):
                    for x in range(nx):
                        sat_plane[y, x] = (gdq[g, y, x] & SATURATED) != 0
                grown = _grow_box(sat_plane, n_grow)
                for y in range(ny):
                    for x in range(nx):
                        if grown[y, x]:
                            gdq[g, y, x] |= SATURATED
    if nframes <= 1:
        return  # no frame averaging: the read-pattern passes cannot flag anything new
    # Backward pass for saturation hidden by frame averaging (each group only reads the forward flags).
    partial = np.zeros((ny, nx), dtype=np.bool_)
    for g in range(ngroups - 2, -1, -1):
        any_flag = False
        for y in range(ny):
            for x in range(nx):
                hit = (
                    (hints[g, y, x] & HINT_DILUTED) != 0
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
        for y in range(ny):
            for x in range(nx):
                third_sat = (gdq[2, y, x] & SATURATED) != 0 and (gdq[1, y, x] & SATURATED) == 0
                if third_sat and (hints[1, y, x] & HINT_SECOND_GROUP) != 0:
                    gdq[1, y, x] |= DO_NOT_USE


@numba.njit(cache=True, nogil=True)
def _grow_all(gdq, hints, n_grow, nframes):
    for i in range(gdq.shape[0]):
        _grow_integration(gdq[i], hints[i], n_grow, nframes)


@numba.njit(cache=True, nogil=True)
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


def flag_saturated_pixels(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    sat_thresh: np.ndarray,
    sat_dq: np.ndarray,
    bias: np.ndarray | None = None,
    nframes: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pass 1 (per pixel, no neighbours): each pixel's own saturation, A/D floor and read-pattern tests.

    Arguments as :func:`flag_saturation`. Returns (groupdq, pixeldq, hints): new groupdq with the pixel's
    own SATURATED/AD_FLOOR flags, the pixel DQ with the saturation DQ, and (nints, ngroups, ny, nx) uint8
    hints for :func:`grow_saturation` (all zero unless NFRAMES > 1).
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    gdq = np.array(groupdq, dtype=GROUP_DTYPE, order="C")
    thresh, no_check, pdq = _effective_thresholds(
        np.ascontiguousarray(sat_thresh, dtype=np.float32),
        np.ascontiguousarray(sat_dq, dtype=PIXEL_DTYPE),
        np.ascontiguousarray(pixeldq, dtype=PIXEL_DTYPE),
    )
    bias_array = np.zeros(thresh.shape, np.float32) if bias is None else np.ascontiguousarray(bias, np.float32)
    read_nframes = 0 if nframes is None else int(nframes)
    hints = np.zeros(gdq.shape if read_nframes > 1 else (gdq.shape[0], 0, 0, 0), dtype=np.uint8)
    _flag_pixels(data, gdq, hints, thresh, no_check, read_nframes, bias_array)
    return gdq, pdq, hints


def grow_saturation(
    groupdq: np.ndarray, hints: np.ndarray, n_pix_grow_sat: int = 1, nframes: int | None = None,
    core: tuple[slice, slice] | None = None,
) -> np.ndarray:
    """Pass 2: grow SATURATED into (2n+1)^2 boxes and apply the read-pattern (NFRAMES > 1) flags.

    groupdq, hints: (nints, ngroups, ny, nx) uint8 from :func:`flag_saturated_pixels`, with a halo of
    ``saturation_halo(n, nframes)`` pixels where the chunk has neighbours; ``core`` = the (y, x) slices of
    the chunk inside the halo (None: the whole array). Returns the core's new groupdq.
    """
    gdq = np.array(groupdq, dtype=GROUP_DTYPE, order="C")
    read_nframes = 0 if nframes is None else int(nframes)
    if read_nframes > 1:
        hints = np.ascontiguousarray(hints, dtype=np.uint8)
    else:
        hints = np.zeros((gdq.shape[0], 0, 0, 0), dtype=np.uint8)
    _grow_all(gdq, hints, int(n_pix_grow_sat), read_nframes)
    return gdq if core is None else np.ascontiguousarray(gdq[..., core[0], core[1]])


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
    """Flag saturation and A/D floor in one chunk (both passes; exact in the interior beyond the halo).

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
    gdq, pdq, hints = flag_saturated_pixels(data, groupdq, pixeldq, sat_thresh, sat_dq, bias, nframes)
    gdq = grow_saturation(gdq, hints, n_pix_grow_sat, nframes)
    zf = None
    if zeroframe is not None:
        thresh, _, _ = _effective_thresholds(
            np.ascontiguousarray(sat_thresh, dtype=np.float32),
            np.ascontiguousarray(sat_dq, dtype=PIXEL_DTYPE),
            np.ascontiguousarray(pixeldq, dtype=PIXEL_DTYPE),
        )
        zf = _clean_zeroframe(np.ascontiguousarray(zeroframe, dtype=np.float32), thresh, int(n_pix_grow_sat))
    return gdq, pdq, zf
