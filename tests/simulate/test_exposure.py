"""simulate_exposure: the ramps carry what the truth and the reference-level calibration say."""

from __future__ import annotations

import numpy as np
import pytest

from jwstlazy.simulate import ExposureConfig, Pointing, Scene, Source, simulate_exposure
from jwstlazy.simulate.calibration import SATURATION_FRACTION, detector_calibration
from jwstlazy.simulate.cosmic_rays import KIND_SNOWBALL
from jwstlazy.simulate.detectors import get_detector
from jwstlazy.simulate.pointing import attitude_matrix, placed_aperture
from jwstlazy.simulate.readout import resolve_subarray
from jwstlazy.simulate.siaf import get_aperture

DETECTOR, SUBARRAY = "NRCA1", "SUB160"  # SIAF corner subarray: includes reference rows and columns


def stars_at(pixels: list[tuple[float, float, float]], subarray: str = SUBARRAY) -> tuple[Scene, Pointing]:
    """A scene with stars at subarray pixels (x, y, AB mag) under the default pointing."""
    det = get_detector(DETECTOR)
    sub = resolve_subarray(det, subarray)
    pointing = Pointing()
    aperture = placed_aperture(det, attitude_matrix(pointing, det, sub.apername))
    sources = []
    for x, y, mag in pixels:
        ra, dec = aperture.sci_to_sky(x + sub.substrt1, y + sub.substrt2)
        sources.append(Source(float(ra), float(dec), 3631e6 * 10 ** (-0.4 * mag)))
    return Scene(sources), pointing


@pytest.fixture(scope="module")
def starfield():
    scene, pointing = stars_at([(60.3, 70.6, 15.0), (110.0, 40.2, 19.0), (100.5, 110.5, 21.0)])
    config = ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=8, scene=scene, pointing=pointing,
                            seed=4, cosmic_ray_scale=300.0, large_event_rate=0.0)
    ds, truth = simulate_exposure(config)
    cal = detector_calibration(DETECTOR, 0).cutout(resolve_subarray(get_detector(DETECTOR), SUBARRAY))
    return config, ds, truth, cal


def test_keywords_present_and_consistent(starfield) -> None:
    _, ds, _, _ = starfield
    a = ds.attrs
    nints, ngroups, ny, nx = ds["SCI"].shape
    assert ds["SCI"].dtype == np.uint16 and a["product"] == "uncal"
    assert (a["NINTS"], a["NGROUPS"], a["SUBSIZE2"], a["SUBSIZE1"]) == (nints, ngroups, ny, nx)
    assert a["TFRAME"] == pytest.approx((160 + 12) * 161 * 10e-6)
    assert a["TGROUP"] == pytest.approx((a["NFRAMES"] + a["GROUPGAP"]) * a["TFRAME"])
    assert a["EFFEXPTM"] == a["XPOSURE"] == pytest.approx(a["EFFINTTM"] * a["NINTS"])
    assert a["TMEASURE"] == pytest.approx((ngroups - 1) * a["TGROUP"] * nints)
    assert a["DURATION"] == a["TELAPSE"] >= a["EFFINTTM"]
    assert a["EXPSTART"] < a["EXPMID"] < a["EXPEND"]
    assert (a["FASTAXIS"], a["SLOWAXIS"], a["SUBSTRT1"], a["SUBSTRT2"]) == (-1, 2, 1889, 1889)
    siaf = get_aperture("NIRCam", "NRCA1_SUB160")
    assert (a["V2_REF"], a["V3_REF"]) == (pytest.approx(siaf.V2Ref), pytest.approx(siaf.V3Ref))
    assert a["RA_REF"] == pytest.approx(a["TARG_RA"], abs=1e-9)  # the target is at the reference point
    assert ds.sizes["INT_TIMES_row"] == nints and ds.sizes["GROUP_row"] == nints * ngroups
    for key in ("DATE-OBS", "READPATT", "NOUTPUTS", "ROLL_REF", "V3I_YANG", "VPARITY", "PA_V3", "VA_SCALE",
                "S_REGION", "APERNAME", "PATT_NUM", "XOFFSET", "EXP_TYPE", "FILTER", "PUPIL"):
        assert key in a


def test_sources_land_where_the_truth_says(starfield) -> None:
    _, _, truth, _ = starfield
    x, y = truth.sources["x"][0], truth.sources["y"][0]
    assert (x, y) == (pytest.approx(60.3, abs=1e-3), pytest.approx(70.6, abs=1e-3))
    rate = truth.rate_dn
    assert np.unravel_index(np.argmax(rate), rate.shape) == (71, 60)


