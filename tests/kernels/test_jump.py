"""Tests of jwstlazy.kernels.jump: a slow NumPy reference, hand-made ramps, halos, and stcal."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels.dqflags import DO_NOT_USE, JUMP_DET, NO_GAIN_VALUE, SATURATED
from jwstlazy.kernels.jump import detect_jumps, find_jumps, fully_flagged_groups

UNUSABLE = DO_NOT_USE | SATURATED

# ---------------------------------------------------------------------------------------------
# Slow, obviously-correct reference (per pixel, plain NumPy), written from docs/steps/jump.md
# ---------------------------------------------------------------------------------------------


def _clipped_median(values: np.ndarray) -> float:
    usable = values[~np.isnan(values)]
    if usable.size >= 4:
        rest = usable[usable != usable.max()]  # every copy of the largest is dropped
        return float(np.median(rest)) if rest.size else np.nan
    if usable.size == 3:
        return float(np.median(usable))
    if usable.size == 2:
        return float(usable.min())
    return np.nan


def _sigma_clip_outliers(values: np.ndarray, sigma: float) -> np.ndarray:
    """Outlier mask of astropy's sigma clipping (median centre, std, 5 iterations)."""
    from astropy.stats import sigma_clip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.ma.getmaskarray(sigma_clip(values, sigma=sigma, maxiters=5)) & np.isfinite(values)


@np.errstate(all="ignore")
def reference_detect_jumps(
    data,
    groupdq,
    pixeldq,
    gain,
    readnoise,
    nframes=1,
    rejection=4.0,
    three_group=6.0,
    four_group=5.0,
    flag_4_neighbors=True,
    max_neighbor=1000.0,
    min_neighbor=10.0,
    dn1=0.0,
    n1=0,
    dn2=0.0,
    n2=0,
    min_sigclip=100,
    only_use_ints=True,
):
    nints, ngroups, ny, nx = data.shape
    electrons = data.astype(np.float32) * gain.astype(np.float32)
    electrons[groupdq & UNUSABLE != 0] = np.nan
    out = groupdq.copy()
    pdq = pixeldq.copy()
    pdq[~(gain > 0)] |= DO_NOT_USE | NO_GAIN_VALUE
    all_dnu = np.all(groupdq & DO_NOT_USE != 0, axis=(2, 3))
    usable_groups = ngroups - all_dnu.sum(axis=1).max()
    total_groups = nints * ngroups - all_dnu.sum()
    sigclip = (nints if only_use_ints else total_groups) >= min_sigclip
    if not sigclip and usable_groups < 3:
        regime = "none"
    elif sigclip:
        regime = "sigclip"
    else:
        regime = "single" if usable_groups - 1 >= 10 else "iterative"
    sources = np.zeros(out.shape, bool)
    medians = np.zeros((ny, nx))
    for y in range(ny):
        for x in range(nx):
            if regime == "none":
                continue
            diffs = np.diff(electrons[:, :, y, x], axis=1).astype(np.float64)
            median = np.nanmedian(diffs) if np.any(np.isfinite(diffs)) else np.nan
            medians[y, x] = median
            rn = np.float32(readnoise[y, x]) * np.float32(gain[y, x])
            read_var = np.float64(rn * rn) / nframes
            sigma = np.sqrt(abs(median) + read_var)
            sigma = np.nan if sigma == 0 else sigma
            jumps = np.zeros(diffs.shape, bool)
            if regime == "iterative":
                absolute = np.abs(diffs)
                for iteration in range(diffs.size):
                    n_usable = np.sum(~np.isnan(absolute))
                    if n_usable < 2:
                        break
                    m = _clipped_median(absolute)
                    m = m if iteration == 0 else float(np.float32(m))
                    s = np.sqrt(abs(m) + read_var)
                    ratio = np.abs((absolute - m).astype(np.float32)).astype(np.float64) / s
                    threshold = rejection if n_usable >= 4 else four_group if n_usable == 3 else three_group
                    if not s > 0 or not np.nanmax(ratio) > threshold:
                        break
                    hit = ratio == np.nanmax(ratio)
                    jumps |= hit
                    absolute[hit] = np.nan
            elif regime == "single":
                jumps = np.abs(diffs - median) / sigma > rejection
            else:
                flags_after = groupdq[:, 1:, y, x]
                if only_use_ints:
                    for k in range(ngroups - 1):
                        jumps[:, k] = _sigma_clip_outliers(diffs[:, k], rejection)
                else:
                    jumps = _sigma_clip_outliers(diffs.ravel(), rejection).reshape(diffs.shape)
                jumps &= flags_after & UNUSABLE == 0
            out[:, 1:, y, x][jumps] |= JUMP_DET
            ratio = np.abs(diffs - median) / sigma
            sources[:, 1:, y, x] = (ratio > min_neighbor) & (ratio < max_neighbor) & (out[:, 1:, y, x] & JUMP_DET != 0)
    if regime == "sigclip":  # stcal's epilogue: planes that are entirely JUMP_DET or DO_NOT_USE
        for i, g in zip(*np.nonzero(np.all(out & (JUMP_DET | DO_NOT_USE) != 0, axis=(2, 3)))):
            jump_only = out[i, g] == JUMP_DET
            out[i, g][jump_only] = 0
            sources[i, g][jump_only] = False
    primary = np.sum(out & JUMP_DET != 0, axis=(0, 1))
    if flag_4_neighbors and regime != "none":
        grown = sources.copy()
        grown[..., 1:, :] |= sources[..., :-1, :]
        grown[..., :-1, :] |= sources[..., 1:, :]
        grown[..., :, 1:] |= sources[..., :, :-1]
        grown[..., :, :-1] |= sources[..., :, 1:]
        out[grown & (out & UNUSABLE == 0)] |= JUMP_DET
    if (n1 > 0 or n2 > 0) and regime != "none":
        gain_median = np.nanmedian(gain)
        for y in range(ny):
            for x in range(nx):
                excess = np.diff(electrons[:, :, y, x], axis=1).astype(np.float64) - medians[y, x]
                for i in range(nints):
                    flagged = np.zeros(ngroups, bool)
                    for g in range(1, ngroups):
                        if out[i, g, y, x] & JUMP_DET:
                            for threshold, n in ((dn1 * gain_median, n1), (dn2 * gain_median, n2)):
                                if excess[i, g - 1] >= threshold:
                                    flagged[g : g + n + 1] = True
                    out[i, flagged & (out[i, :, y, x] & UNUSABLE == 0), y, x] |= JUMP_DET
    both = (out & JUMP_DET != 0) & (out & UNUSABLE != 0)
    out[both] ^= JUMP_DET
    return out, pdq, primary


