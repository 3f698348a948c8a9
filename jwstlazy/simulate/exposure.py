"""One simulated exposure: ``simulate_exposure(config) -> (uncal Dataset, Truth)``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.simulate.amplifiers import amplifier_layout
from jwstlazy.simulate.calibration import SATURATION_FRACTION, detector_calibration
from jwstlazy.simulate.correlated_noise import correlated_noise
from jwstlazy.simulate.cosmic_rays import generate_cosmic_rays
from jwstlazy.simulate.detectors import Detector, get_detector
from jwstlazy.simulate.emi import EmiComponent, add_emi_to_flicker, emi_signal
from jwstlazy.simulate.filters import photometric_filter
from jwstlazy.simulate.headers import (
    ExposureId, group_table, int_times_table, subarray_keywords, timing_keywords,
)
from jwstlazy.simulate.pointing import Pointing, attitude_matrix, placed_aperture, pointing_keywords
from jwstlazy.simulate.ramps import PixelPhysics, simulate_integration
from jwstlazy.simulate.readout import Readout, resolve_readout, resolve_subarray
from jwstlazy.simulate.scene import Scene, empty_source_table, render_rate
from jwstlazy.simulate.truth import Truth

_DARK_FILTERS = ("OPAQUE",)


@dataclass
class ExposureConfig:
    """Everything that defines one exposure. ``seed`` drives the noise and cosmic rays;
    ``calibration_seed`` the detector itself (use the same one for :func:`write_reference_files`)."""

    detector: str = "NRCA1"
    subarray: str | int = "FULL"
    readpatt: str = "RAPID"
    ngroups: int = 10
    nints: int = 1
    nframes: int | None = None  #: overrides the pattern's NFRAMES
    groupgap: int | None = None  #: overrides the pattern's GROUPGAP
    filter: str | None = None  #: None: the detector's default
    pupil: str | None = None
    exp_type: str | None = None  #: None: the detector's imaging type (NRS_DARK for NIRSpec)
    pointing: Pointing = field(default_factory=Pointing)
    scene: Scene | None = None  #: None: sky background only
    seed: int = 0
    calibration_seed: int = 0
    expstart: float = 60310.0  #: MJD (UTC)
    zeroframe: bool = False
    cosmic_ray_scale: float = 1.0
    large_event_rate: float | None = None  #: snowballs / showers per cm^2 per s (None: default)
    identity: ExposureId = field(default_factory=ExposureId)
    tsovisit: bool = False
    target_name: str = "SIMULATED-FIELD"
    emi: tuple[EmiComponent, ...] = ()  #: MIRI electromagnetic interference lines (none by default)


def exposure_basename(config: ExposureConfig) -> str:
    """File stem, e.g. ``jw01234001001_03101_00001_nrca1`` (append ``_uncal.fits``)."""
    return config.identity.basename(get_detector(config.detector))


def _is_dark(exp_type: str, filter_name: str) -> bool:
    return exp_type.endswith("DARK") or filter_name.upper() in _DARK_FILTERS


def _instrument_keywords(det: Detector, config: ExposureConfig, exp_type: str, filt: str, pupil: str):
    keywords = {
        "TELESCOP": "JWST", "ORIGIN": "jwstlazy", "DATAMODL": "Level1bModel", "INSTRUME": det.instrument,
        "DETECTOR": det.name, "FILTER": filt, "PUPIL": pupil, "EXP_TYPE": exp_type,
        "ZEROFRAM": bool(config.zeroframe), "TSOVISIT": bool(config.tsovisit),
        "TARGNAME": config.target_name, "TARGPROP": config.target_name, "CRDS_CTX": "jwst_simulated.pmap",
    }
    if det.module:
        keywords.update(MODULE=det.module, CHANNEL=det.channel, CORONMSK="NONE")
    if det.instrument == "NIRSPEC":
        keywords.update(GRATING="MIRROR")
    return keywords


def simulate_exposure(config: ExposureConfig) -> tuple[xr.Dataset, Truth]:
    """Simulate one exposure: an ``uncal`` Dataset (docs/architecture.md) and its :class:`Truth`."""
    det = get_detector(config.detector)
    subarray = resolve_subarray(det, config.subarray)
    if config.emi and not det.is_miri:
        raise JwstLazyInputError(f"EMI is simulated for MIRI only, not {det.name}", where="ExposureConfig.emi",
                                 expected="no EMI components for near-infrared detectors")
    readout = resolve_readout(det, subarray, config.readpatt, config.ngroups, config.nints,
                              config.nframes, config.groupgap)
    filt = (config.filter or det.default_filter).upper()
    pupil = (config.pupil or det.default_pupil).upper()
    exp_type = (config.exp_type or det.exp_type).upper()
    detector_truth = detector_calibration(det.name, config.calibration_seed)
    cal = detector_truth.cutout(subarray)
    rng = np.random.default_rng(config.seed)
    attitude = attitude_matrix(config.pointing, det, subarray.apername)

    shape = subarray.shape
    if _is_dark(exp_type, filt):
        scene_dn = np.zeros(shape, dtype=np.float32)
        sources, photmjsr = empty_source_table(), 0.0
    else:
        band = photometric_filter(filt, pupil)
        scene_dn, sources = render_rate(
            config.scene or Scene(), placed_aperture(det, attitude),
            (subarray.substrt1, subarray.substrt2), shape, band, detector_truth.pixar_sr, cal["area"])
        photmjsr = band.photmjsr
    rate_e = (scene_dn * cal["response"] * cal["gain"]).astype(np.float32)
    physics = PixelPhysics(
        rate=rate_e, dark=cal["dark"], gain=cal["gain"], bias=cal["bias"], beta=cal["beta"],
        full_well=cal["full_well"], saturation=cal["saturation"],
        read_noise=cal["readnoise"] / np.float32(np.sqrt(2.0)),
    )
    hits = generate_cosmic_rays(shape, readout, det.pixel_area_cm2, det.full_well, det.is_miri,
                                ~cal["reference"], rng, config.cosmic_ray_scale, config.large_event_rate)
    sci, zero, first_sat, refout = _simulate_ramps(det, subarray, readout, physics, hits, rng, tuple(config.emi))

    attrs = {"product": "uncal"}
    attrs.update(_instrument_keywords(det, config, exp_type, filt, pupil))
    attrs.update(config.identity.keywords())
    attrs.update(timing_keywords(readout, config.expstart))
    attrs.update(subarray_keywords(det, subarray))
    attrs.update(pointing_keywords(config.pointing, det, subarray, attitude))
    attrs["FILENAME"] = exposure_basename(config) + "_uncal.fits"

    ds = xr.Dataset(attrs=attrs)
    ds["SCI"] = xr.Variable(("integration", "group", "y", "x"), sci, {"BUNIT": "DN"})
    if config.zeroframe:
        ds["ZEROFRAME"] = xr.Variable(("integration", "y", "x"), zero, {"BUNIT": "DN"})
    if refout is not None:
        ds["REFOUT"] = xr.Variable(("integration", "group", "y", "x_refout"), refout, {"BUNIT": "DN"})
    for table, columns in (("INT_TIMES", int_times_table(readout, config.expstart)),
                           ("GROUP", group_table(readout, subarray, config.expstart))):
        for name, values in columns.items():
            ds[f"{table}.{name}"] = xr.Variable((f"{table}_row",), values)

    rate_dn = (rate_e / cal["gain"]).astype(np.float32)
    flat = np.where(cal["flat"] > 0, cal["flat"], 1.0)
    truth = Truth(
        rate_e=rate_e, rate_dn=rate_dn, dark_dn=(cal["dark"] / cal["gain"]).astype(np.float32),
        cal_mjysr=(rate_dn / flat * photmjsr).astype(np.float32), first_saturated=first_sat,
        cosmic_rays=hits, sources=sources,
        attrs={
            "detector": det.name, "subarray": subarray.name, "filter": filt, "pupil": pupil,
            "exp_type": exp_type, "photmjsr": photmjsr,
            "pixar_sr": detector_truth.pixar_sr,
            "tframe": readout.tframe, "tgroup": readout.tgroup, "ngroups": readout.ngroups,
            "nints": readout.nints, "nframes": readout.nframes, "groupgap": readout.groupgap,
            "seed": config.seed, "calibration_seed": config.calibration_seed,
            "saturation_fraction_of_full_well": SATURATION_FRACTION, "filename": attrs["FILENAME"],
        },
    )
    if config.emi:
        truth.attrs["emi"] = [[c.frequency, c.amplitude, c.phase] for c in config.emi]
    return ds, truth


def _simulate_ramps(det: Detector, subarray, readout: Readout, physics: PixelPhysics, hits, rng,
                    emi: tuple[EmiComponent, ...] = ()):
    """All integrations: SCI, ZEROFRAME, first saturated group, and MIRI's REFOUT (else None).

    ``emi`` is added to the 1/f noise at each read tick (it draws no random numbers: without EMI, and with
    EMI apart from the EMI itself, the exposure is the same).
    """
    ny, nx = subarray.shape
    sci = np.empty((readout.nints, readout.ngroups, ny, nx), dtype=np.uint16)
    zero = np.empty((readout.nints, ny, nx), dtype=np.uint16)
    first_sat = np.empty((readout.nints, ny, nx), dtype=np.int16)
    refout = (np.empty((readout.nints, readout.ngroups, ny, nx // 4), dtype=np.uint16)
              if det.is_miri else None)
    layout = amplifier_layout(det, subarray)
    key = int(rng.integers(0, 2**63))
    for i in range(readout.nints):
        noise = correlated_noise(layout, readout.ngroups, det.flicker_noise, rng)
        if emi:
            add_emi_to_flicker(noise.flicker, layout.read_index,
                               emi_signal(emi, subarray.name, readout.readpatt, (ny, nx), readout.ngroups, i))
        ptr, frame, charge = hits.per_pixel(i, (ny, nx))
        simulate_integration(physics, readout, ptr, frame, charge, noise, key + i,
                             out=(sci[i], zero[i], first_sat[i]))
        if refout is not None:
            level = det.bias_level + noise.drift.mean(axis=1)[:, None, None]
            sigma = det.readnoise_cds / np.sqrt(2.0 * readout.nframes)
            values = level + rng.normal(0.0, sigma, refout.shape[1:])
            refout[i] = np.clip(np.rint(values), 0, 65535)
    return sci, zero, first_sat, refout