def test_counts_follow_the_rate(starfield) -> None:
    config, ds, truth, cal = starfield
    sci = ds["SCI"].values[0].astype(np.float64)
    rows, cols = resolve_subarray(get_detector(DETECTOR), SUBARRAY).slices
    coeffs = detector_calibration(DETECTOR, 0).linearity_coefficients()[:, rows, cols]
    measured = sci - cal["bias"]
    linear = np.zeros_like(measured)
    for c in coeffs[::-1]:  # Horner: sum c_i F^i
        linear = linear * measured + c
    slope = (linear[-1] - linear[1]) / (6 * ds.attrs["TGROUP"])
    hit = np.zeros(sci.shape[1:], bool)
    hit[truth.cosmic_rays.y, truth.cosmic_rays.x] = True
    usable = (~cal["reference"]) & (~hit) & (truth.first_saturated[0] < 0) & (truth.rate_dn > 20)
    assert usable.sum() > 20
    expected = truth.rate_dn + truth.dark_dn
    ratio = slope[usable] / expected[usable]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.02)
    faint = (~cal["reference"]) & (~hit) & (truth.rate_dn < 5)  # sky: rate within noise
    sigma = np.sqrt(2 * (cal["readnoise"][faint] / np.sqrt(2)) ** 2 + 10.0) / (6 * ds.attrs["TGROUP"])
    assert np.median(np.abs(slope[faint] - expected[faint]) / sigma) < 1.5


def test_cosmic_rays_jump_where_the_truth_says(starfield) -> None:
    _, ds, truth, cal = starfield
    hits = truth.cosmic_rays
    assert len(hits) > 50 and np.all(~cal["reference"][hits.y, hits.x])
    sci = ds["SCI"].values[0].astype(np.float64)
    diffs = np.diff(sci, axis=0)
    signal = (truth.rate_dn + truth.dark_dn) * ds.attrs["TGROUP"]
    sigma = np.sqrt(2 * (cal["readnoise"] / np.sqrt(2)) ** 2 + 2 * signal + 40.0)  # read, Poisson, 1/f+drift
    per_pixel = {}
    for g, y, x, q in zip(hits.group, hits.y, hits.x, hits.charge):
        per_pixel.setdefault((y, x), []).append((g, q))
    checked = 0
    for (y, x), events in per_pixel.items():
        if len(events) != 1 or truth.first_saturated[0, y, x] >= 0:
            continue
        g, charge = events[0]
        if g == 0:
            continue
        jump = diffs[g - 1, y, x] - signal[y, x]
        expected = charge / cal["gain"][y, x]
        assert expected * 0.97 - 5 * sigma[y, x] <= jump <= expected + 5 * sigma[y, x]
        checked += 1
    assert checked > 30
    clean = np.ones(sci.shape[1:], bool)
    clean[hits.y, hits.x] = False
    clean &= truth.first_saturated[0] < 0
    excess = (diffs - signal)[:, clean] / sigma[clean]
    assert np.mean(np.abs(excess) > 6) < 1e-3


def test_saturation_where_flux_times_time_exceeds_the_threshold(starfield) -> None:
    _, ds, truth, cal = starfield
    first = truth.first_saturated[0]
    assert (first >= 0).sum() >= 5
    sci = ds["SCI"].values[0]
    above = sci >= cal["saturation"][None]
    data_first = np.where(above.any(axis=0), np.argmax(above, axis=0), -1)
    assert np.mean(data_first == first) > 0.999
    assert np.all(np.abs(data_first - first) <= 1)
    hit = np.zeros(first.shape, bool)
    hit[truth.cosmic_rays.y, truth.cosmic_rays.x] = True
    tframe, ngroups = ds.attrs["TFRAME"], ds.attrs["NGROUPS"]
    charge_per_group = (truth.rate_e + cal["dark"])[None] * tframe * np.arange(1, ngroups + 1)[:, None, None]
    crosses = charge_per_group >= SATURATION_FRACTION * cal["full_well"][None]
    predicted = np.where(crosses.any(axis=0), np.argmax(crosses, axis=0), -1)
    assert np.all(np.abs(predicted[~hit] - first[~hit]) <= 1)