def random_ramps(nints=1, ngroups=10, ny=12, nx=14, seed=0, cr_fraction=0.02, flagged=True):
    """Realistic ramps (DN) with cosmic rays, saturation, DO_NOT_USE and prior jump flags (``flagged=False``:
    none of these flags and no bad gain or read noise: most pixels of a long series are then clean)."""
    rng = np.random.default_rng(seed)
    rate = np.where(rng.random((ny, nx)) < 0.3, rng.uniform(-2, 5, (ny, nx)), 10 ** rng.uniform(0, 3.5, (ny, nx)))
    gain = rng.uniform(1.5, 2.5, (ny, nx)).astype(np.float32)
    rn = rng.uniform(5, 15, (ny, nx)).astype(np.float32)
    g = np.arange(ngroups)[None, :, None, None]
    shape = (nints, ngroups, ny, nx)
    data = 1000 + rate * (g + 1) + rng.normal(0, 1, shape) * rn / np.sqrt(2)
    data += rng.normal(0, 1, shape) * np.sqrt(np.abs(rate) * (g + 1) / gain)
    hits = rng.random(shape) < cr_fraction
    hits[:, 0] = False
    data += np.cumsum(hits * 10 ** rng.uniform(1, 3.5, shape), axis=1)
    gdq = np.zeros(shape, np.uint8)
    if not flagged:
        return data.astype(np.float32), gdq, np.zeros((ny, nx), np.uint32), gain, rn
    saturating = rng.random((nints, ny, nx)) < 0.05
    first_saturated = rng.integers(0, ngroups, (nints, ny, nx))
    gdq[saturating[:, None] & (g >= first_saturated[:, None])] |= SATURATED
    gdq[rng.random(shape) < 0.02] |= DO_NOT_USE
    gdq[rng.random(shape) < 0.003] |= JUMP_DET
    gain[rng.random((ny, nx)) < 0.01] = 0.0
    gain[rng.random((ny, nx)) < 0.01] = np.nan
    rn[rng.random((ny, nx)) < 0.01] = np.nan
    return data.astype(np.float32), gdq, np.zeros((ny, nx), np.uint32), gain, rn


