"""Ready-made programs: uncal files, reference files, truth and associations in one folder.

Layout written by :func:`simulate_program` under ``out``::

    <basename>_uncal.fits      one per exposure and detector (jwstlazy.datamodels.write_fits)
    <basename>_truth.npz       its truth (jwstlazy.simulate.truth)
    references/                CRDS-format reference files per detector (cut to the subarray unless full)
    <program>_image2_asn.json, <program>_image3_asn.json   (imaging; tso-image2/tso3 for time series)
    manifest.json              the scenario, its parameters and every path written
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.simulate.detectors import get_detector
from jwstlazy.simulate.exposure import ExposureConfig, exposure_basename, simulate_exposure
from jwstlazy.simulate.headers import SECONDS_PER_DAY, ExposureId
from jwstlazy.simulate.pointing import Pointing, attitude_matrix, placed_aperture
from jwstlazy.simulate.readout import resolve_readout, resolve_subarray
from jwstlazy.simulate.references import write_reference_files
from jwstlazy.simulate.scene import STAR, Scene, Source, ab_mag_to_ujy, random_field

PROGRAM_ID = 1234
_SLEW_SECONDS = 60.0


@dataclass(frozen=True)
class Scenario:
    """A small program: detectors x dither positions, one readout, one filter."""

    name: str
    description: str
    detectors: tuple[str, ...]
    size: str  #: default subarray ("FULL", a name, or a square size)
    readpatt: str
    ngroups: int
    nints: int = 1
    filter: str | None = None
    pupil: str | None = None
    exp_type: str | None = None
    dithers: tuple[tuple[float, float], ...] = ((0.0, 0.0),)
    stars_per_arcmin2: float = 0.0
    galaxies_per_arcmin2: float = 0.0
    central_star_mag: float | None = None
    zeroframe: bool = False
    tso: bool = False
    observation: int = 1

    @property
    def imaging(self) -> bool:
        return not (self.exp_type or "").endswith("DARK")


_FOUR_POINT = ((0.0, 0.0), (1.05, 0.47), (0.55, 1.51), (1.57, 1.02))
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    # SUB320 sits in a detector corner, so it holds reference pixels (as real NIRCam SUB160/320/640 do)
    Scenario("nircam-imaging", "NIRCam SW F200W SUB320, 2 detectors x 4 dithers, stars and galaxies",
             ("NRCA1", "NRCA2"), "SUB320", "SHALLOW4", 6, dithers=_FOUR_POINT,
             stars_per_arcmin2=400.0, galaxies_per_arcmin2=1200.0, observation=1),
    Scenario("nircam-full", "NIRCam SW F200W full frames, 2 detectors x 4 dithers, 6 groups",
             ("NRCA1", "NRCA2"), "FULL", "RAPID", 6, dithers=_FOUR_POINT,
             stars_per_arcmin2=100.0, galaxies_per_arcmin2=300.0, observation=2),
    Scenario("niriss-imaging", "NIRISS F150W imaging, 4 dithers", ("NIS",), "256", "NISRAPID", 8,
             filter="CLEAR", pupil="F150W", dithers=_FOUR_POINT, stars_per_arcmin2=200.0,
             galaxies_per_arcmin2=600.0, observation=3),
    Scenario("nirspec-dark", "NIRSpec NRS1 + NRS2 darks (no light)", ("NRS1", "NRS2"), "256", "NRSRAPID",
             10, exp_type="NRS_DARK", observation=4),
    Scenario("miri-imaging", "MIRI F770W imaging, 4 dithers", ("MIRIMAGE",), "SUB256", "FASTR1", 10,
             filter="F770W", dithers=tuple((3 * x, 3 * y) for x, y in _FOUR_POINT),
             stars_per_arcmin2=60.0, galaxies_per_arcmin2=200.0, observation=5),
    Scenario("tso-sub64", "NIRCam SW time series on SUB64P: 30 integrations, a bright star, ZEROFRAME",
             ("NRCA3",), "SUB64P", "RAPID", 6, nints=30, exp_type="NRC_TSIMAGE", central_star_mag=13.0,
             zeroframe=True, tso=True, observation=6),
)}


def list_scenarios() -> dict[str, str]:
    """Scenario name -> one-line description."""
    return {name: s.description for name, s in SCENARIOS.items()}


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise JwstLazyInputError(f"unknown scenario {name!r}", where="scenario", expected=f"one of {sorted(SCENARIOS)}")
    return SCENARIOS[name]


def _field_scene(scenario: Scenario, pointing: Pointing, subarray_name: str, rng: np.random.Generator) -> Scene:
    """Sources over every detector's footprint (padded by the dither extent)."""
    sources: list[Source] = []
    pad = max(np.hypot(x, y) for x, y in scenario.dithers) + 2.0
    for name in scenario.detectors:
        det = get_detector(name)
        sub = resolve_subarray(det, subarray_name)
        aperture = placed_aperture(det, attitude_matrix(pointing, det, sub.apername))
        xc = sub.substrt1 + (sub.subsize1 - 1) / 2.0
        yc = sub.substrt2 + (sub.subsize2 - 1) / 2.0
        ra, dec = aperture.sci_to_sky(xc, yc)
        scale = float(np.sqrt(aperture.XSciScale * aperture.YSciScale))
        radius = 0.5 * np.hypot(sub.subsize1, sub.subsize2) * scale + pad
        area = np.pi * radius**2 / 3600.0
        n_stars = rng.poisson(scenario.stars_per_arcmin2 * area)
        n_gal = rng.poisson(scenario.galaxies_per_arcmin2 * area)
        sources += random_field(float(ra), float(dec), radius, n_stars, n_gal, rng).sources
    if scenario.central_star_mag is not None:
        sources.append(Source(pointing.ra, pointing.dec, float(ab_mag_to_ujy(scenario.central_star_mag)), STAR))
    return Scene(sources)


