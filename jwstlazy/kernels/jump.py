"""Cosmic-ray jump detection with the two-point difference method (stcal 1.20).

One chunk of ramps (all integrations and groups of a block of pixels) gets JUMP_DET flags on the
groups that follow an outlying first difference, as ``stcal.jump.jump.detect_jumps_data`` computes
them (``stcal/jump/twopoint_difference.py``; see ``docs/steps/jump.md``):

1. Work in electrons: data and the CDS read noise times the gain (float32, as stcal). Pixels with
   a non-positive or NaN gain get DO_NOT_USE|NO_GAIN_VALUE in the pixel DQ. Groups flagged
   DO_NOT_USE or SATURATED are NaN.
2. First differences over all integrations; ``median`` = their NaN-median,
   ``sigma = sqrt(|median| + rn**2 / nframes)`` (NaN where zero).
3. One of three regimes, chosen from exposure-level counts:
   - sigma clipping (``nints >= minimum_sigclip_groups`` with ``only_use_ints``, comparing the same
     difference across integrations; or ``>= minimum_sigclip_groups`` usable groups without it):
     astropy's sigma clipping at ``rejection_threshold`` (median centre, 5 iterations);
   - single pass (``>= min_diffs_single_pass`` usable differences per integration):
     ``|diff - median| / sigma > rejection_threshold``;
   - iterative otherwise, on absolute differences with a clipped median (>= 4 usable: drop the
     largest; 3: median; 2: minimum): the largest ratio is flagged if above 4 / 5 / 6 sigma for
     >= 4 / 3 / 2 usable differences, removed, and the search repeated.
4. ``flag_4_neighbors``: jumps with ``min < ratio < max`` (ratio against the plain median) also flag
   the four adjacent pixels' same group unless SATURATED or DO_NOT_USE there.
5. After-jump flagging: jumps at least ``after_jump_flag_dn1`` (times the median gain) high flag
   the next ``after_jump_flag_n1`` groups (likewise ``dn2``/``n2``).
6. JUMP_DET is removed where a group is also DO_NOT_USE or SATURATED.

Neighbour flagging reaches one pixel outside the chunk. :func:`detect_jumps` works on one chunk (exact
in the interior of a chunk given with a one-pixel halo); chunked graphs run it as two passes so that only
a bit mask crosses chunk borders: :func:`find_jumps` per pixel (each pixel's own detection does not depend
on its neighbours), then :func:`flag_neighbors_and_after_jumps` with the neighbour bits of a one-pixel halo. The regime and
the after-jump threshold depend on the whole exposure: pass ``fully_flagged`` (from
:func:`fully_flagged_groups`) and ``gain_median`` computed on the whole exposure. Snowballs are
flagged afterwards by ``jwstlazy.kernels.snowballs.flag_snowballs``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import (
    DO_NOT_USE,
    JUMP_DET,
    NO_GAIN_VALUE,
    SATURATED,
)
from jwstlazy.kernels.sigma_clip import astropy_sigma_clip
from jwstlazy.kernels.small_median import (
    SMALL_MEDIAN,
    column_medians,
    median_of_first,
    sort_columns,
    transpose_columns,
)

__all__ = [
    "JumpCandidates", "JumpResult", "detect_jumps", "find_jumps", "flag_neighbors_and_after_jumps", "flags_after_jumps",
    "fully_flagged_groups",
]

#: Group flags that make a group's value unusable (NaN) for the differences.
UNUSABLE = DO_NOT_USE | SATURATED
#: Detection regimes.
REGIME_NONE, REGIME_ITERATIVE, REGIME_SINGLE_PASS, REGIME_SIGMA_CLIP = 0, 1, 2, 3
#: astropy's default number of sigma-clipping iterations (stcal uses the default).
SIGMA_CLIP_MAXITERS = 5
#: Pixels screened together in the vectorised path.
TILE = 128


class JumpResult(NamedTuple):
    """Flags after jump detection."""

    groupdq: np.ndarray  #: (nints, ngroups, ny, nx) uint8, with JUMP_DET added
    pixeldq: np.ndarray  #: (ny, nx) uint32, with DO_NOT_USE|NO_GAIN_VALUE where the gain is bad
    primary_jumps: np.ndarray  #: (ny, nx) int32: JUMP_DET groups before neighbour/after-jump flags


class JumpCandidates(NamedTuple):
    """What pass 1 (:func:`find_jumps`) finds in a chunk, for pass 2 (:func:`flag_neighbors_and_after_jumps`)."""

    groupdq: np.ndarray  #: (nints, ngroups, ny, nx) uint8, JUMP_DET on detected groups
    pixeldq: np.ndarray  #: (ny, nx) uint32
    primary_jumps: np.ndarray  #: (ny, nx) int32
    neighbor_sources: np.ndarray  #: (nints, words, ny, nx) uint64: bit g = group g flags its 4 neighbours
    median_diffs: np.ndarray  #: (ny, nx) float64 median first difference, e-/group (NaN: no detection, or not
    #: computed: sigma clipping with ``clean_pixel_medians=False``)


def fully_flagged_groups(groupdq: np.ndarray) -> np.ndarray:
    """(nints, ngroups) bool: groups flagged DO_NOT_USE in every pixel of ``groupdq``.

    stcal chooses the detection regime from these exposure-level counts; compute them on the whole
    exposure (a cheap reduction) and pass them to :func:`detect_jumps` for every chunk.
    """
    return np.all(np.asarray(groupdq) & DO_NOT_USE != 0, axis=(2, 3))


def detect_jumps(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    after_jump_flag_dn1: float = 0.0,
    after_jump_flag_n1: int = 0,
    after_jump_flag_dn2: float = 0.0,
    after_jump_flag_n2: int = 0,
    gain_median: float | None = None,
    **detection: Any,
) -> JumpResult:
    """Flag cosmic-ray jumps in one chunk with the two-point difference method (stcal 1.20).

    ``detection`` holds the keyword arguments of :func:`find_jumps` (documented here with the others).

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32, DN
    groupdq : (nints, ngroups, ny, nx) uint8 group DQ flags
    pixeldq : (ny, nx) uint32 pixel DQ flags
    gain : (ny, nx) float, e-/DN
    readnoise : (ny, nx) float, DN, the CDS read noise of the READNOISE reference file
    nframes : frames averaged per group (NFRAMES)
    rejection_threshold : sigma threshold with >= 4 usable differences (single pass, sigma clip)
    three_group_rejection_threshold : threshold with 2 usable differences (a 3-group ramp)
    four_group_rejection_threshold : threshold with 3 usable differences (a 4-group ramp)
    flag_4_neighbors, max_jump_to_flag_neighbors, min_jump_to_flag_neighbors : neighbour flagging
    after_jump_flag_dn1, after_jump_flag_dn2 : DN thresholds for after-jump flagging
    after_jump_flag_n1, after_jump_flag_n2 : groups flagged after such jumps
        (the step converts ``after_jump_flag_time*`` with ``int(time // TGROUP)``)
    minimum_groups : fewer usable groups per integration (and no sigma clipping) skips detection
    min_diffs_single_pass : usable differences needed for the single-pass regime
    minimum_sigclip_groups, only_use_ints : when and how sigma clipping is used
    fully_flagged : (nints, ngroups) bool from :func:`fully_flagged_groups` on the whole exposure;
        None computes it from this chunk (exact when the chunk is the whole exposure)
    gain_median : NaN-median of the whole gain array (after-jump thresholds); None: this chunk's

    Returns
    -------
    JumpResult with new arrays (inputs are not modified). The kernel runs on numba's current
    thread count (``numba.set_num_threads``, which is thread-local).
    """
    candidates = find_jumps(data, groupdq, pixeldq, gain, readnoise, **detection)
    if gain_median is None:
        gain_median = float(np.nanmedian(gain)) if np.size(gain) else 0.0
    new_groupdq = flag_neighbors_and_after_jumps(
        data, gain, candidates, after_jump_flag_dn1=after_jump_flag_dn1, after_jump_flag_n1=after_jump_flag_n1,
        after_jump_flag_dn2=after_jump_flag_dn2, after_jump_flag_n2=after_jump_flag_n2, gain_median=gain_median,
    )
    return JumpResult(new_groupdq, candidates.pixeldq, candidates.primary_jumps)


def find_jumps(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    gain: np.ndarray,
    readnoise: np.ndarray,
    *,
    nframes: int,
    rejection_threshold: float = 4.0,
    three_group_rejection_threshold: float = 6.0,
    four_group_rejection_threshold: float = 5.0,
    flag_4_neighbors: bool = True,
    max_jump_to_flag_neighbors: float = 1000.0,
    min_jump_to_flag_neighbors: float = 10.0,
    minimum_groups: int = 3,
    min_diffs_single_pass: int = 10,
    minimum_sigclip_groups: int = 100,
    only_use_ints: bool = True,
    fully_flagged: np.ndarray | None = None,
    clean_pixel_medians: bool = True,
) -> JumpCandidates:
    """Pass 1 of :func:`detect_jumps`, per pixel (no neighbours): steps 1-3 and 6 (arguments as there).

    The returned ``neighbor_sources`` (one bit per group, ``ceil(ngroups / 64)`` words; no words without
    ``flag_4_neighbors``) is what pass 2, :func:`flag_neighbors_and_after_jumps`, needs from neighbours.
    ``clean_pixel_medians=False``: in the sigma-clipping regime a pixel's median difference is taken only where a
    jump's neighbour ratio lies near a threshold, and is NaN elsewhere (pass 2 reads medians only for after-jump
    flagging, and a time series' median of ~4500 differences was the costliest part of a pixel); the neighbour
    bits come from a bracket of the median (the same bits).
    """
    nints, ngroups, ny, nx = data.shape
    data = np.ascontiguousarray(data, dtype=np.float32)
    groupdq = np.ascontiguousarray(groupdq, dtype=np.uint8)
    gain = np.ascontiguousarray(gain, dtype=np.float32)
    readnoise = np.ascontiguousarray(readnoise, dtype=np.float32)
    pixeldq = np.array(pixeldq, dtype=np.uint32)
    pixeldq[~(gain > 0.0)] |= NO_GAIN_VALUE | DO_NOT_USE

    if fully_flagged is None:
        fully_flagged = fully_flagged_groups(groupdq)
    regime = _choose_regime(
        np.asarray(fully_flagged, dtype=bool),
        minimum_groups=minimum_groups,
        min_diffs_single_pass=min_diffs_single_pass,
        minimum_sigclip_groups=minimum_sigclip_groups,
        only_use_ints=only_use_ints,
    )
    new_groupdq = groupdq.copy()
    n_words = -(-ngroups // 64) if flag_4_neighbors else 0
    neighbor_sources = np.zeros((nints, n_words, ny, nx), dtype=np.uint64)
    median_diffs = np.full((ny, nx), np.nan, dtype=np.float64)
    primary_jumps = np.zeros((ny, nx), dtype=np.int32)
    _detect_chunk(
        data,
        groupdq,
        gain,
        readnoise,
        float(nframes),
        regime,
        bool(only_use_ints),
        float(rejection_threshold),
        float(four_group_rejection_threshold),
        float(three_group_rejection_threshold),
        float(min_jump_to_flag_neighbors),
        float(max_jump_to_flag_neighbors),
        bool(clean_pixel_medians),
        new_groupdq,
        neighbor_sources,
        median_diffs,
        primary_jumps,
    )
    if regime == REGIME_SIGMA_CLIP:
        _unflag_all_jump_planes(new_groupdq, neighbor_sources, primary_jumps)
    if regime == REGIME_NONE:  # nothing detected: no neighbours to flag, and NaN medians stop after-jump flags
        neighbor_sources[:] = 0
        median_diffs[:] = np.nan
    return JumpCandidates(new_groupdq, pixeldq, primary_jumps, neighbor_sources, median_diffs)


def flags_after_jumps(after_jump_flag_n1: int, after_jump_flag_n2: int) -> bool:
    """Whether pass 2 flags groups after jumps (and so reads the median differences of pass 1)."""
    return after_jump_flag_n1 > 0 or after_jump_flag_n2 > 0


def flag_neighbors_and_after_jumps(
    data: np.ndarray,
    gain: np.ndarray,
    candidates: JumpCandidates,
    *,
    after_jump_flag_dn1: float = 0.0,
    after_jump_flag_n1: int = 0,
    after_jump_flag_dn2: float = 0.0,
    after_jump_flag_n2: int = 0,
    gain_median: float,
    core: tuple[slice, slice] | None = None,
) -> np.ndarray:
    """Pass 2 of :func:`detect_jumps`: steps 4-5, returning the new (nints, ngroups, ny, nx) uint8 group DQ.

    ``candidates`` comes from :func:`find_jumps` on this chunk, except ``neighbor_sources``, which may
    carry a halo of one pixel from the neighbouring chunks; ``core`` is then the (y, x) slices of this
    chunk inside it (None: no halo).
    """
    groupdq = np.array(candidates.groupdq, dtype=np.uint8, order="C")
    sources = np.ascontiguousarray(candidates.neighbor_sources, dtype=np.uint64)
    top, left = (0, 0) if core is None else (core[0].start, core[1].start)
    flag_after_jumps = flags_after_jumps(after_jump_flag_n1, after_jump_flag_n2)
    if sources.shape[1] or flag_after_jumps:
        _flag_neighbors_and_after_jumps(
            np.ascontiguousarray(data, dtype=np.float32),
            np.ascontiguousarray(gain, dtype=np.float32),
            groupdq,
            sources,
            int(top),
            int(left),
            np.ascontiguousarray(candidates.median_diffs, dtype=np.float64),
            flag_after_jumps,
            float(after_jump_flag_dn1 * gain_median),
            int(after_jump_flag_n1),
            float(after_jump_flag_dn2 * gain_median),
            int(after_jump_flag_n2),
        )
    return groupdq


def _choose_regime(
    fully_flagged: np.ndarray,
    *,
    minimum_groups: int,
    min_diffs_single_pass: int,
    minimum_sigclip_groups: int,
    only_use_ints: bool,
) -> int:
    """Detection regime from the exposure-level counts, as ``twopoint_difference.find_crs``."""
    nints, ngroups = fully_flagged.shape
    flagged_per_int = fully_flagged.sum(axis=1)
    total_groups = int(nints * ngroups - flagged_per_int.sum())
    min_usable_groups = int(ngroups - (flagged_per_int.max() if nints else 0))
    sigclip_groups = nints if only_use_ints else total_groups
    if sigclip_groups >= minimum_sigclip_groups:
        return REGIME_SIGMA_CLIP
    if min_usable_groups < minimum_groups:
        return REGIME_NONE
    if min_usable_groups - 1 >= min_diffs_single_pass:
        return REGIME_SINGLE_PASS
    return REGIME_ITERATIVE


@numba.njit(cache=True, parallel=True, error_model="numpy", nogil=True)
def _detect_chunk(
    data,
    groupdq,
    gain,
    readnoise,
    nframes,
    regime,
    only_use_ints,
    rejection_threshold,
    three_diff_threshold,
    two_diff_threshold,
    min_neighbor_ratio,
    max_neighbor_ratio,
    clean_pixel_medians,
    new_groupdq,
    neighbor_sources,
    median_diffs,
    primary_jumps,
):
    """Two-point detection for every pixel (rows over threads).

    ``new_groupdq`` (a copy of the input flags) gets JUMP_DET on detected groups, and loses it
    where an input group is also DO_NOT_USE or SATURATED (detection never flags such groups).
    Also written: ``median_diffs`` (e-/group), ``primary_jumps`` (JUMP_DET groups before that
    clean-up, as stcal counts them) and, when ``neighbor_sources`` has words, one bit per group
    (bit g % 64 of word g // 64) for jumps whose ratio against the plain median lies strictly
    between the neighbour thresholds.

    Rows are taken in tiles of TILE pixels. In the iterative and single-pass regimes, pixels with
    no flags and finite data are first screened together (vectorised over the tile): those whose
    first search finds no jump are finished there. The others run the per-pixel code.
    """
    nints, ngroups, ny, nx = data.shape
    n_values = nints * max(ngroups - 1, 1)
    screen = regime != REGIME_NONE and ngroups >= 2
    for y in numba.prange(ny):
        diffs = np.empty((nints, ngroups - 1), dtype=np.float64)
        flags = np.empty((nints, ngroups), dtype=np.uint8)
        work = np.empty(n_values, dtype=np.float64)
        work2 = np.empty(n_values, dtype=np.float64)
        tile_diffs = np.empty((n_values, TILE), dtype=np.float64)
        tile_sorted = np.empty((n_values, TILE), dtype=np.float64)
        tile_values = np.empty((4, TILE), dtype=np.float64)
        needs_pixel_code = np.ones(TILE, dtype=np.bool_)
        clean_columns = np.zeros((max(ngroups - 1, 1), TILE), dtype=np.bool_)  # see _screen_sigma_clip_group
        no_clean_columns = np.zeros((max(ngroups - 1, 1), 1), dtype=np.bool_)
        tile_ramps = np.empty((TILE, nints, ngroups), dtype=np.float32)  # pixel-major copies for the per-pixel code
        tile_flags = np.empty((TILE, nints, ngroups), dtype=np.uint8)
        for x0 in range(0, nx, TILE):
            n = min(TILE, nx - x0)
            if screen:
                _screen_tile(
                    data, groupdq, gain, readnoise, nframes, regime, only_use_ints, rejection_threshold,
                    three_diff_threshold, two_diff_threshold, min_neighbor_ratio, max_neighbor_ratio,
                    clean_pixel_medians, y, x0, n, tile_diffs, tile_sorted, tile_values, needs_pixel_code,
                    clean_columns, new_groupdq, neighbor_sources, median_diffs, primary_jumps,
                )  # fmt: skip
            if not screen:
                needs_pixel_code[:n] = True
            # a pixel's groups lie ny * nx * 4 bytes apart: read every plane once for all pixels that need them
            _copy_selected_pixel_major(data, groupdq, y, x0, n, needs_pixel_code, tile_ramps, tile_flags)
            for t in range(n):
                if needs_pixel_code[t]:
                    _detect_pixel(
                        tile_ramps[t], tile_flags[t], gain, readnoise, nframes, regime, only_use_ints,
                        rejection_threshold, three_diff_threshold, two_diff_threshold, min_neighbor_ratio,
                        max_neighbor_ratio, clean_pixel_medians, y, x0 + t, diffs, flags, work, work2,
                        clean_columns[:, t] if screen else no_clean_columns[:, 0], new_groupdq, neighbor_sources,
                        median_diffs, primary_jumps,
                    )  # fmt: skip


@numba.njit(cache=True, error_model="numpy", inline="always")
def _copy_selected_pixel_major(data, groupdq, y, x0, n, selected, ramps, flags):
    """``ramps[t]``, ``flags[t]`` (nints, ngroups) = pixel (y, x0 + t)'s groups, for the t < n with ``selected[t]``."""
    nints, ngroups = data.shape[:2]
    pixels = np.empty(n, dtype=np.int64)
    count = 0
    for t in range(n):
        if selected[t]:
            pixels[count] = t
            count += 1
    for i in range(nints):
        for g in range(ngroups):
            plane = data[i, g, y, x0 : x0 + n]
            plane_flags = groupdq[i, g, y, x0 : x0 + n]
            for j in range(count):
                t = pixels[j]
                ramps[t, i, g] = plane[t]
                flags[t, i, g] = plane_flags[t]


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _screen_tile(
    data, groupdq, gain, readnoise, nframes, regime, only_use_ints, rejection_threshold, three_diff_threshold,
    two_diff_threshold, min_neighbor_ratio, max_neighbor_ratio, clean_pixel_medians, y, x0, n, tile_diffs,
    tile_sorted, tile_values, needs_pixel_code, clean_columns, new_groupdq, neighbor_sources, median_diffs,
    primary_jumps,
):  # fmt: skip
    """First search of the unflagged pixels of a tile, all at once; finish those without a jump.

    Computes what the per-pixel code computes first (median and sigma; the first iteration's
    clipped median, the single-pass ratios, or the first sigma-clipping bounds) from columns of
    differences, and clears ``needs_pixel_code[t]`` for unflagged pixels with finite data where no
    jump is found. ``clean_columns[k, t]``: in the sigma-clipping regime across integrations, difference k
    of pixel t has no flagged group and loses no value to clipping (the per-pixel code skips it).
    """
    nints, ngroups = data.shape[:2]
    ndiffs = ngroups - 1
    n_values = nints * ndiffs
    # per difference index (sigma clipping across integrations): no flagged group and finite values so far
    by_column = regime == REGIME_SIGMA_CLIP and only_use_ints
    if by_column and not clean_pixel_medians:
        _screen_and_clip_columns(
            data, groupdq, gain, readnoise, nframes, rejection_threshold, min_neighbor_ratio, max_neighbor_ratio, y,
            x0, n, tile_diffs, needs_pixel_code, clean_columns, new_groupdq, neighbor_sources, median_diffs,
            primary_jumps,
        )  # fmt: skip
        return
    usable = clean_columns
    usable[:, :] = False
    if by_column:
        usable[:, :n] = True
    for t in range(n):
        needs_pixel_code[t] = False
    for i in range(nints):  # branch-free loops over the tile, which the compiler vectorises
        for g in range(ngroups):
            flags = groupdq[i, g, y, x0 : x0 + n]
            for t in range(n):
                needs_pixel_code[t] |= flags[t] != 0
            if by_column:
                for t in range(n):
                    flagged = flags[t] != 0
                    if g > 0:
                        usable[g - 1, t] &= not flagged
                    if g < ndiffs:
                        usable[g, t] &= not flagged
        for k in range(ndiffs):
            earlier = data[i, k, y, x0 : x0 + n]
            later = data[i, k + 1, y, x0 : x0 + n]
            row = tile_diffs[i * ndiffs + k]
            for t in range(n):
                gain_t = gain[y, x0 + t]
                difference = np.float64(later[t] * gain_t - earlier[t] * gain_t)
                row[t] = difference
                needs_pixel_code[t] |= not np.isfinite(difference)
                if by_column:
                    usable[k, t] &= np.isfinite(difference)
    median = tile_values[0]
    read_var = tile_values[1]
    sigma = tile_values[2]
    if regime == REGIME_SIGMA_CLIP and not clean_pixel_medians:
        median[:n] = np.nan  # clipping does not use it, and nothing reads it for a pixel without jumps
    else:
        for r in range(n_values):
            for t in range(n):
                tile_sorted[r, t] = tile_diffs[r, t]
        column_medians(tile_sorted, n_values, n, median)
    for t in range(n):
        rn = readnoise[y, x0 + t] * gain[y, x0 + t]  # float32
        read_var[t] = np.float64(rn * rn) / nframes
        s = np.sqrt(abs(median[t]) + read_var[t])
        sigma[t] = np.nan if s == 0.0 else s

    if regime == REGIME_SINGLE_PASS:
        for r in range(n_values):
            for t in range(n):
                if abs(tile_diffs[r, t] - median[t]) / sigma[t] > rejection_threshold:
                    needs_pixel_code[t] = True
    elif by_column:
        for k in range(ndiffs):
            _screen_sigma_clip_group(tile_diffs, k, ndiffs, nints, n, rejection_threshold, usable[k])
        for k in range(ndiffs):  # now: usable and nothing clipped
            for t in range(n):
                needs_pixel_code[t] |= not clean_columns[k, t]
    elif regime == REGIME_SIGMA_CLIP:  # all of a pixel's differences clipped together
        clean = np.empty(n, dtype=np.bool_)
        for t in range(n):
            clean[t] = not needs_pixel_code[t]
        _screen_sigma_clip_group(tile_diffs, 0, 1, n_values, n, rejection_threshold, clean)
        for t in range(n):
            needs_pixel_code[t] |= not clean[t]
    else:
        for r in range(n_values):
            for t in range(n):
                tile_sorted[r, t] = abs(tile_diffs[r, t])
        if n_values >= 4:
            threshold = rejection_threshold
        else:
            threshold = three_diff_threshold if n_values == 3 else two_diff_threshold
        long_columns = n_values > SMALL_MEDIAN
        if long_columns:
            columns = transpose_columns(tile_sorted, n_values, n)
        else:
            columns = np.empty((0, 0), dtype=np.float64)
            sort_columns(tile_sorted, n_values, n)
        for t in range(n):
            if n_values < 2 or needs_pixel_code[t]:
                continue
            if long_columns:  # a time series' many differences: selection, not a sort of every column
                smallest, clipped, largest = _clipped_median_of_values(columns[t])
            else:
                smallest = tile_sorted[0, t]
                largest = tile_sorted[n_values - 1, t]
                clipped = _clipped_median_of_sorted(tile_sorted, t, n_values)
            if np.isnan(clipped):
                continue
            s = np.sqrt(abs(clipped) + read_var[t])
            if s == 0.0:
                continue
            # |float32(v - median)| is largest at one end of the sorted column
            excess = max(
                np.float64(abs(np.float32(smallest - clipped))),
                np.float64(abs(np.float32(largest - clipped))),
            )
            if excess / s > threshold:
                needs_pixel_code[t] = True

    for t in range(n):
        if not needs_pixel_code[t]:
            median_diffs[y, x0 + t] = median[t]
            primary_jumps[y, x0 + t] = 0  # and its neighbour words stay zero, as find_jumps allocates them


#: Jumps a tile's screening across integrations records for its neighbour bits (more: those pixels' bits are left
#: to the per-pixel code).
SCREEN_JUMPS_PER_TILE = 8 * TILE


@numba.njit(cache=True, error_model="numpy", inline="always")
def _screen_and_clip_columns(
    data, groupdq, gain, readnoise, nframes, rejection_threshold, min_neighbor_ratio, max_neighbor_ratio, y, x0, n,
    buffer, needs_pixel_code, clean_columns, new_groupdq, neighbor_sources, median_diffs, primary_jumps,
):  # fmt: skip
    """Sigma clipping across integrations for a tile, one difference index at a time (without clean-pixel medians).

    Difference k of every integration is formed in ``buffer[:nints]`` (in the core's cache) and screened
    (``clean_columns[k, t]`` as :func:`_screen_tile` sets it). Where the screen cannot clear a pixel whose groups
    are all unflagged with finite differences so far, the column is clipped exactly there, as the per-pixel code
    would (the same values in the same order), and its JUMP_DET flags written. A pixel that stays so to the end
    (most pixels with a jump) is finished here: its jump count, and its neighbour bits decided from a bracket of
    its median difference (:func:`_neighbor_decision`) using sums of all its differences. ``needs_pixel_code[t]``
    is left True only for pixels with a flagged group or a non-finite difference, or whose bits the bracket (or
    the list of :data:`SCREEN_JUMPS_PER_TILE` jumps) cannot settle: the per-pixel code then redoes them whole,
    writing the same flags.
    """
    nints, ngroups = data.shape[:2]
    ndiffs = ngroups - 1
    n_words = neighbor_sources.shape[1]
    flag_free = np.ones(n, dtype=np.bool_)  # no flagged group and finite differences so far
    settled = np.ones(n, dtype=np.bool_)  # every jump recorded for the bits
    screened_clean = np.empty(n, dtype=np.bool_)
    n_found = np.zeros(n, dtype=np.int64)
    shift = np.zeros(n)  # sums of all differences less the pixel's first one (no cancellation in the variance)
    total = np.zeros(n)
    squares = np.zeros(n)
    found_t = np.empty(SCREEN_JUMPS_PER_TILE, dtype=np.int64)
    found_i = np.empty(SCREEN_JUMPS_PER_TILE, dtype=np.int64)
    found_g = np.empty(SCREEN_JUMPS_PER_TILE, dtype=np.int64)
    found_d = np.empty(SCREEN_JUMPS_PER_TILE)  # the jump's difference
    n_listed = 0
    column = np.empty(nints)
    work = np.empty(nints)
    for t in range(n):
        needs_pixel_code[t] = False
    for k in range(ndiffs):
        usable = clean_columns[k]
        for t in range(n):
            usable[t] = True
        for i in range(nints):
            earlier = data[i, k, y, x0 : x0 + n]
            later = data[i, k + 1, y, x0 : x0 + n]
            earlier_flags = groupdq[i, k, y, x0 : x0 + n]
            later_flags = groupdq[i, k + 1, y, x0 : x0 + n]
            row = buffer[i]
            for t in range(n):
                gain_t = gain[y, x0 + t]
                difference = np.float64(later[t] * gain_t - earlier[t] * gain_t)
                row[t] = difference
                usable[t] &= ((earlier_flags[t] | later_flags[t]) == 0) & np.isfinite(difference)
        if k == 0:
            for t in range(n):
                shift[t] = buffer[0, t]
        for i in range(nints):
            row = buffer[i]
            for t in range(n):
                v = row[t] - shift[t]
                total[t] += v
                squares[t] += v * v
        for t in range(n):
            flag_free[t] &= usable[t]
            screened_clean[t] = usable[t]
        _screen_sigma_clip_group(buffer, 0, 1, nints, n, rejection_threshold, screened_clean)
        for t in range(n):
            if flag_free[t] and not screened_clean[t]:  # clip this column now, as the per-pixel code would
                for i in range(nints):
                    column[i] = buffer[i, t]
                _, low, high = astropy_sigma_clip(column, nints, rejection_threshold, SIGMA_CLIP_MAXITERS, work)
                for i in range(nints):
                    d = buffer[i, t]
                    if d < low or d > high:
                        new_groupdq[i, k + 1, y, x0 + t] |= JUMP_DET
                        n_found[t] += 1
                        if n_listed < SCREEN_JUMPS_PER_TILE:
                            found_t[n_listed], found_i[n_listed], found_g[n_listed] = t, i, k + 1
                            found_d[n_listed] = d
                            n_listed += 1
                        else:
                            settled[t] = False
            usable[t] = screened_clean[t]
            needs_pixel_code[t] |= not screened_clean[t]

    # finish the pixels without flags: bracket of each one's median difference, then its jumps' neighbour bits
    bounds = np.empty((4, n))  # low, high, sigma at the bracket's nearest and farthest |median|
    count = nints * ndiffs
    for t in range(n):
        if not needs_pixel_code[t]:
            median_diffs[y, x0 + t] = np.nan
            primary_jumps[y, x0 + t] = 0
            continue
        if not (flag_free[t] and settled[t]):
            continue
        rn = readnoise[y, x0 + t] * gain[y, x0 + t]  # float32, as the per-pixel code
        read_var = np.float64(rn * rn) / nframes
        mean_shifted = total[t] / count
        std = np.sqrt(max(squares[t] / count - mean_shifted * mean_shifted, 0.0))
        mean = shift[t] + mean_shifted
        # rounding of the one-pass variance: at most a few ulps of squares / count, so std within ~1e-7 of the rms
        rounding = 1e-7 * np.sqrt(squares[t] / count)
        bounds[0, t], bounds[1, t], bounds[2, t], bounds[3, t] = _median_bracket(mean, std, rounding, read_var)
        if not bounds[2, t] > 0.0:  # also NaN: no finite statistics
            settled[t] = False
    if n_words:
        for write in (False, True):  # decide every listed jump first; write the bits of pixels all decided
            for j in range(n_listed):
                t = found_t[j]
                if not (needs_pixel_code[t] and flag_free[t] and settled[t]):
                    continue
                decision = _neighbor_decision(found_d[j], bounds[0, t], bounds[1, t], bounds[2, t], bounds[3, t],
                                              min_neighbor_ratio, max_neighbor_ratio)  # fmt: skip
                if decision < 0:
                    settled[t] = False
                elif write and decision > 0:
                    i, g = found_i[j], found_g[j]
                    neighbor_sources[i, g // 64, y, x0 + t] |= np.uint64(1) << np.uint64(g % 64)
    for t in range(n):
        if needs_pixel_code[t] and flag_free[t] and settled[t]:
            primary_jumps[y, x0 + t] = n_found[t]
            median_diffs[y, x0 + t] = np.nan
            needs_pixel_code[t] = False


@numba.njit(cache=True, error_model="numpy", inline="always")
def _median_bracket(mean, std, rounding, read_var):
    """(low, high, sigma_low, sigma_high): the bracket [mean - std, mean + std] that holds the median of values with
    that mean and population std (true of any distribution), widened by 1e-9 of its scale and by ``rounding`` (the
    error of a one-pass std), and ``sqrt(|median| + read_var)`` at its nearest and farthest |median|. NaN
    statistics give a NaN sigma_low."""
    if not (np.isfinite(mean) and np.isfinite(std)):
        return np.nan, np.nan, np.nan, np.nan
    pad = 1e-9 * (abs(mean) + std) + rounding + 1e-300
    low = mean - std - pad
    high = mean + std + pad
    nearest_abs = 0.0 if low <= 0.0 <= high else min(abs(low), abs(high))
    return low, high, np.sqrt(nearest_abs + read_var), np.sqrt(max(abs(low), abs(high)) + read_var)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _neighbor_decision(d, low, high, sigma_low, sigma_high, min_ratio, max_ratio):
    """Whether a jump of difference ``d`` is a neighbour source for every median in [low, high]: 1 (its ratio
    ``|d - median| / sqrt(|median| + read_var)`` lies strictly between the thresholds), 0 (at or beyond one; also a
    non-finite ``d``, whose exact ratio is never a source), or -1 (the bounds straddle a threshold).
    ``sigma_low``/``sigma_high``: the square root at the bracket's nearest and farthest |median|."""
    if not np.isfinite(d):
        return 0
    far = max(abs(d - low), abs(d - high))
    near = 0.0 if low <= d <= high else min(abs(d - low), abs(d - high))
    smallest = near / sigma_high
    largest = far / sigma_low
    if smallest > min_ratio * (1.0 + 1e-12) and largest < max_ratio * (1.0 - 1e-12):
        return 1
    if largest < min_ratio * (1.0 - 1e-12) or smallest > max_ratio * (1.0 + 1e-12):
        return 0
    return -1


@numba.njit(cache=True, error_model="numpy", inline="always")
def _screen_sigma_clip_group(tile_diffs, first, step, count, n, sigma, clean):
    """Clear ``clean[t]`` where the first iteration of :func:`astropy_sigma_clip` would remove one of the
    ``count`` differences in rows ``first, first + step, ...`` of column ``t``; columns with ``clean[t]``
    False on entry (flagged or non-finite values) are left as they are.

    If it removes none, clipping stops there and flags nothing. Mean and std are summed in the order the
    per-pixel code sums them (same bits). Nothing is removed when the median ``c`` lies in
    ``[max - sigma std, min + sigma std]``; counting the values below and above those limits (less a margin
    far above rounding) decides that without the median: ``c >= L`` when at most ``(count - 1) // 2``
    values are below ``L``, and ``c <= U`` when at most as many are above ``U``. Only columns where the
    counts do not decide (a value near or beyond the bounds) select their median and test the exact bounds.
    """
    mean = np.zeros(n)
    spread = np.zeros(n)
    smallest = np.full(n, np.inf)
    largest = np.full(n, -np.inf)
    for j in range(count):
        row = tile_diffs[first + j * step]
        for t in range(n):
            mean[t] += row[t]
    for t in range(n):
        mean[t] /= count
    for j in range(count):
        row = tile_diffs[first + j * step]
        for t in range(n):
            v = row[t]
            spread[t] += (v - mean[t]) * (v - mean[t])
            smallest[t] = min(smallest[t], v)
            largest[t] = max(largest[t], v)
    std = np.empty(n)
    lower = np.empty(n)  # the median must be at least this ...
    upper = np.empty(n)  # ... and at most this
    for t in range(n):
        std[t] = np.sqrt(spread[t] / count)
        scale = max(abs(mean[t]), abs(smallest[t]), abs(largest[t]))
        margin = 1e-9 * std[t] + 1e-12 * scale
        lower[t] = largest[t] - sigma * std[t] + margin
        upper[t] = smallest[t] + sigma * std[t] - margin
    below = np.zeros(n, dtype=np.int64)
    above = np.zeros(n, dtype=np.int64)
    for j in range(count):
        row = tile_diffs[first + j * step]
        for t in range(n):
            below[t] += row[t] < lower[t]
            above[t] += row[t] > upper[t]
    middle = (count - 1) // 2
    column = np.empty(count)
    for t in range(n):
        if not clean[t] or (below[t] <= middle and above[t] <= middle):
            continue
        for j in range(count):
            column[j] = tile_diffs[first + j * step, t]
        centre = median_of_first(column, count)
        if smallest[t] < centre - sigma * std[t] or largest[t] > centre + sigma * std[t]:
            clean[t] = False


@numba.njit(cache=True, error_model="numpy", inline="always")
def _clipped_median_of_sorted(tile_sorted, t, n_values):
    """stcal's clipped median of column ``t`` of sorted absolute differences (>= 2 values; NaN if
    every value equals the largest): 2 values: the smaller; 3: the median; more: the median
    without every copy of the largest."""
    if n_values == 2:
        return tile_sorted[0, t]
    if n_values == 3:
        return tile_sorted[1, t]
    kept = n_values
    while kept > 0 and tile_sorted[kept - 1, t] == tile_sorted[n_values - 1, t]:
        kept -= 1
    if kept == 0:
        return np.nan
    clipped = tile_sorted[(kept - 1) // 2, t]
    if kept % 2 == 0:
        clipped = (clipped + tile_sorted[kept // 2, t]) / 2.0
    return clipped


@numba.njit(cache=True, error_model="numpy", inline="always")
def _clipped_median_of_values(values):
    """(smallest, clipped median, largest) of more than 3 unsorted absolute differences, as
    :func:`_clipped_median_of_sorted` gives for them sorted, by selection; reorders ``values``."""
    smallest = np.inf
    largest = -np.inf
    for v in values:
        smallest = min(smallest, v)
        largest = max(largest, v)
    kept = 0
    for v in values:
        if v != largest:
            values[kept] = v
            kept += 1
    if kept == 0:
        return smallest, np.nan, largest
    return smallest, median_of_first(values, kept), largest


@numba.njit(cache=True, error_model="numpy", inline="always")
def _detect_pixel(
    ramps, ramp_flags, gain, readnoise, nframes, regime, only_use_ints, rejection_threshold, three_diff_threshold,
    two_diff_threshold, min_neighbor_ratio, max_neighbor_ratio, clean_pixel_medians, y, x, diffs, flags, work,
    work2, clean_columns, new_groupdq, neighbor_sources, median_diffs, primary_jumps,
):  # fmt: skip
    """Two-point detection of pixel (y, x) (any flags, any regime), whose groups are ``ramps`` and
    ``ramp_flags`` (nints, ngroups). ``clean_columns[k]``: difference k is known to lose nothing to sigma
    clipping across integrations (its clipping is skipped). Neighbour words are written where non-zero."""
    nints, ngroups = ramps.shape
    ndiffs = ngroups - 1
    pixel_gain = gain[y, x]
    for i in range(nints):
        earlier = np.float32(np.nan)
        for g in range(ngroups):
            f = ramp_flags[i, g]
            flags[i, g] = f
            electrons = np.float32(np.nan) if f & UNUSABLE else ramps[i, g] * pixel_gain  # float32
            if g > 0:
                # numpy: np.diff in float32, then divided by a float64 array of ones
                diffs[i, g - 1] = np.float64(electrons - earlier)
            earlier = electrons
    rn = readnoise[y, x] * pixel_gain  # float32
    read_var = np.float64(rn * rn) / nframes
    bits_written = False
    if regime == REGIME_SIGMA_CLIP:  # clipping needs no median: take it only where something reads it
        _flag_by_sigma_clipping(
            diffs, ramp_flags, rejection_threshold, only_use_ints, clean_columns, flags, work, work2
        )
        if clean_pixel_medians:
            median = _nan_median(diffs, work)
        elif neighbor_sources.shape[1] == 0 or not _any_jump(flags):
            median = np.nan
        else:
            bits_written = _neighbor_bits_from_bracket(
                diffs, flags, read_var, min_neighbor_ratio, max_neighbor_ratio, y, x, neighbor_sources
            )
            median = np.nan if bits_written else _nan_median(diffs, work)
    else:
        median = _nan_median(diffs, work)
    sigma = np.sqrt(abs(median) + read_var)
    if sigma == 0.0:
        sigma = np.nan
    median_diffs[y, x] = median

    if regime == REGIME_ITERATIVE:
        _flag_iteratively(
            diffs, read_var, rejection_threshold, three_diff_threshold, two_diff_threshold, flags, work, work2
        )
    elif regime == REGIME_SINGLE_PASS:
        for i in range(nints):
            for k in range(ndiffs):
                d = diffs[i, k]
                if np.isfinite(d) and abs(d - median) / sigma > rejection_threshold:
                    flags[i, k + 1] |= JUMP_DET

    n_jumps = 0
    for i in range(nints):
        for g in range(ngroups):
            f = flags[i, g]
            if f & JUMP_DET:
                n_jumps += 1
                if f & UNUSABLE:
                    f ^= JUMP_DET
                if f != ramp_flags[i, g]:
                    new_groupdq[i, g, y, x] = f
    primary_jumps[y, x] = n_jumps
    n_words = 0 if bits_written else neighbor_sources.shape[1]
    for i in range(nints):
        for w in range(n_words):
            bits = np.uint64(0)
            for g in range(max(1, 64 * w), min(ngroups, 64 * (w + 1))):
                if flags[i, g] & JUMP_DET:
                    ratio = abs(diffs[i, g - 1] - median) / sigma
                    if ratio < max_neighbor_ratio and ratio > min_neighbor_ratio:
                        bits |= np.uint64(1) << np.uint64(g - 64 * w)
            if bits:
                neighbor_sources[i, w, y, x] = bits


@numba.njit(cache=True, error_model="numpy", inline="always")
def _neighbor_bits_from_bracket(diffs, flags, read_var, min_ratio, max_ratio, y, x, neighbor_sources):
    """Pixel (y, x)'s neighbour words without its median difference, where a bracket of the median decides them.

    The median of the (non-NaN) differences lies within one population standard deviation of their mean (true of
    any distribution), so over that bracket each jump's ratio ``|d - median| / sqrt(|median| + read_var)`` has a
    lower and an upper bound. When the bounds of every jump fall on one side of each threshold (strictly between
    them: a neighbour source; at or beyond either: not), the words are written and True is returned. Otherwise (a
    ratio near a threshold, or no finite statistics) nothing is written and False is returned: the caller takes
    the exact median (a time series' ~4500 differences: the costliest part of a pixel with a jump).
    """
    nints, ndiffs = diffs.shape
    count = 0
    total = 0.0
    for i in range(nints):
        for k in range(ndiffs):
            v = diffs[i, k]
            if not np.isnan(v):
                total += v
                count += 1
    if count == 0:
        return False
    mean = total / count
    spread = 0.0
    for i in range(nints):
        for k in range(ndiffs):
            v = diffs[i, k]
            if not np.isnan(v):
                spread += (v - mean) * (v - mean)
    std = np.sqrt(spread / count)
    low, high, sigma_low, sigma_high = _median_bracket(mean, std, 0.0, read_var)
    if not sigma_low > 0.0:  # also NaN: no finite statistics
        return False
    ngroups = flags.shape[1]
    for write in (False, True):  # decide every jump first; write only if all are decided
        for i in range(nints):
            for w in range(neighbor_sources.shape[1]):
                bits = np.uint64(0)
                for g in range(max(1, 64 * w), min(ngroups, 64 * (w + 1))):
                    if not flags[i, g] & JUMP_DET:
                        continue
                    decision = _neighbor_decision(diffs[i, g - 1], low, high, sigma_low, sigma_high, min_ratio, max_ratio)
                    if decision < 0:
                        return False
                    if decision > 0:
                        bits |= np.uint64(1) << np.uint64(g - 64 * w)
                if write and bits:
                    neighbor_sources[i, w, y, x] = bits
    return True


@numba.njit(cache=True, error_model="numpy", inline="always")
def _any_jump(flags):
    """Whether any group of the (nints, ngroups) ``flags`` has JUMP_DET."""
    for i in range(flags.shape[0]):
        for g in range(flags.shape[1]):
            if flags[i, g] & JUMP_DET:
                return True
    return False


@numba.njit(cache=True, error_model="numpy", inline="always")
def _nan_median(diffs, work):
    """NaN-median of the (nints, ndiffs) ``diffs`` (NaN if none is finite); ``work`` is scratch."""
    n = 0
    for i in range(diffs.shape[0]):
        for k in range(diffs.shape[1]):
            v = diffs[i, k]
            if not np.isnan(v):
                work[n] = v
                n += 1
    if n == 0:
        return np.nan
    return median_of_first(work, n)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _flag_iteratively(diffs, read_var, threshold_4plus, threshold_3, threshold_2, out, work, work2):
    """stcal's iterative search for few differences, on one pixel's (nints, ndiffs) ``diffs``.

    Each pass: clipped median of |diff| (>= 4 usable: all copies of the largest dropped; 3: median;
    2: minimum), ratio = |(|diff| - median)| / sigma, and the largest ratio (all its ties) is
    flagged and removed when above the threshold for the number of usable differences.
    """
    nints, ndiffs = diffs.shape
    absolute = work2[: nints * ndiffs]
    n_usable = 0
    for i in range(nints):
        for k in range(ndiffs):
            absolute[i * ndiffs + k] = abs(diffs[i, k])
            if not np.isnan(diffs[i, k]):
                n_usable += 1
    for iteration in range(nints * ndiffs):
        if n_usable < 2:
            return
        median = _clipped_median(absolute, n_usable, work)
        if iteration > 0:
            median = np.float64(np.float32(median))  # stcal keeps later medians in float32
        sigma = np.sqrt(abs(median) + read_var)
        if sigma == 0.0:
            return
        largest_excess = -1.0
        for v in absolute:
            if not np.isnan(v):
                largest_excess = max(largest_excess, np.float64(abs(np.float32(v - median))))
        # Division by sigma > 0 is monotonic, so this is the largest of stcal's ratios.
        largest = largest_excess / sigma
        if n_usable >= 4:
            threshold = threshold_4plus
        elif n_usable == 3:
            threshold = threshold_3
        else:
            threshold = threshold_2
        if not largest > threshold:
            return
        for j in range(nints * ndiffs):
            v = absolute[j]
            if not np.isnan(v) and np.float64(abs(np.float32(v - median))) / sigma == largest:
                out[j // ndiffs, j % ndiffs + 1] |= JUMP_DET
                absolute[j] = np.nan
                n_usable -= 1


@numba.njit(cache=True, error_model="numpy", inline="always")
def _clipped_median(absolute, n_usable, work):
    """stcal's ``calc_med_first_diffs`` for one pixel; ``n_usable`` >= 2 finite values."""
    largest = -np.inf
    for v in absolute:
        if v > largest:  # noqa: PLR1730 - skips NaN, unlike max()
            largest = v
    n = 0
    smallest = np.inf
    for v in absolute:
        if np.isnan(v):
            continue
        smallest = min(smallest, v)
        if n_usable >= 4 and v == largest:
            continue
        work[n] = v
        n += 1
    if n_usable == 2:
        return smallest
    if n == 0:
        return np.nan
    return median_of_first(work, n)


@numba.njit(cache=True, error_model="numpy", inline="always")
def _flag_by_sigma_clipping(diffs, flags, threshold, only_use_ints, clean_columns, out, work, work2):
    """Flag differences rejected by astropy's sigma clipping (median centre, std, 5 iterations).

    ``only_use_ints``: each difference index is clipped across integrations, except those marked in
    ``clean_columns`` (which would lose nothing); otherwise all of the pixel's differences together.
    Groups SATURATED or DO_NOT_USE are never flagged.
    """
    nints, ndiffs = diffs.shape
    for column in range(ndiffs if only_use_ints else 1):
        if only_use_ints and clean_columns[column]:
            continue
        selected = column if only_use_ints else -1
        low, high = _sigma_clip_bounds(diffs, selected, threshold, work, work2)
        for i in range(nints):
            for k in range(column if only_use_ints else 0, column + 1 if only_use_ints else ndiffs):
                d = diffs[i, k]
                if np.isfinite(d) and (d < low or d > high) and flags[i, k + 1] & UNUSABLE == 0:
                    out[i, k + 1] |= JUMP_DET


@numba.njit(cache=True, error_model="numpy", inline="always")
def _sigma_clip_bounds(diffs, column, sigma, kept, scratch):
    """Final (lower, upper) bounds of astropy's ``sigma_clip(cenfunc='median', stdfunc='std')``
    on the finite ``diffs[:, column]`` (all of ``diffs`` when ``column`` < 0)."""
    count = 0
    first, last = (0, diffs.shape[1]) if column < 0 else (column, column + 1)
    for i in range(diffs.shape[0]):
        for k in range(first, last):
            v = diffs[i, k]
            if np.isfinite(v):
                kept[count] = v
                count += 1
    _, low, high = astropy_sigma_clip(kept, count, sigma, SIGMA_CLIP_MAXITERS, scratch)
    return low, high


def _unflag_all_jump_planes(groupdq: np.ndarray, neighbor_sources: np.ndarray, primary_jumps: np.ndarray) -> None:
    """stcal's sigma-clipping epilogue: in a group plane where every pixel is JUMP_DET or
    DO_NOT_USE, pixels flagged exactly JUMP_DET are reset to 0 (evaluated on this chunk)."""
    planes = np.all(groupdq & (JUMP_DET | DO_NOT_USE) != 0, axis=(2, 3))
    for i, g in zip(*np.nonzero(planes)):
        jump_only = groupdq[i, g] == JUMP_DET
        groupdq[i, g][jump_only] = 0
        primary_jumps[jump_only] -= 1
        if neighbor_sources.shape[1]:
            neighbor_sources[i, g // 64][jump_only] &= ~np.uint64(1 << (g % 64))


@numba.njit(cache=True, parallel=True, error_model="numpy", nogil=True)
def _flag_neighbors_and_after_jumps(
    data,
    gain,
    groupdq,
    neighbor_sources,
    top,
    left,
    median_diffs,
    flag_after_jumps,
    after_jump_e1,
    after_jump_n1,
    after_jump_e2,
    after_jump_n2,
):
    """Neighbour and after-jump flags, in place.

    A group gets JUMP_DET when it or one of its four neighbours is a neighbour source (bit set in
    ``neighbor_sources``) and it is not SATURATED or DO_NOT_USE. Then jumps at least
    ``after_jump_e*`` electrons above the median difference flag the next ``after_jump_n*`` groups
    (not SATURATED or DO_NOT_USE). ``neighbor_sources`` may have a halo: pixel (y, x) of ``groupdq``
    is (y + top, x + left) there.
    """
    nints, _, ny, nx = groupdq.shape
    n_words, sy, sx = neighbor_sources.shape[1], neighbor_sources.shape[2], neighbor_sources.shape[3]
    for y in numba.prange(ny):
        ys = y + top
        for i in range(nints):  # integrations outside pixels: each plane's row is read contiguously
            for w in range(n_words):
                for x in range(nx):
                    xs = x + left
                    bits = neighbor_sources[i, w, ys, xs]
                    if ys > 0:
                        bits |= neighbor_sources[i, w, ys - 1, xs]
                    if ys < sy - 1:
                        bits |= neighbor_sources[i, w, ys + 1, xs]
                    if xs > 0:
                        bits |= neighbor_sources[i, w, ys, xs - 1]
                    if xs < sx - 1:
                        bits |= neighbor_sources[i, w, ys, xs + 1]
                    g = 64 * w
                    while bits:
                        if bits & np.uint64(1) and groupdq[i, g, y, x] & UNUSABLE == 0:
                            groupdq[i, g, y, x] |= JUMP_DET
                        bits >>= np.uint64(1)
                        g += 1
        if flag_after_jumps:  # each pixel's own groups, once its neighbour flags are all set
            for x in range(nx):
                _flag_after_jumps(
                    data, gain, groupdq, median_diffs[y, x], y, x,
                    after_jump_e1, after_jump_n1, after_jump_e2, after_jump_n2,
                )  # fmt: skip


@numba.njit(cache=True, error_model="numpy", inline="always")
def _flag_after_jumps(data, gain, groupdq, median, y, x, threshold1, n1, threshold2, n2):
    """Flag the ``n`` groups after jumps whose excess over the median difference is >= threshold."""
    nints, ngroups = groupdq.shape[:2]
    g_e = gain[y, x]
    for i in range(nints):
        until = -1  # last group to flag
        for g in range(1, ngroups):
            f = groupdq[i, g, y, x]
            if f & JUMP_DET:
                later = np.float32(np.nan) if f & UNUSABLE else data[i, g, y, x] * g_e
                f0 = groupdq[i, g - 1, y, x]
                earlier = np.float32(np.nan) if f0 & UNUSABLE else data[i, g - 1, y, x] * g_e
                excess = np.float64(later - earlier) - median
                if excess >= threshold1:
                    until = max(until, g + n1)
                if excess >= threshold2:
                    until = max(until, g + n2)
            if g <= until and groupdq[i, g, y, x] & UNUSABLE == 0:
                groupdq[i, g, y, x] |= JUMP_DET
