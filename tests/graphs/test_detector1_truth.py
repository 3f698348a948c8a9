"""Detector1Pipeline against the simulator's truth: rates and errors, jumps, saturation.

Configuration: NIRCam NRCA1 subarray GRISMTS256 (SIAF; 2048 x 256 pixels at the detector's bottom edge, read
through all 4 outputs), 6 RAPID groups (t_group = 1.36 s), one integration, a sky background plus a few bright
stars (some saturate). The strip holds the bottom reference rows and both side reference columns, so refpix
removes the amplifier offsets and drifts and (through the side columns) most of the row-correlated 1/f noise.
A centred subarray without reference pixels (e.g. SUB256) keeps a per-exposure offset of ~0.3 sigma and SUB160
(one output, 4 reference rows) one of up to ~0.2 sigma: neither can meet the +-0.05 median criterion honestly.

What is pooled (measured on the 2-core dev machine, jwstlazy at this commit):
- The residual criterion pools the clean pixels of 4 exposures (seeds 3, 5, 7, 9). Single strip exposures have
  medians scattered with sigma ~0.03 (23 seeds: -0.052 ... +0.049) because the 1/f noise that the side columns
  do not capture and the finite number of reference pixels leave a common offset per exposure; pooling 4 gives
  ~0.015. Each exposure is still held to |median| <= 0.10. Std of the normalised residual: 1.04-1.05 per
  exposure (0.997 with the simulator's 1/f noise switched off: the excess is residual 1/f noise that ERR does
  not model, as in the official pipeline). For comparison, a full frame with 4-6 groups gives medians within
  +-0.022 and std 1.055-1.066 per exposure, at ~4x the cost.
- Jumps: one exposure with 10x the cosmic-ray rate (1180 hits above 8 sigma): 100 % flagged in the exact group;
  false flags on isolated clean pixels 27 / 483129 = 5.6e-5 (15 of them on star pixels above 5 DN/s).
- Saturation (n_pix_grow_sat=0): the first SATURATED group equals truth.first_saturated on all but 1 of the 1113
  saturated pixels of the 4 exposures; such differences are one group, where read noise carried the value across the threshold
  (truth.first_saturated is computed before read noise).
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from scipy import ndimage

from jwstlazy.datamodels import dqflags
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
from jwstlazy.simulate import (
    ExposureConfig,
    Pointing,
    Scene,
    Source,
    get_detector,
    simulate_exposure,
    write_reference_files,
)
from jwstlazy.simulate.pointing import attitude_matrix, placed_aperture
from jwstlazy.simulate.readout import resolve_subarray

DETECTOR, SUBARRAY, NGROUPS = "NRCA1", "GRISMTS256", 6
RESIDUAL_SEEDS = (3, 5, 7, 9)
JUMP_SEED, JUMP_CR_SCALE = 11, 10.0
JUMP_SIGMA = 8.0


def _star_scene() -> tuple[Scene, Pointing]:
    """Twelve stars of AB 12-17 at random places on the strip (the brightest saturate within 6 groups)."""
    det = get_detector(DETECTOR)
    sub = resolve_subarray(det, SUBARRAY)
    pointing = Pointing()
    aperture = placed_aperture(det, attitude_matrix(pointing, det, sub.apername))
    rng = np.random.default_rng(1)
    sources = []
    for _ in range(12):
        x, y = rng.uniform(20, sub.subsize1 - 20), rng.uniform(20, sub.subsize2 - 20)
        ra, dec = aperture.sci_to_sky(x + sub.substrt1, y + sub.substrt2)
        sources.append(Source(float(ra), float(dec), 3631e6 * 10 ** (-0.4 * rng.uniform(12.0, 17.0))))
    return Scene(sources), pointing


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refs")
    paths = write_reference_files(DETECTOR, folder, subarray=SUBARRAY)
    arrays = {
        "mask": fits.getdata(paths["mask"], "DQ"),
        "gain": fits.getdata(paths["gain"], "SCI").astype(np.float64),
        "readnoise": fits.getdata(paths["readnoise"], "SCI").astype(np.float64),
        "saturation": fits.getdata(paths["saturation"], "SCI").astype(np.float64),
    }
    return folder, arrays


def _run(config: ExposureConfig, folder, steps=None):
    """Simulate, then build ramp (after jump) and rate; compute them together."""
    import dask

    ds, truth = simulate_exposure(config)
    pipeline = Detector1Pipeline(steps=steps, references=ReferenceFinder(directories=[folder]))
    ramp = pipeline.build(ds, stop="jump")
    rate = pipeline.build(ramp, start="ramp_fit")["rate"]
    groupdq, sci, err, dq = dask.compute(ramp["GROUPDQ"].data, rate["SCI"].data, rate["ERR"].data, rate["DQ"].data)
    return {"uncal": ds, "truth": truth, "groupdq": groupdq, "sci": sci, "err": err, "dq": dq}


@pytest.fixture(scope="module")
def exposures(references):
    folder, _ = references
    scene, pointing = _star_scene()
    return [
        _run(ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=NGROUPS, seed=seed, scene=scene,
                            pointing=pointing), folder)
        for seed in RESIDUAL_SEEDS
    ]


@pytest.fixture(scope="module")
def cosmic_ray_exposure(references):
    folder, _ = references
    scene, pointing = _star_scene()
    config = ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=NGROUPS, seed=JUMP_SEED, scene=scene,
                            pointing=pointing, cosmic_ray_scale=JUMP_CR_SCALE)
    return _run(config, folder)


def _normalised_residual(run) -> np.ndarray:
    clean = run["dq"] == 0
    return ((run["sci"] - run["truth"].rate_dn) / run["err"])[clean]


def test_rate_matches_truth_within_its_error(exposures) -> None:
    medians = []
    for run in exposures:
        clean = run["dq"] == 0
        assert clean.mean() > 0.95  # reference pixels (1.9 %), bad pixels, jumps and saturated stars excluded
        residual = _normalised_residual(run)
        assert np.isfinite(residual).all()
        medians.append(float(np.median(residual)))
        assert abs(medians[-1]) <= 0.10, medians  # one exposure: offset sigma ~0.03 (see module docstring)
        assert 1.0 <= np.std(residual) <= 1.08
    pooled = np.concatenate([_normalised_residual(run) for run in exposures])
    assert abs(np.median(pooled)) <= 0.05, (np.median(pooled), medians)
    assert 1.00 <= np.std(pooled) <= 1.08, np.std(pooled)
    # The bright (star) pixels too: linearity, weighting and Poisson variance hold at high signal.
    bright = np.concatenate([
        ((run["sci"] - run["truth"].rate_dn) / run["err"])[(run["dq"] == 0) & (run["truth"].rate_dn > 50.0)]
        for run in exposures
    ])
    assert bright.size > 200
    assert abs(np.median(bright)) <= 0.2 and np.std(bright) <= 1.2, (bright.size, np.median(bright), np.std(bright))


def _hits_per_group(truth):
    """Total charge (e-) per (integration, group, y, x) that the truth says a cosmic ray added."""
    hits = truth.cosmic_rays
    keys = np.stack([hits.integration, hits.group, hits.y, hits.x], axis=1).astype(np.int64)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    return unique.T, np.bincount(inverse.ravel(), weights=hits.charge)


def test_jumps_above_8_sigma_are_flagged_in_their_group(cosmic_ray_exposure, references) -> None:
    _, ref = references
    run, truth = cosmic_ray_exposure, cosmic_ray_exposure["truth"]
    (i, g, y, x), charge = _hits_per_group(truth)
    # noise of one group difference, e-: CDS read noise (the readnoise reference) and the Poisson noise of the sky
    sigma = np.hypot(ref["readnoise"][y, x] * ref["gain"][y, x], np.sqrt(truth.rate_e[y, x] * truth.attrs["tgroup"]))
    saturated = (run["groupdq"][i, g, y, x] & dqflags.SATURATED) != 0
    # group 0 hits precede the first read: no difference can see them
    detectable = (g >= 1) & (ref["mask"][y, x] == 0) & ~saturated & (charge > JUMP_SIGMA * sigma)
    assert detectable.sum() > 500
    in_group = (run["groupdq"][i, g, y, x] & dqflags.JUMP_DET) != 0
    in_pixel = (run["dq"][y, x] & dqflags.JUMP_DET) != 0
    assert (in_group | in_pixel)[detectable].mean() >= 0.98
    assert in_group[detectable].mean() >= 0.98  # the stricter reading holds too


def test_few_false_jump_flags_on_clean_pixels(cosmic_ray_exposure, references) -> None:
    _, ref = references
    run, hits = cosmic_ray_exposure, cosmic_ray_exposure["truth"].cosmic_rays
    near_hit = np.zeros(run["dq"].shape, dtype=bool)
    near_hit[hits.y, hits.x] = True
    near_hit = ndimage.binary_dilation(near_hit, np.ones((5, 5), bool))  # charge sharing + neighbour flagging
    saturated = ((run["groupdq"] & dqflags.SATURATED) != 0).any(axis=(0, 1))
    saturated = ndimage.binary_dilation(saturated, np.ones((3, 3), bool))
    clean = ~near_hit & ~saturated & (ref["mask"] == 0)
    assert clean.sum() > 400_000
    flagged = ((run["groupdq"] & dqflags.JUMP_DET) != 0).any(axis=(0, 1))
    assert flagged[clean].mean() <= 1e-3
    assert ((run["dq"] & dqflags.JUMP_DET) != 0)[clean].mean() <= 1e-3


def _first_saturated_group(groupdq: np.ndarray) -> np.ndarray:
    saturated = (groupdq & dqflags.SATURATED) != 0
    first = np.where(saturated.any(axis=1), np.argmax(saturated, axis=1), -1)
    # flagged from the first saturated group to the end of the integration, nowhere before
    ngroups = groupdq.shape[1]
    expected = np.arange(ngroups)[None, :, None, None] >= np.where(first >= 0, first, ngroups)[:, None]
    assert np.array_equal(saturated, expected)
    return first


def test_saturated_groups_flagged_where_the_truth_says(exposures, references) -> None:
    folder, ref = references
    pipeline = Detector1Pipeline(steps={"saturation": {"n_pix_grow_sat": 0}},
                                 references=ReferenceFinder(directories=[folder]))
    grown_pipeline = Detector1Pipeline(references=ReferenceFinder(directories=[folder]))
    n_saturated = n_disagree = 0
    for run in exposures:
        truth_first = run["truth"].first_saturated
        first = _first_saturated_group(pipeline.build(run["uncal"], stop="saturation")["GROUPDQ"].values)
        n_saturated += int((truth_first >= 0).sum())
        differ = first != truth_first
        n_disagree += int(differ.sum())
        # differences are one group, where the read noise carried the value across the threshold
        ngroups = run["uncal"]["SCI"].shape[1]
        ours, theirs = np.where(first >= 0, first, ngroups), np.where(truth_first >= 0, truth_first, ngroups)
        assert np.all(np.abs(ours[differ] - theirs[differ]) == 1)
        i, y, x = np.nonzero(differ)
        group = np.minimum(ours, theirs)[differ]  # saturated in one, not in the other
        values = run["uncal"]["SCI"].values[i, group, y, x].astype(np.float64)
        distance = np.abs(values - ref["saturation"][y, x]) / (ref["readnoise"][y, x] / np.sqrt(2))
        assert np.all(distance < 5.0), distance
        # default n_pix_grow_sat=1: the truth's saturation grown by one pixel in every direction
        grown_first = _first_saturated_group(grown_pipeline.build(run["uncal"], stop="saturation")["GROUPDQ"].values)
        truth_or_never = np.where(truth_first >= 0, truth_first, 10_000)
        expected = ndimage.minimum_filter(truth_or_never, size=(1, 3, 3), mode="nearest")
        expected = np.where(expected == 10_000, -1, expected)
        assert np.mean(grown_first == expected) > 0.9999
    assert n_saturated > 100
    assert n_disagree <= 0.02 * n_saturated, (n_disagree, n_saturated)


@pytest.mark.parametrize("readpatt", ["RAPID", "BRIGHT2"])
def test_pixel_blocks_give_the_same_products_as_one_block(references, readpatt):
    """Steps that look at neighbours (saturation growth, jump neighbours) exchange halos between pixel blocks:
    uneven blocks in y and x give byte-identical group DQ and rates to one block."""
    import dask

    folder, _ = references
    scene, pointing = _star_scene()
    config = ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=NGROUPS, seed=JUMP_SEED, scene=scene,
                            pointing=pointing, cosmic_ray_scale=JUMP_CR_SCALE, readpatt=readpatt)
    ds, _ = simulate_exposure(config)
    pipeline = Detector1Pipeline(references=ReferenceFinder(directories=[folder]))
    results = []
    for chunks in ({"y": -1, "x": -1}, {"y": 37, "x": 300}):
        ramp = pipeline.build(ds.chunk(chunks), stop="jump")
        rate = pipeline.build(ramp, start="ramp_fit")["rate"]
        results.append(dask.compute(ramp["GROUPDQ"].data, rate["SCI"].data, rate["ERR"].data, rate["DQ"].data))
    assert ds.chunk({"y": 37, "x": 300})["SCI"].data.numblocks[-2:] == (7, 7)
    assert np.count_nonzero(results[0][0] & dqflags.GROUP["SATURATED"]) > 0
    assert np.count_nonzero(results[0][0] & dqflags.GROUP["JUMP_DET"]) > 0
    for whole, blocks in zip(*results):
        np.testing.assert_array_equal(whole, blocks)


def test_refpix_strips_from_the_border_blocks_equal_the_ramps_own(references):
    """The pipeline hands refpix its reference strips from a copy blocked around the 4-pixel borders (so no
    block waits for all others); the corrected ramp equals refpix taking the strips from the ramp itself."""
    import dask

    from jwstlazy.steps.detector1 import RefPixStep

    folder, _ = references
    scene, pointing = _star_scene()
    ds, _ = simulate_exposure(ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=NGROUPS, nints=2,
                                             seed=5, scene=scene, pointing=pointing))
    pipeline = Detector1Pipeline(references=ReferenceFinder(directories=[folder]))
    lazy = ds.chunk({"y": 64})
    steps = pipeline.steps_for(lazy)
    refpix_index = [step.name for step in steps].index("refpix")
    handed = pipeline.before_step(steps[refpix_index], lazy, lazy, steps[:refpix_index])
    assert handed.attrs["reference_borders"]["SCI"].chunks[-2:] == ((4, 248, 4), (4, 2040, 4))  # border blocks
    via_borders = pipeline.build(lazy, stop="refpix")
    assert "reference_borders" not in via_borders.attrs
    direct = RefPixStep().run(pipeline.build(lazy, stop="superbias"), pipeline.references)
    got, want = dask.compute(via_borders["SCI"].data, direct["SCI"].data)
    np.testing.assert_array_equal(got, want)
    assert via_borders.attrs["S_REFPIX"] == "COMPLETE"


def test_refpix_gets_no_border_copy_when_it_reads_no_strips(references):
    """A one-output subarray's refpix uses its own reference pixels, and a skipped refpix reads nothing: neither
    gets the border-blocked copy (building its graph was a third of a small exposure's graph-building time)."""
    folder, _ = references
    one_output, _ = simulate_exposure(ExposureConfig(detector=DETECTOR, subarray="SUB320", ngroups=3, seed=5))
    assert one_output.attrs["NOUTPUTS"] == 1
    four_outputs, _ = simulate_exposure(ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=3, seed=5))
    for data, settings in ((one_output, None), (four_outputs, {"refpix": {"skip": True}})):
        pipeline = Detector1Pipeline(steps=settings, references=ReferenceFinder(directories=[folder]))
        steps = pipeline.steps_for(data)
        refpix_index = [step.name for step in steps].index("refpix")
        handed = pipeline.before_step(steps[refpix_index], data, data, steps[:refpix_index])
        assert "reference_borders" not in handed.attrs