# ---------------------------------------------------------------------------------------------
# Kernel vs reference
# ---------------------------------------------------------------------------------------------

REFERENCE_CASES = [
    dict(nints=1, ngroups=10, seed=0),  # iterative (9 differences)
    dict(nints=1, ngroups=4, seed=1),  # iterative, 5-sigma threshold for 3 differences
    dict(nints=1, ngroups=3, seed=2),  # iterative, 6-sigma threshold for 2 differences
    dict(nints=3, ngroups=5, seed=3),  # iterative across integrations
    dict(nints=8, ngroups=8, seed=10),  # iterative, 56 differences: screening by selection
    dict(nints=6, ngroups=12, seed=11),  # single pass, 66 differences: the long-column median
    dict(nints=1, ngroups=14, seed=4),  # single pass (13 differences)
    dict(nints=2, ngroups=12, seed=5, dn1=200, n1=2, dn2=1000, n2=4),  # after-jump flagging
    dict(nints=1, ngroups=10, seed=6, flag_4_neighbors=False),
    dict(nints=2, ngroups=6, seed=7, nframes=4),
    dict(nints=104, ngroups=3, ny=6, nx=7, seed=8),  # sigma clipping across integrations
    dict(nints=2, ngroups=55, ny=6, nx=7, seed=9, only_use_ints=False, min_sigclip=100),
    # clean pixels, most of them screened together, with clipping across integrations and over all differences
    dict(nints=104, ngroups=4, ny=4, nx=140, seed=13, cr_fraction=0.0005, flagged=False),
    dict(nints=2, ngroups=60, ny=4, nx=140, seed=14, cr_fraction=0.0005, flagged=False, only_use_ints=False,
         min_sigclip=100),
]


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_matches_reference_on_random_ramps(case):
    case = dict(case)
    shape = {k: case.pop(k) for k in ("nints", "ngroups", "ny", "nx", "seed", "cr_fraction", "flagged") if k in case}
    data, gdq, pdq, gain, rn = random_ramps(**shape)
    nframes = case.pop("nframes", 1)
    ours = detect_jumps(
        data,
        gdq,
        pdq,
        gain,
        rn,
        nframes=nframes,
        flag_4_neighbors=case.get("flag_4_neighbors", True),
        after_jump_flag_dn1=case.get("dn1", 0.0),
        after_jump_flag_n1=case.get("n1", 0),
        after_jump_flag_dn2=case.get("dn2", 0.0),
        after_jump_flag_n2=case.get("n2", 0),
        minimum_sigclip_groups=case.get("min_sigclip", 100),
        only_use_ints=case.get("only_use_ints", True),
    )
    expected_gdq, expected_pdq, expected_primary = reference_detect_jumps(data, gdq, pdq, gain, rn, nframes, **case)
    assert np.any(ours.groupdq & JUMP_DET & ~gdq)  # the case does find jumps
    np.testing.assert_array_equal(ours.groupdq, expected_gdq)
    np.testing.assert_array_equal(ours.pixeldq, expected_pdq)
    np.testing.assert_array_equal(ours.primary_jumps, expected_primary)


def test_inputs_are_not_modified():
    data, gdq, pdq, gain, rn = random_ramps(seed=11)
    copies = [a.copy() for a in (data, gdq, pdq, gain, rn)]
    detect_jumps(data, gdq, pdq, gain, rn, nframes=1)
    for before, after in zip(copies, (data, gdq, pdq, gain, rn)):
        np.testing.assert_array_equal(before, after)