def _exposure_configs(scenario: Scenario, size: str, seed: int) -> list[ExposureConfig]:
    rng = np.random.default_rng([seed, 7])
    target = Pointing(ra=53.16, dec=-27.78, pa_v3=60.0, reference_aperture=None)
    first = get_detector(scenario.detectors[0])
    target = replace(target, reference_aperture=resolve_subarray(first, size).apername)
    scene = _field_scene(scenario, target, size, rng) if scenario.imaging else None
    configs = []
    expstart = 60310.0
    for index, (dx, dy) in enumerate(scenario.dithers):
        pointing = replace(target, xoffset=dx, yoffset=dy, patt_num=index + 1, numdthpt=len(scenario.dithers),
                           patttype="4-POINT-BOX" if len(scenario.dithers) == 4 else "NONE")
        duration = 0.0
        for d_index, name in enumerate(scenario.detectors):
            config = ExposureConfig(
                detector=name, subarray=size, readpatt=scenario.readpatt, ngroups=scenario.ngroups,
                nints=scenario.nints, filter=scenario.filter, pupil=scenario.pupil, exp_type=scenario.exp_type,
                pointing=pointing, scene=scene, seed=int(rng.integers(2**31)), expstart=expstart,
                zeroframe=scenario.zeroframe, tsovisit=scenario.tso,
                identity=ExposureId(program=PROGRAM_ID, observation=scenario.observation, exposure=index + 1),
            )
            configs.append(config)
            det = get_detector(name)
            readout = resolve_readout(det, resolve_subarray(det, size), scenario.readpatt, scenario.ngroups,
                                      scenario.nints)
            duration = max(duration, readout.integration_cadence * readout.nints)
        expstart += (duration + _SLEW_SECONDS) / SECONDS_PER_DAY
    return configs


def _write_json(path: Path, content: dict) -> Path:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(content, indent=2))
    os.replace(tmp, path)
    return path


