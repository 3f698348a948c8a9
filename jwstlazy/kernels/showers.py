"""MIRI shower flagging: faint extended emission around cosmic-ray showers (stcal 1.20 ``find_faint_extended``).

MIRI showers leave a faint halo, tens of pixels wide, that the two-point detection does not flag. After
jump detection (``find_showers``):

1. Work in electrons: data and read noise times the gain (float32, as stcal). A group is NaN when its
   flags are exactly one of DO_NOT_USE, SATURATED, JUMP_DET, JUMP_DET|DO_NOT_USE, SATURATED|DO_NOT_USE
   (stcal's ``nan_invalid_data`` tests equality, not bits).
2. Per pixel, from the first differences: ``center`` = their NaN-median over all integrations and
   differences, ``sigma = sqrt(|center| + rn**2 / nframes)``; with ``nints >= minimum_sigclip_groups``
   instead astropy's ``sigma_clipped_stats(sigma=5)`` across integrations, per difference (median, std).
   ``ratio = |diff - center| / sigma``, float32.
3. For each integration and group g after its first group that is not DO_NOT_USE everywhere: the ratio
   of difference g-1, masked where group g's or the pixel's flags have JUMP_DET, SATURATED or
   DO_NOT_USE (and on reference pixels), is averaged over a ring (radii ``extend_inner_radius`` to
   ``extend_inner_radius + extend_outer_radius``: stcal passes the "outer radius" as astropy's ring
   *width*); masked pixels stay masked, ring positions off the detector count as zeros. Pixels above
   ``extend_snr_threshold`` form 8-connected regions; those with hole-filled area >=
   ``extend_min_area`` are showers, described as ellipses (scikit-image region properties).
4. Detection finishes first; then each ellipse, enlarged ``extend_ellipse_expand_ratio`` times along
   the minor axis (the major axis grows by the same number of pixels, both capped at
   ``2 * max_extended_radius``), gets JUMP_DET in group g and the next
   ``time_masked_after_shower // group_time`` groups of that integration, except where SATURATED
   (a pixel saturated in one of those groups is skipped from there on).
5. Pixels whose mean difference over unflagged groups (DO_NOT_USE, SATURATED, JUMP_DET) changes by
   more than ``max_shower_amplitude`` electrons per group, or becomes NaN, get their integration's
   input flags back (stcal's ``max_flux_showers``).
6. Nothing happens when the exposure has fewer than ``min_diffs_for_shower`` (10) differences, not
   counting groups that are DO_NOT_USE everywhere.

Step 2 is per pixel (:func:`shower_statistics`, runs on pixel blocks); steps 3-5 need whole frames of one
integration (:func:`flag_showers_integration`). :func:`flag_showers` runs both on a whole exposure. See
``docs/steps/jump.md``.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, JUMP_DET, REFERENCE_PIXEL, SATURATED
from jwstlazy.kernels.sigma_clip import astropy_sigma_clip
from jwstlazy.kernels.small_median import median_of_first
from jwstlazy.kernels.snowballs import Ellipse, _ellipse_in_box, region_ellipses

__all__ = [
    "MIN_DIFFS_FOR_SHOWER",
    "ShowerResult",
    "flag_showers",
    "flag_showers_integration",
    "ring_offsets",
    "shower_statistics",
    "usable_differences",
]

#: Flags that mask a difference's ratio (on the later group or the pixel).
MASKING_FLAGS = JUMP_DET | SATURATED | DO_NOT_USE
#: Flags that exclude a group from the mean differences of the amplitude test.
INVALID_FLAGS = DO_NOT_USE | SATURATED | JUMP_DET
#: astropy's default sigma-clipping iterations; stcal clips at 5 sigma.
SIGMA_CLIP_MAXITERS = 5
SIGMA_CLIP_SIGMA = 5.0
#: The amplitude limit jwst 3.0 passes: JumpData's default 6 times TGROUP (the step's own
#: ``max_shower_amplitude`` parameter is never used).
JWST_AMPLITUDE_PER_SECOND = 6.0
#: Fewer usable differences in the exposure skip the search (stcal's fixed ``min_diffs_for_shower``).
MIN_DIFFS_FOR_SHOWER = 10


class ShowerResult(NamedTuple):
    groupdq: np.ndarray  #: uint8, same shape as the input group DQ
    n_showers: int  #: ellipses found (stcal's ``total_showers``), before the amplitude test


def flag_showers(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    nframes: int,
    group_time: float,
    extend_snr_threshold: float = 1.2,
    extend_min_area: float = 90,
    extend_inner_radius: float = 1.0,
    extend_outer_radius: float = 2.6,
    extend_ellipse_expand_ratio: float = 1.1,
    time_masked_after_shower: float = 15.0,
    max_extended_radius: int = 200,
    max_shower_amplitude: float | None = None,
    minimum_sigclip_groups: int = 100,
    min_diffs_for_shower: int = MIN_DIFFS_FOR_SHOWER,
) -> ShowerResult:
    """Flag MIRI showers in a whole exposure after jump detection, as stcal 1.20 with jwst 3.0 settings.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    groupdq : (nints, ngroups, ny, nx) uint8 group DQ (after jump detection)
    pixeldq : (ny, nx) uint32 pixel DQ (after jump detection: bad gains are DO_NOT_USE)
    gain : (ny, nx) e-/DN;  readnoise : (ny, nx) DN, the READNOISE reference file's CDS noise
    nframes : NFRAMES;  group_time : TGROUP, s
    extend_snr_threshold, extend_min_area, extend_inner_radius, extend_outer_radius,
    extend_ellipse_expand_ratio, time_masked_after_shower, max_extended_radius : the jwst ``jump``
        step parameters of the same names (the radius is doubled into a width, as the step does)
    max_shower_amplitude : e- per group; None: ``6 * group_time``, what jwst 3.0 passes
    minimum_sigclip_groups : integrations from which the statistics are sigma-clipped per difference
    min_diffs_for_shower : fewer usable differences in the exposure skip the search (stcal's 10)

    Returns
    -------
    ShowerResult with a new group DQ array (the input is not modified).
    """
    groupdq = np.ascontiguousarray(groupdq, dtype=np.uint8)
    if usable_differences(groupdq) < min_diffs_for_shower:
        return ShowerResult(groupdq.copy(), 0)
    center, sigma = shower_statistics(
        data, groupdq, gain, readnoise, nframes=nframes,
        sigma_clip=groupdq.shape[0] >= minimum_sigclip_groups,
    )
    out = np.empty_like(groupdq)
    n_showers = 0
    for i in range(groupdq.shape[0]):
        result = flag_showers_integration(
            data[i], groupdq[i], pixeldq, gain, center, sigma,
            group_time=group_time, extend_snr_threshold=extend_snr_threshold, extend_min_area=extend_min_area,
            extend_inner_radius=extend_inner_radius, extend_outer_radius=extend_outer_radius,
            extend_ellipse_expand_ratio=extend_ellipse_expand_ratio,
            time_masked_after_shower=time_masked_after_shower, max_extended_radius=max_extended_radius,
            max_shower_amplitude=max_shower_amplitude,
        )
        out[i] = result.groupdq
        n_showers += result.n_showers
    return ShowerResult(out, n_showers)


def usable_differences(groupdq: np.ndarray) -> int:
    """``nints * (ngroups - 1)`` minus the groups flagged DO_NOT_USE in every pixel (stcal's count)."""
    nints, ngroups = groupdq.shape[:2]
    fully_flagged = np.all(groupdq & DO_NOT_USE != 0, axis=(2, 3))
    return int(nints * (ngroups - 1) - np.count_nonzero(fully_flagged))


def shower_statistics(
    data: np.ndarray,
    groupdq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    nframes: int,
    sigma_clip: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel centre and width of the first differences, e- (any block of pixels, all integrations).

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN;  groupdq : same shape, uint8
    gain : (ny, nx) e-/DN;  readnoise : (ny, nx) DN;  nframes : NFRAMES
    sigma_clip : astropy's 5-sigma clipped median and std across integrations for each difference
        (stcal with ``nints >= minimum_sigclip_groups``); else the median of all differences and
        ``sqrt(|median| + (rn * gain)**2 / nframes)``

    Returns
    -------
    (center, sigma), float32, each (1, ny, nx), or (ngroups - 1, ny, nx) with ``sigma_clip``.
    """
    nints, ngroups, ny, nx = data.shape
    data = np.ascontiguousarray(data, dtype=np.float32)
    groupdq = np.ascontiguousarray(groupdq, dtype=np.uint8)
    gain = np.ascontiguousarray(gain, dtype=np.float32)
    readnoise = np.ascontiguousarray(readnoise, dtype=np.float32)
    n_out = max(ngroups - 1, 0) if sigma_clip else 1
    center = np.full((n_out, ny, nx), np.nan, dtype=np.float32)
    sigma = np.full((n_out, ny, nx), np.nan, dtype=np.float32)
    if ngroups > 1 and nints > 0:
        _statistics(data, groupdq, gain, readnoise, np.float32(nframes), sigma_clip, center, sigma)
    return center, sigma


def flag_showers_integration(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    center: np.ndarray,
    sigma: np.ndarray,
    *,
    group_time: float,
    extend_snr_threshold: float = 1.2,
    extend_min_area: float = 90,
    extend_inner_radius: float = 1.0,
    extend_outer_radius: float = 2.6,
    extend_ellipse_expand_ratio: float = 1.1,
    time_masked_after_shower: float = 15.0,
    max_extended_radius: int = 200,
    max_shower_amplitude: float | None = None,
) -> ShowerResult:
    """Steps 3-5 (find, flag, amplitude test) on the whole frames of ONE integration.

    Parameters
    ----------
    data : (ngroups, ny, nx) float32, DN;  groupdq : (ngroups, ny, nx) uint8
    pixeldq : (ny, nx) uint32;  gain : (ny, nx) e-/DN
    center, sigma : from :func:`shower_statistics` on the whole exposure, (1 or ngroups - 1, ny, nx)
    other parameters : as :func:`flag_showers`

    Returns
    -------
    ShowerResult with this integration's new (ngroups, ny, nx) group DQ.
    """
    groupdq = np.ascontiguousarray(groupdq, dtype=np.uint8)
    ngroups = groupdq.shape[0]
    electrons = np.asarray(data, dtype=np.float32) * np.asarray(gain, dtype=np.float32)
    pixeldq = np.asarray(pixeldq, dtype=np.uint32)
    reference = pixeldq == REFERENCE_PIXEL  # stcal sets these to DO_NOT_USE in every group
    dy, dx = ring_offsets(extend_inner_radius, extend_outer_radius)
    showers: list[tuple[int, list[Ellipse]]] = []
    if ngroups > 1:
        valid = np.where(_nan_flags(groupdq), np.float32(np.nan), electrons)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(np.diff(valid, axis=0) - center) / sigma  # float32, as stcal
        pixel_masked = (pixeldq & MASKING_FLAGS != 0) | reference
        for g in range(_first_good_group(groupdq, reference) + 1, ngroups):
            masked = pixel_masked | (groupdq[g] & MASKING_FLAGS != 0)
            plane = np.where(masked, np.float32(np.nan), ratio[g - 1])
            emission = _ring_mean_above(plane, dy, dx, float(extend_snr_threshold))
            ellipses = region_ellipses(emission, extend_min_area)
            if ellipses:
                showers.append((g, ellipses))

    out = groupdq.copy()
    n_after = int(time_masked_after_shower // group_time)
    max_width = 2 * max_extended_radius
    for g, ellipses in showers:
        for ellipse in ellipses:
            _flag_shower(out, g, ellipse, extend_ellipse_expand_ratio, max_width, n_after)
    if showers:
        limit = JWST_AMPLITUDE_PER_SECOND * group_time if max_shower_amplitude is None else max_shower_amplitude
        _restore_large_changes(out, groupdq, electrons, limit)
        out[:, reference] = groupdq[:, reference]  # all-DO_NOT_USE there in stcal: always restored
    return ShowerResult(out, sum(len(ellipses) for _, ellipses in showers))


def ring_offsets(inner_radius: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx) int64 offsets of astropy's ``Ring2DKernel(inner_radius, width)`` (equal weights):
    ``inner_radius**2 <= dy**2 + dx**2 <= (inner_radius + width)**2``."""
    reach = int(np.ceil(inner_radius + width))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    squared = dy**2 + dx**2
    inside = (squared >= inner_radius**2) & (squared <= (inner_radius + width) ** 2)
    return dy[inside].astype(np.int64), dx[inside].astype(np.int64)


def _nan_flags(groupdq: np.ndarray) -> np.ndarray:
    """Groups whose flags are exactly one of stcal's five NaN combinations."""
    return (groupdq != 0) & (groupdq <= (JUMP_DET | DO_NOT_USE))  # 1..5: DNU, SAT, SAT|DNU, JUMP, JUMP|DNU


def _first_good_group(groupdq: np.ndarray, reference: np.ndarray) -> int:
    """First group not DO_NOT_USE in every pixel (reference pixels count as DO_NOT_USE); 0 if none."""
    for g in range(groupdq.shape[0]):
        if not np.all((groupdq[g] & DO_NOT_USE != 0) | reference):
            return g
    return 0


def _flag_shower(cube, group, ellipse, expand_ratio, max_width, n_after) -> None:
    """JUMP_DET on the enlarged ellipse in ``group`` and ``n_after`` later groups, except where SATURATED
    (from the group where a pixel is first SATURATED on)."""
    axis_minor = min(ellipse.minor * expand_ratio, max_width)
    axis_major = min(ellipse.major + (expand_ratio - 1.0) * ellipse.minor, max_width)
    box, inside = _ellipse_in_box(ellipse, 2 * round(axis_minor / 2), 2 * round(axis_major / 2), cube.shape[1:])
    for plane in cube[group : min(group + n_after + 1, cube.shape[0])]:
        inside &= plane[box] & SATURATED == 0
        plane[box][inside] |= JUMP_DET


def _restore_large_changes(out, groupdq, electrons, limit) -> None:
    """stcal's ``max_flux_showers``: pixels whose mean usable difference changed by more than ``limit``
    (or became NaN) get their input flags back. Only pixels whose flags changed can change."""
    rows, cols = np.nonzero(np.any(out != groupdq, axis=0))
    if rows.size == 0:
        return
    values = electrons[:, rows, cols]
    before = _mean_difference(values, groupdq[:, rows, cols] & INVALID_FLAGS != 0)
    after = _mean_difference(values, out[:, rows, cols] & INVALID_FLAGS != 0)
    with np.errstate(invalid="ignore"):
        change = np.abs(before - after)
        restore = ~np.isfinite(change) | (change > limit)  # a float32 comparison, as numpy makes it for stcal
    out[:, rows[restore], cols[restore]] = groupdq[:, rows[restore], cols[restore]]


def _mean_difference(values: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """``np.nanmean(np.diff(values with invalid groups NaN, axis=0), axis=0)`` (float32, NaN when empty),
    computed as numpy's nanmean does but without its warning (warning filters are not thread-safe)."""
    diffs = np.diff(np.where(invalid, np.float32(np.nan), values), axis=0)
    finite = ~np.isnan(diffs)
    total = np.sum(np.where(finite, diffs, np.float32(0.0)), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / np.sum(finite, axis=0)).astype(np.float32)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _ring_mean_above(plane, dy, dx, threshold):
    """Pixels where the NaN-masked ring mean of ``plane`` exceeds ``threshold`` (NaN pixels: False).

    stcal convolves with zero fill and divides by the convolved validity (off-image positions valid),
    so the mean is over finite in-image ring values plus zeros for off-image positions: a border of
    valid zeros. Rows are accumulated offset by offset (vectorised over x).
    """
    ny, nx = plane.shape
    reach = 0
    for k in range(dy.shape[0]):
        reach = max(reach, abs(dy[k]), abs(dx[k]))
    values = np.zeros((ny + 2 * reach, nx + 2 * reach))
    valid = np.ones((ny + 2 * reach, nx + 2 * reach))
    for y in range(ny):
        for x in range(nx):
            v = plane[y, x]
            if np.isfinite(v):
                values[y + reach, x + reach] = v
            else:
                valid[y + reach, x + reach] = 0.0
    out = np.zeros((ny, nx), dtype=np.bool_)
    total = np.empty(nx)
    count = np.empty(nx)
    for y in range(ny):
        total[:] = 0.0
        count[:] = 0.0
        for k in range(dy.shape[0]):
            row = y + reach + dy[k]
            start = reach + dx[k]
            for x in range(nx):
                total[x] += values[row, start + x]
                count[x] += valid[row, start + x]
        for x in range(nx):
            if valid[y + reach, x + reach] != 0.0 and count[x] > 0.0 and total[x] / count[x] > threshold:
                out[y, x] = True
    return out


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _statistics(data, groupdq, gain, readnoise, nframes, sigma_clip, center, sigma):
    """Fill ``center`` and ``sigma`` (see :func:`shower_statistics`), pixel by pixel."""
    nints, ngroups, ny, nx = data.shape
    ndiffs = ngroups - 1
    diffs = np.empty((nints, ndiffs), dtype=np.float32)
    work = np.empty(nints * ndiffs, dtype=np.float32)
    kept = np.empty(nints, dtype=np.float64)
    for y in range(ny):
        for x in range(nx):
            g = gain[y, x]
            for i in range(nints):
                previous = np.float32(data[i, 0, y, x] * g)
                if _is_nan_flag(groupdq[i, 0, y, x]):
                    previous = np.float32(np.nan)
                for k in range(ndiffs):
                    value = np.float32(data[i, k + 1, y, x] * g)
                    if _is_nan_flag(groupdq[i, k + 1, y, x]):
                        value = np.float32(np.nan)
                    diffs[i, k] = np.float32(value - previous)
                    previous = value
            if sigma_clip:
                for k in range(ndiffs):
                    center[k, y, x], sigma[k, y, x] = _clipped_stats(diffs[:, k], kept, work)
            else:
                n = 0
                for i in range(nints):
                    for k in range(ndiffs):
                        if not np.isnan(diffs[i, k]):
                            work[n] = diffs[i, k]
                            n += 1
                if n == 0:
                    continue
                median = np.float32(median_of_first(work, n))
                read_noise = np.float32(readnoise[y, x] * g)
                variance = np.float32(np.float32(read_noise * read_noise) / nframes)
                center[0, y, x] = median
                sigma[0, y, x] = np.float32(np.sqrt(np.float32(np.abs(median) + variance)))


@numba.njit(cache=True, error_model="numpy", inline="always")
def _is_nan_flag(flag):
    return flag != 0 and flag <= (JUMP_DET | DO_NOT_USE)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _clipped_stats(values, kept, work):
    """astropy ``sigma_clipped_stats(values, sigma=5)`` median and std (float32, NaN-ignoring).

    Bounds ``median -/+ 5 std`` in float64 on the kept values, at most 5 iterations; then the float32
    median and population std of what is kept, summed in order as numpy does along an outer axis.
    """
    count = 0
    for v in values:
        if np.isfinite(v):
            kept[count] = v
            count += 1
    count, _, _ = astropy_sigma_clip(kept, count, SIGMA_CLIP_SIGMA, SIGMA_CLIP_MAXITERS, work)
    if count == 0:
        return np.float32(np.nan), np.float32(np.nan)
    # Kept values are float32 numbers, in their original order: the float32 statistics numpy computes.
    total = np.float32(0.0)
    for j in range(count):
        work[j] = np.float32(kept[j])
        total = np.float32(total + np.float32(kept[j]))
    mean32 = np.float32(total / np.float32(count))
    squares = np.float32(0.0)
    for j in range(count):
        d = np.float32(np.float32(kept[j]) - mean32)
        squares = np.float32(squares + np.float32(d * d))
    std32 = np.float32(np.sqrt(np.float32(squares / np.float32(count))))
    median32 = np.float32(median_of_first(work, count))
    return median32, std32