def test_chunks_with_a_one_pixel_halo_reproduce_the_whole_array():
    data, gdq, pdq, gain, rn = random_ramps(ny=16, nx=18, seed=12, cr_fraction=0.05)
    exposure = dict(nframes=1, fully_flagged=fully_flagged_groups(gdq), gain_median=float(np.nanmedian(gain)))
    whole = detect_jumps(data, gdq, pdq, gain, rn, **exposure)
    stitched = np.zeros_like(gdq)
    for y0, y1 in ((0, 7), (7, 16)):
        for x0, x1 in ((0, 5), (5, 11), (11, 18)):
            hy0, hy1, hx0, hx1 = max(y0 - 1, 0), min(y1 + 1, 16), max(x0 - 1, 0), min(x1 + 1, 18)
            window = (Ellipsis, slice(hy0, hy1), slice(hx0, hx1))
            plane = window[1:]
            part = detect_jumps(data[window], gdq[window], pdq[plane], gain[plane], rn[plane], **exposure)
            stitched[..., y0:y1, x0:x1] = part.groupdq[..., y0 - hy0 : y1 - hy0, x0 - hx0 : x1 - hx0]
    np.testing.assert_array_equal(stitched, whole.groupdq)
    assert np.any(whole.groupdq & JUMP_DET & ~gdq)


# ---------------------------------------------------------------------------------------------
# Hand-made ramps
# ---------------------------------------------------------------------------------------------


def flat_scene(ngroups=10, ny=5, nx=5, rate=10.0, nints=1):
    """A field of identical, noiseless ramps (gain 1, read noise 1 DN) and clean flags."""
    data = np.broadcast_to(rate * np.arange(ngroups, dtype=np.float32)[None, :, None, None], (nints, ngroups, ny, nx))
    ones = np.ones((ny, nx), np.float32)
    return data.copy(), np.zeros(data.shape, np.uint8), np.zeros((ny, nx), np.uint32), ones, ones.copy()


def sigma_of(rate=10.0, read_noise=1.0, nframes=1):
    return np.sqrt(rate + read_noise**2 / nframes)


@pytest.mark.parametrize(
    ("size_in_sigma", "center_flagged", "neighbors_flagged"),
    [(7.0, True, False), (30.0, True, True), (1500.0, True, False), (3.0, False, False)],
)
def test_single_jump_and_its_neighbors(size_in_sigma, center_flagged, neighbors_flagged):
    data, gdq, pdq, gain, rn = flat_scene()
    data[0, 6:, 2, 2] += size_in_sigma * sigma_of()
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1).groupdq
    assert bool(result[0, 6, 2, 2] & JUMP_DET) == center_flagged
    for y, x in ((1, 2), (3, 2), (2, 1), (2, 3)):
        assert bool(result[0, 6, y, x] & JUMP_DET) == neighbors_flagged
    assert not np.any(result[0, 6, 1, 1] & JUMP_DET)  # diagonal neighbours never
    assert np.count_nonzero(result[0, :6]) + np.count_nonzero(result[0, 7:]) == 0  # other groups untouched


@pytest.mark.parametrize(("size_in_sigma", "flagged"), [(5.8, False), (6.2, True)])
def test_three_group_ramp_uses_the_six_sigma_threshold(size_in_sigma, flagged):
    data, gdq, pdq, gain, rn = flat_scene(ngroups=3)
    data[0, 2:, 2, 2] += size_in_sigma * sigma_of()  # 2 differences: median = smaller |diff| = 10
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1).groupdq
    assert bool(result[0, 2, 2, 2] & JUMP_DET) == flagged


@pytest.mark.parametrize(("size_in_sigma", "flagged"), [(4.8, False), (5.2, True)])
def test_four_group_ramp_uses_the_five_sigma_threshold(size_in_sigma, flagged):
    data, gdq, pdq, gain, rn = flat_scene(ngroups=4)
    data[0, 2:, 2, 2] += size_in_sigma * sigma_of()  # 3 differences: median of |diff| = 10
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1).groupdq
    assert bool(result[0, 2, 2, 2] & JUMP_DET) == flagged


def test_nframes_lowers_the_read_noise_in_sigma():
    data, gdq, pdq, gain, rn = flat_scene(rate=0.0)
    rn[:] = 10.0
    data[0, 5:, 2, 2] += 6.0 * sigma_of(0.0, 10.0, nframes=4)  # 6 sigma with nframes=4, 3 with 1
    assert detect_jumps(data, gdq, pdq, gain, rn, nframes=4).groupdq[0, 5, 2, 2] & JUMP_DET
    assert not detect_jumps(data, gdq, pdq, gain, rn, nframes=1).groupdq[0, 5, 2, 2] & JUMP_DET


def test_two_jumps_are_found_iteratively():
    data, gdq, pdq, gain, rn = flat_scene()
    data[0, 3:, 2, 2] += 500.0
    data[0, 7:, 2, 2] += 80.0
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1, flag_4_neighbors=False)
    assert np.flatnonzero(result.groupdq[0, :, 2, 2] & JUMP_DET).tolist() == [3, 7]
    assert result.primary_jumps[2, 2] == 2 and result.primary_jumps.sum() == 2