def _associations(scenario: Scenario, configs: list[ExposureConfig], out: Path, instrument: str,
                  optical: str) -> dict[str, Path]:
    """Level-2 (one product per exposure) and level-3 (one combined product) associations."""
    stem = f"jw{PROGRAM_ID:05d}-o{scenario.observation:03d}"
    level2, level3 = ("tso-image2", "tso3") if scenario.tso else ("image2", "image3")
    common = {"asn_pool": "jwstlazy_simulated_pool", "program": f"{PROGRAM_ID:05d}", "target": "t001",
              "version_id": None, "code_version": "jwstlazy", "constraints": f"scenario {scenario.name}",
              "degraded_status": "No known degraded exposures in association."}
    basenames = [exposure_basename(c) for c in configs]
    products2 = [{"name": b, "members": [{"expname": f"{b}_rate{'ints' if scenario.tso else ''}.fits",
                                          "exptype": "science"}]} for b in basenames]
    members3 = [{"expname": f"{b}_cal{'ints' if scenario.tso else ''}.fits", "exptype": "science",
                 "group_id": b.rsplit("_", 1)[0]} for b in basenames]
    product3 = f"{stem}_t001_{instrument.lower()}_{optical.lower()}"
    return {
        level2: _write_json(out / f"{stem}_{level2}_asn.json", {
            "asn_type": level2, "asn_rule": "Asn_Lv2Image" if not scenario.tso else "Asn_Lv2ImageTSO",
            "asn_id": "a3001", **common, "products": products2}),
        level3: _write_json(out / f"{stem}_{level3}_asn.json", {
            "asn_type": level3, "asn_rule": "Asn_Lv3Image" if not scenario.tso else "Asn_Lv3TSO",
            "asn_id": "c1000", **common, "products": [{"name": product3, "members": members3}]}),
    }


def simulate_program(scenario: str, out: str | Path, seed: int = 0, size: str | int | None = None) -> dict:
    """Simulate scenario ``scenario`` into folder ``out``; returns the paths written.

    ``size``: "full", a subarray name, or a square size such as "256" (default: the scenario's).
    Result keys: ``uncal`` and ``truth`` (lists, one per exposure and detector), ``references``
    ({detector: {reftype: path}}), ``asn`` ({asn_type: path}, imaging only), ``manifest``.
    """
    from jwstlazy.datamodels import write_fits

    spec = get_scenario(scenario)
    size = str(size if size is not None else spec.size).upper()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    configs = _exposure_configs(spec, size, seed)
    written: dict = {"uncal": [], "truth": [], "references": {}, "asn": {}}
    for config in configs:
        ds, truth = simulate_exposure(config)
        stem = exposure_basename(config)
        written["uncal"].append(write_fits(ds, out / f"{stem}_uncal.fits", overwrite=True))
        written["truth"].append(truth.save(out / f"{stem}_truth.npz"))
    for name in spec.detectors:
        det = get_detector(name)
        sub = resolve_subarray(det, size)
        frames = max(resolve_readout(det, sub, c.readpatt, c.ngroups, c.nints).frames_per_integration
                     for c in configs if c.detector == name)
        written["references"][name] = write_reference_files(
            name, out / "references", subarray="FULL" if sub.name == "FULL" else size,
            dark_frames=frames, dark_readpatt=spec.readpatt)
    if spec.imaging:
        first = configs[0]
        det = get_detector(first.detector)
        optical = f"{first.pupil or det.default_pupil}-{first.filter or det.default_filter}".replace("N/A-", "")
        written["asn"] = _associations(spec, configs, out, det.instrument, optical)
    manifest = {"scenario": spec.name, "description": spec.description, "seed": seed, "size": size,
                "uncal": [p.name for p in written["uncal"]], "truth": [p.name for p in written["truth"]],
                "references": {d: {k: str(p.relative_to(out)) for k, p in refs.items()}
                               for d, refs in written["references"].items()},
                "asn": {k: p.name for k, p in written["asn"].items()}}
    written["manifest"] = _write_json(out / "manifest.json", manifest)
    return written