def test_reference_pixels_see_drifts_but_no_light_or_dark() -> None:
    config = ExposureConfig(detector=DETECTOR, subarray="FULL", ngroups=3, seed=2)
    ds, truth = simulate_exposure(config)
    cal = detector_calibration(DETECTOR, 0)
    assert np.all(truth.rate_e[cal.reference] == 0) and np.all(truth.dark_dn[cal.reference] == 0)
    sci = ds["SCI"].values[0].astype(np.float64) - cal.bias
    ref = cal.reference.copy()
    science = ~ref & (cal.mask == 0)
    times = (np.arange(3) + 1) * ds.attrs["TFRAME"]
    signal = (truth.rate_dn + truth.dark_dn)[None] * times[:, None, None]
    residual = sci - signal
    x = np.arange(2048)
    amp_of_column = 3 - x // 512  # FASTAXIS = -1: detector columns run against DMS x
    ref_means, sci_means = [], []
    for amp in range(4):
        for parity in (0, 1):
            columns = (amp_of_column == amp) & (x % 2 == parity)
            ref_means.append(sci[:, ref & columns[None, :]].mean(axis=1))
            sci_means.append(residual[:, science & columns[None, :]].mean(axis=1))
    ref_means, sci_means = np.array(ref_means), np.array(sci_means)
    assert np.ptp(ref_means[:, 0]) > 10.0  # amplifiers/parities differ by the drift offsets
    assert np.abs(ref_means - sci_means).max() < 3.0  # and science pixels carry the same drifts
    group_change = np.diff(ref_means, axis=1)
    assert np.abs(group_change).max() > 0.5  # the drifts vary from group to group
    ref_ramp = sci[-1, ref] - sci[0, ref]
    assert abs(ref_ramp.mean() - (ref_means[:, -1] - ref_means[:, 0]).mean()) < 3.0  # no slope beyond drift


def test_deterministic_with_a_seed() -> None:
    scene, pointing = stars_at([(80.0, 80.0, 18.0)])
    config = ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=3, scene=scene, pointing=pointing,
                            seed=12, cosmic_ray_scale=50.0)
    (a, ta), (b, tb) = simulate_exposure(config), simulate_exposure(config)
    assert np.array_equal(a["SCI"].values, b["SCI"].values)
    assert np.array_equal(ta.cosmic_rays.charge, tb.cosmic_rays.charge)
    config.seed = 13
    c, _ = simulate_exposure(config)
    assert not np.array_equal(a["SCI"].values, c["SCI"].values)


def test_snowballs_saturate_their_core() -> None:
    config = ExposureConfig(detector=DETECTOR, subarray=SUBARRAY, ngroups=5, seed=6, cosmic_ray_scale=0.0,
                            large_event_rate=30.0)
    _, truth = simulate_exposure(config)
    hits = truth.cosmic_rays
    cal = detector_calibration(DETECTOR, 0).cutout(resolve_subarray(get_detector(DETECTOR), SUBARRAY))
    core = (hits.kind == KIND_SNOWBALL) & (hits.charge >= cal["full_well"][hits.y, hits.x])
    assert core.sum() > 5
    first = truth.first_saturated[0, hits.y[core], hits.x[core]]
    assert np.all((first >= 0) & (first <= hits.group[core]))
    halo = (hits.kind == KIND_SNOWBALL) & ~core
    assert halo.sum() > core.sum()


def test_miri_subarray_has_refout_and_dark_reference_columns() -> None:
    config = ExposureConfig(detector="MIRIMAGE", subarray="SUB64", readpatt="FASTR1", ngroups=4, nints=2,
                            zeroframe=True, seed=1)
    ds, truth = simulate_exposure(config)
    assert ds["SCI"].shape == (2, 4, 64, 72)
    assert ds["REFOUT"].shape == (2, 4, 64, 18) and ds["ZEROFRAME"].shape == (2, 64, 72)
    assert ds.attrs["SUBSTRT1"] == 1
    assert np.all(truth.rate_e[:, :4] == 0) and np.all(truth.dark_dn[:, :4] == 0)
    assert np.all(truth.rate_e[:, 4:] >= 0) and truth.rate_e[:, 4:].mean() > 10  # F770W sky
    assert np.array_equal(ds["ZEROFRAME"].values, ds["SCI"].values[:, 0])


def test_nirspec_dark_has_no_light() -> None:
    ds, truth = simulate_exposure(ExposureConfig(detector="NRS1", subarray="64", readpatt="NRSRAPID",
                                                 ngroups=3, seed=0))
    assert ds.attrs["EXP_TYPE"] == "NRS_DARK" and ds.attrs["FASTAXIS"] == 2
    assert not truth.rate_e.any() and truth.dark_dn.max() > 0