def test_single_pass_with_many_groups():
    data, gdq, pdq, gain, rn = flat_scene(ngroups=15)
    data[0, 4:, 2, 2] += 5.0 * sigma_of()
    data[0, 9:, 2, 2] += 300.0
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1, flag_4_neighbors=False).groupdq
    assert np.flatnonzero(result[0, :, 2, 2] & JUMP_DET).tolist() == [4, 9]


def test_too_few_usable_groups_skips_detection():
    data, gdq, pdq, gain, rn = flat_scene(ngroups=4)
    gdq[:, 0] = DO_NOT_USE  # every pixel: only 3 usable groups... still >= 3
    gdq[:, 1] = DO_NOT_USE  # now 2 usable groups < minimum_groups
    data[0, 3:, 2, 2] += 1000.0
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1)
    np.testing.assert_array_equal(result.groupdq, gdq)


@pytest.mark.parametrize("ngroups", [1, 2])
def test_one_or_two_groups_are_left_alone(ngroups):
    data, gdq, pdq, gain, rn = flat_scene(ngroups=ngroups)
    data[0, -1, 2, 2] += 1000.0
    gdq[0, -1, 1, 1] = JUMP_DET | SATURATED
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1)
    expected = gdq.copy()
    expected[0, -1, 1, 1] = SATURATED  # only the final clean-up applies
    np.testing.assert_array_equal(result.groupdq, expected)
    assert result.primary_jumps[1, 1] == 1 and result.primary_jumps.sum() == 1


def test_jump_is_removed_where_do_not_use_or_saturated():
    data, gdq, pdq, gain, rn = flat_scene()
    gdq[0, 4, 1, 1] = JUMP_DET | DO_NOT_USE
    gdq[0, 5, 1, 1] = JUMP_DET | SATURATED
    gdq[0, 6, 1, 1] = JUMP_DET
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1)
    assert result.groupdq[0, 4, 1, 1] == DO_NOT_USE
    assert result.groupdq[0, 5, 1, 1] == SATURATED
    assert result.groupdq[0, 6, 1, 1] == JUMP_DET
    assert result.primary_jumps[1, 1] == 3  # counted before the clean-up, as stcal does


def test_neighbors_that_are_saturated_or_unusable_are_not_flagged():
    data, gdq, pdq, gain, rn = flat_scene()
    data[0, 6:, 2, 2] += 30.0 * sigma_of()
    gdq[0, 6:, 1, 2] = SATURATED
    gdq[0, 6, 3, 2] = DO_NOT_USE
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1).groupdq
    assert result[0, 6, 1, 2] == SATURATED
    assert result[0, 6, 3, 2] == DO_NOT_USE
    assert result[0, 6, 2, 1] == JUMP_DET and result[0, 6, 2, 3] == JUMP_DET


def test_after_jump_flagging():
    data, gdq, pdq, gain, rn = flat_scene(ngroups=12)
    data[0, 3:, 2, 2] += 5000.0  # >= dn2: 4 more groups
    data[0, 3:, 0, 0] += 500.0  # >= dn1 only: 1 more group
    gdq[0, 5, 2, 2] = SATURATED  # never gets JUMP_DET
    result = detect_jumps(
        data, gdq, pdq, gain, rn, nframes=1, flag_4_neighbors=False,
        after_jump_flag_dn1=300.0, after_jump_flag_n1=1, after_jump_flag_dn2=3000.0, after_jump_flag_n2=4,
    ).groupdq  # fmt: skip
    assert np.flatnonzero(result[0, :, 2, 2] & JUMP_DET).tolist() == [3, 4, 6, 7]
    assert np.flatnonzero(result[0, :, 0, 0] & JUMP_DET).tolist() == [3, 4]


def test_bad_gain_flags_the_pixel():
    data, gdq, pdq, gain, rn = flat_scene()
    gain[0, 0], gain[0, 1], gain[0, 2] = 0.0, np.nan, -2.0
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1)
    assert result.pixeldq[0, :3].tolist() == [DO_NOT_USE | NO_GAIN_VALUE] * 3
    assert np.all(result.pixeldq[1:] == 0) and np.all(result.groupdq == 0)


