"""jump: flag cosmic-ray jumps with the two-point difference method (stcal 1.20 semantics)."""

from __future__ import annotations

import dataclasses

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels.dqflags import DO_NOT_USE
from jwstlazy.kernels.jump import JumpCandidates, find_jumps, flag_neighbors_and_after_jumps, flags_after_jumps
from jwstlazy.kernels.showers import MIN_DIFFS_FOR_SHOWER, flag_showers_integration, shower_statistics
from jwstlazy.kernels.snowballs import flag_snowballs
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, all_over_pixels, detached_reduction, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array, with_arrays


class JumpStep(Step):
    """Flag JUMP_DET on groups after outlying first differences (see docs/steps/jump.md).

    The exposure-level inputs of stcal's regime choice (groups flagged DO_NOT_USE everywhere) are a small
    reduction broadcast to every chunk; neighbour flagging uses a one-pixel halo.
    """

    name = "jump"
    keyword = "JUMP"
    reference_types = ("gain", "readnoise")
    reference_keywords = {"readnoise": "READNO"}

    @dataclasses.dataclass
    class Parameters(StepParameters):
        rejection_threshold: float = 4.0
        three_group_rejection_threshold: float = 6.0
        four_group_rejection_threshold: float = 5.0
        maximum_cores: str = "1"  # accepted for compatibility; parallelism comes from the dask scheduler
        use_ellipses: bool = False  # deprecated upstream and without effect there; accepted for parameter files
        flag_4_neighbors: bool = True
        max_jump_to_flag_neighbors: float = 1000.0
        min_jump_to_flag_neighbors: float = 10.0
        after_jump_flag_dn1: float = 0.0
        after_jump_flag_time1: float = 0.0
        after_jump_flag_dn2: float = 0.0
        after_jump_flag_time2: float = 0.0
        minimum_groups: int = 3
        min_diffs_single_pass: int = 10
        minimum_sigclip_groups: int = 100
        only_use_ints: bool = True
        expand_large_events: bool = False
        min_sat_area: float = 1.0
        min_jump_area: float = 5.0
        expand_factor: float = 2.0
        sat_required_snowball: bool = True
        min_sat_radius_extend: float = 2.5
        sat_expand: int = 2
        edge_size: int = 25
        mask_snowball_core_next_int: bool = True
        snowball_time_masked_next_int: int = 4000
        max_extended_radius: int = 200
        find_showers: bool = False  # MIRI shower flagging (docs/steps/jump.md, "Showers")
        max_shower_amplitude: float = 4.0  # accepted; jwst 3.0 uses 6 * TGROUP instead, and so do we
        extend_snr_threshold: float = 1.2
        extend_min_area: int = 90
        extend_inner_radius: float = 1.0
        extend_outer_radius: float = 2.6  # the ring's width beyond the inner radius, as stcal uses it
        extend_ellipse_expand_ratio: float = 1.1
        time_masked_after_shower: float = 15.0

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        p = self.parameters
        gain = reference_array(references["gain"], "SCI", np.float32)
        readnoise = reference_array(references["readnoise"], "SCI", np.float32)
        tgroup = float(ramp.attrs.get("TGROUP", 0.0)) or 1.0
        sci, groupdq, pixeldq = pixel_array(ramp, "SCI"), pixel_array(ramp, "GROUPDQ"), pixel_array(ramp, "PIXELDQ")
        if p.only_use_ints and sci.shape[0] >= p.minimum_sigclip_groups:
            # sigma clipping whatever the flags: no need to wait for every block's flags (bounded memory)
            fully_flagged = np.zeros(sci.shape[:2] + (1, 1), dtype=bool)
        else:  # the regime depends on groups flagged DO_NOT_USE in every pixel: an exposure-wide reduction,
            # decided from one block unless that block is flagged everywhere (MIRI's whole-group flags: always)
            near_infrared = str(ramp.attrs.get("INSTRUME", "")).upper() != "MIRI"
            flagged = (groupdq & DO_NOT_USE) != 0
            fully_flagged = all_over_pixels(flagged, witness=near_infrared)[..., None, None]
        fully_flagged_planes = da.broadcast_to(fully_flagged, sci.shape, chunks=sci.chunks)
        options = dict(
            nframes=integer_keyword(ramp, "NFRAMES", 1),
            rejection_threshold=p.rejection_threshold,
            three_group_rejection_threshold=p.three_group_rejection_threshold,
            four_group_rejection_threshold=p.four_group_rejection_threshold,
            flag_4_neighbors=p.flag_4_neighbors,
            max_jump_to_flag_neighbors=p.max_jump_to_flag_neighbors,
            min_jump_to_flag_neighbors=p.min_jump_to_flag_neighbors,
            minimum_groups=p.minimum_groups,
            min_diffs_single_pass=p.min_diffs_single_pass,
            minimum_sigclip_groups=p.minimum_sigclip_groups,
            only_use_ints=p.only_use_ints,
        )
        after_jump = dict(
            after_jump_flag_dn1=p.after_jump_flag_dn1,
            after_jump_flag_n1=int(p.after_jump_flag_time1 // tgroup),
            after_jump_flag_dn2=p.after_jump_flag_dn2,
            after_jump_flag_n2=int(p.after_jump_flag_time2 // tgroup),
        )
        # pass 2 reads a pixel's median difference only to flag groups after its jumps
        options["clean_pixel_medians"] = flags_after_jumps(after_jump["after_jump_flag_n1"], after_jump["after_jump_flag_n2"])
        # the after-jump thresholds use the whole detector's median gain: a one-task reduction, broadcast;
        # without after-jump flagging (the default) nothing reads it, and the gain is not read for it
        if options["clean_pixel_medians"]:
            (gain_median,) = detached_reduction(_nan_median, [((), np.float64)], gain)
        else:
            gain_median = da.from_array(np.array(np.nan))
        gain_median_plane = da.broadcast_to(gain_median, sci.shape[-2:], chunks=sci.chunks[-2:])

        n_words = -(-sci.shape[1] // 64) if p.flag_4_neighbors else 0
        groupdq, pixeldq, sources, median_diffs = map_pixel_blocks(
            _find_block,
            [sci, groupdq, pixeldq, gain, readnoise, fully_flagged_planes],
            [OutputSpec(np.uint8, sci.shape[:2]), OutputSpec(np.uint32),
             OutputSpec(np.uint64, (sci.shape[0], n_words)), OutputSpec(np.float64)],
            name="jump-find",
            options=options,
        )
        # pass 2: neighbour and after-jump flags; only the neighbour bits cross block borders
        (groupdq,) = map_pixel_blocks(
            _flag_block,
            [sci, gain, groupdq, sources, median_diffs, gain_median_plane],
            [OutputSpec(np.uint8, sci.shape[:2])],
            halo=1 if p.flag_4_neighbors else 0,
            halo_inputs=[3],
            name="jump-neighbours",
            after_jump=after_jump,
        )
        if p.expand_large_events:
            groupdq = self._expand_snowballs(groupdq, tgroup)
        if p.find_showers:
            groupdq = self._flag_showers(sci, groupdq, pixeldq, gain, readnoise, tgroup,
                                         integer_keyword(ramp, "NFRAMES", 1))
        return with_arrays(ramp, GROUPDQ=groupdq, PIXELDQ=pixeldq)

    def _expand_snowballs(self, groupdq: da.Array, group_time: float) -> da.Array:
        """Snowball expansion (near-IR) on whole frames: one task per exposure on the uint8 group flags.

        Events reach up to ``2 * max_extended_radius`` pixels, so the frame is not split here; the flags are
        1 byte per sample, and the result goes back to the pixel-block chunking.
        """
        p = self.parameters
        whole = groupdq.rechunk({2: -1, 3: -1})
        options = dict(
            group_time=group_time, min_jump_area=p.min_jump_area, min_sat_area=p.min_sat_area,
            expand_factor=p.expand_factor, sat_required_snowball=p.sat_required_snowball,
            min_sat_radius_extend=p.min_sat_radius_extend, sat_expand=p.sat_expand, edge_size=p.edge_size,
            max_extended_radius=p.max_extended_radius, mask_snowball_core_next_int=p.mask_snowball_core_next_int,
            snowball_time_masked_next_int=p.snowball_time_masked_next_int,
        )
        expanded = whole.map_blocks(lambda block: flag_snowballs(block, **options).groupdq, dtype=np.uint8,
                                    token="snowballs")
        return expanded.rechunk(groupdq.chunks)

    def _flag_showers(self, sci: da.Array, groupdq: da.Array, pixeldq: da.Array, gain, readnoise,
                      group_time: float, nframes: int) -> da.Array:
        """MIRI shower flagging (``find_showers``), as ``flag_showers`` on the whole exposure.

        The per-pixel statistics (median over all integrations) run on the pixel blocks; the search and the
        flagging need whole frames (showers reach ``2 * max_extended_radius`` pixels) but only one integration:
        one task per integration on its (ngroups, ny, nx) frames, then back to the pixel-block chunking.
        """
        p = self.parameters
        nints, ngroups = sci.shape[:2]
        if ngroups < 2:
            return groupdq
        sigma_clip = nints >= p.minimum_sigclip_groups
        n_planes = ngroups - 1 if sigma_clip else 1
        center, sigma = map_pixel_blocks(
            shower_statistics, [sci, groupdq, gain, readnoise], [OutputSpec(np.float32, (n_planes,))] * 2,
            name="shower-statistics", nframes=nframes, sigma_clip=sigma_clip,
        )
        # stcal skips the search with < 10 differences, not counting groups DO_NOT_USE everywhere
        fully_flagged = da.all((groupdq & DO_NOT_USE) != 0, axis=(2, 3))
        usable = nints * (ngroups - 1) - da.count_nonzero(fully_flagged)
        usable_per_integration = da.broadcast_to(usable, (nints,), chunks=1)
        options = {
            "group_time": group_time, "extend_snr_threshold": p.extend_snr_threshold,
            "extend_min_area": p.extend_min_area, "extend_inner_radius": p.extend_inner_radius,
            "extend_outer_radius": p.extend_outer_radius, "extend_ellipse_expand_ratio": p.extend_ellipse_expand_ratio,
            "time_masked_after_shower": p.time_masked_after_shower, "max_extended_radius": p.max_extended_radius,
        }

        def integration(data, gdq, pdq, gain_frame, center_frames, sigma_frames, n_usable):
            if int(n_usable[0]) < MIN_DIFFS_FOR_SHOWER:
                return gdq
            result = flag_showers_integration(data[0], gdq[0], pdq, gain_frame, center_frames, sigma_frames,
                                              **options)
            return result.groupdq[np.newaxis]

        frames = {0: 1, 1: -1, 2: -1, 3: -1}
        flagged = da.blockwise(
            integration, "igyx",
            sci.rechunk(frames), "igyx", groupdq.rechunk(frames), "igyx", pixeldq.rechunk(-1), "yx",
            da.asarray(gain).rechunk(-1), "yx", center.rechunk(-1), "cyx", sigma.rechunk(-1), "cyx",
            usable_per_integration, "i",
            dtype=np.uint8, concatenate=True, token="showers",
        )
        return flagged.rechunk(groupdq.chunks)


def _find_block(data, gdq, pdq, gain, readnoise, flagged_planes, *, options):
    """Pass 1 on one block: (groupdq, pixeldq, neighbour bits, median differences)."""
    flagged = np.ascontiguousarray(flagged_planes[:, :, 0, 0])
    found = find_jumps(data, gdq, pdq, gain, readnoise, fully_flagged=flagged, **options)
    return found.groupdq, found.pixeldq, found.neighbor_sources, found.median_diffs


def _flag_block(data, gain, gdq, sources, median_diffs, median_plane, *, after_jump, core=None):
    """Pass 2 on one block (``sources`` with a one-pixel halo): the final group DQ."""
    candidates = JumpCandidates(gdq, None, None, sources, median_diffs)
    return flag_neighbors_and_after_jumps(data, gain, candidates, gain_median=float(median_plane.flat[0]),
                                          core=core, **after_jump)  # fmt: skip


def _nan_median(values: np.ndarray) -> tuple[np.ndarray]:
    return (np.array(np.nanmedian(values)),)