def test_sigma_clipping_across_integrations():
    rng = np.random.default_rng(3)
    data, gdq, pdq, gain, rn = flat_scene(ngroups=3, nints=120)
    data += rng.normal(0, 1, data.shape).astype(np.float32)
    data[50, 2:, 2, 2] += 100.0
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1, flag_4_neighbors=False).groupdq
    assert result[50, 2, 2, 2] & JUMP_DET
    assert np.count_nonzero(result & JUMP_DET) < 0.01 * result.size


def test_fully_flagged_groups_choose_the_regime_for_every_chunk():
    data, gdq, pdq, gain, rn = flat_scene(ngroups=4)
    data[0, 3:, 2, 2] += 1000.0
    exposure_flags = np.array([[True, True, False, False]])  # the exposure has 2 usable groups
    result = detect_jumps(data, gdq, pdq, gain, rn, nframes=1, fully_flagged=exposure_flags)
    np.testing.assert_array_equal(result.groupdq, gdq)  # skipped, although this chunk is clean


# ---------------------------------------------------------------------------------------------
# Agreement with the official stcal 1.20
# ---------------------------------------------------------------------------------------------


def stcal_detect(data, gdq, pdq, gain, rn, nframes=1, **settings):
    from stcal.jump.jump import detect_jumps_data
    from stcal.jump.jump_class import JumpData

    jump_data = JumpData(gain2d=gain.copy(), rnoise2d=rn.copy(), dqflags=dqflags.PIXEL)
    jump_data.init_arrays_from_arrays(data.copy(), gdq.copy(), pdq.copy())
    jump_data.nframes = nframes
    jump_data.dt_group = np.ones(1)
    jump_data.n_reads_groupdiff = np.ones(1) * 2 * nframes
    jump_data.set_detection_settings(4.0, 6.0, 5.0, 1000.0, 10.0, settings.get("flag_4_neighbors", True))
    jump_data.set_after_jump(
        settings.get("after_jump_flag_dn1", 0.0),
        settings.get("after_jump_flag_n1", 0),
        settings.get("after_jump_flag_dn2", 0.0),
        settings.get("after_jump_flag_n2", 0),
    )
    jump_data.set_sigma_clipping_info(
        3, settings.get("minimum_sigclip_groups", 100), settings.get("only_use_ints", True)
    )
    jump_data.max_cores = "1"
    return detect_jumps_data(jump_data)


CROSSCHECK_CASES = [
    dict(nints=1, ngroups=10),
    dict(nints=1, ngroups=5),
    dict(nints=1, ngroups=3),
    dict(nints=3, ngroups=4),
    dict(nints=1, ngroups=15),
    dict(nints=3, ngroups=10),  # 27 differences: screening by selection (more than SMALL_MEDIAN values)
    dict(nints=8, ngroups=8),  # 56 differences, iterative: screening by selection
    dict(nints=6, ngroups=12),  # 66 differences, single pass: the long-column median
    dict(
        nints=2,
        ngroups=12,
        after_jump_flag_dn1=200.0,
        after_jump_flag_n1=2,
        after_jump_flag_dn2=1000.0,
        after_jump_flag_n2=4,
    ),
    dict(nints=120, ngroups=3, ny=12, nx=14),
    dict(nints=120, ngroups=4, ny=4, flagged=False),  # mostly clean pixels: the screening of sigma clipping
    dict(nints=2, ngroups=60, ny=12, nx=14, only_use_ints=False),
    dict(nints=2, ngroups=6, nframes=4),
]


@pytest.mark.crosscheck
@pytest.mark.parametrize("case", CROSSCHECK_CASES, ids=lambda c: f"{c['nints']}x{c['ngroups']}")
def test_agrees_with_stcal(case):
    pytest.importorskip("stcal")
    settings = dict(case)
    nints, ngroups = settings.pop("nints"), settings.pop("ngroups")
    # 300 columns: several 128-pixel tiles of the vectorised screening, and a partial one
    ny, nx, nframes = settings.pop("ny", 8), settings.pop("nx", 300), settings.pop("nframes", 1)
    flags = {"flagged": False, "cr_fraction": 0.0005} if not settings.pop("flagged", True) else {}
    data, gdq, pdq, gain, rn = random_ramps(nints, ngroups, ny, nx, seed=100 + nints * ngroups, **flags)
    ours = detect_jumps(data, gdq, pdq, gain, rn, nframes=nframes, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        groupdq, pixeldq, n_primary, _ = stcal_detect(data, gdq, pdq, gain, rn, nframes, **settings)
    # The brief asks >= 99.9 % identical DQ; we match every group.
    np.testing.assert_array_equal(ours.groupdq, groupdq)
    np.testing.assert_array_equal(ours.pixeldq, pixeldq)
    assert ours.primary_jumps.sum() == n_primary
    assert np.count_nonzero(groupdq & JUMP_DET & ~gdq) > 0


@pytest.mark.parametrize("only_use_ints", [True, False])
@pytest.mark.parametrize(("min_ratio", "max_ratio", "cr_fraction"),
                         [(10.0, 1000.0, 0.002), (4.5, 60.0, 0.002), (25.0, 200.0, 0.002), (10.0, 1000.0, 0.05)])
def test_sigma_clipping_without_clean_pixel_medians_flags_the_same(only_use_ints, min_ratio, max_ratio, cr_fraction):
    """Without clean-pixel medians (pass 2 needs them only for after-jump flags) no pixel's median difference is
    kept: pixels found clean skip it, and a jump's neighbour bit is decided by bounds of its ratio over a bracket
    of the median (within one std of the mean), the median taken only where a bound is near a threshold. Across
    integrations, pixels without flagged groups are clipped and finished in the screening (more jumps in a tile
    than it lists, at 5 %: the per-pixel code). Same flags and neighbour bits for thresholds across the jumps'
    ratios."""
    nints, ngroups = (110, 4) if only_use_ints else (2, 60)
    data, gdq, pdq, gain, rn = random_ramps(nints, ngroups, ny=9, nx=140, seed=12, cr_fraction=cr_fraction,
                                            flagged=False)  # fmt: skip
    settings = dict(nframes=1, only_use_ints=only_use_ints, minimum_sigclip_groups=100,
                    min_jump_to_flag_neighbors=min_ratio, max_jump_to_flag_neighbors=max_ratio)  # fmt: skip
    full = find_jumps(data, gdq, pdq, gain, rn, **settings)
    lean = find_jumps(data, gdq, pdq, gain, rn, clean_pixel_medians=False, **settings)
    for name in ("groupdq", "pixeldq", "primary_jumps", "neighbor_sources"):
        np.testing.assert_array_equal(getattr(lean, name), getattr(full, name), err_msg=name)
    assert (full.primary_jumps > 0).sum() > 20 and full.neighbor_sources.any()
    skipped = np.isnan(lean.median_diffs) & ~np.isnan(full.median_diffs)
    assert skipped.any()
    kept = ~np.isnan(lean.median_diffs)  # medians taken (a ratio near a threshold) are the exact ones
    np.testing.assert_array_equal(lean.median_diffs[kept], full.median_diffs[kept])


@pytest.mark.parametrize("clean_pixel_medians", [True, False])
def test_sparse_flags_in_a_long_series_match_the_reference(clean_pixel_medians):
    """Clipping across integrations: a flagged group makes only its two differences go to the per-pixel code
    (the pixel's other differences are screened clean and skipped there): flags as the reference gives, with
    either screening (the tile of all differences with its medians, or one difference index at a time)."""
    data, gdq, pdq, gain, rn = random_ramps(104, 5, ny=3, nx=140, seed=15, cr_fraction=0.0005, flagged=False)
    rng = np.random.default_rng(15)
    gdq[rng.random(gdq.shape) < 0.0005] |= DO_NOT_USE
    for i, x in zip(*np.nonzero(rng.random((104, 140)) < 0.002)):  # row 1: saturated from group 3 on
        gdq[i, 3:, 1, x] |= SATURATED
    ours = detect_jumps(data, gdq, pdq, gain, rn, nframes=1, minimum_sigclip_groups=100,
                        clean_pixel_medians=clean_pixel_medians)  # fmt: skip
    expected_gdq, expected_pdq, expected_primary = reference_detect_jumps(data, gdq, pdq, gain, rn, 1)
    assert np.any(ours.groupdq & JUMP_DET & ~gdq)
    np.testing.assert_array_equal(ours.groupdq, expected_gdq)
    np.testing.assert_array_equal(ours.primary_jumps, expected_primary)
