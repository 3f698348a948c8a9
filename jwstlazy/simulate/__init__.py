"""Realistic synthetic JWST exposures with truth, matching CRDS-format reference files, and programs.

- :func:`simulate_exposure` (an :class:`ExposureConfig`) -> ``(uncal xarray.Dataset, Truth)``
- :func:`write_reference_files` (detector, folder) -> {reftype: path}
- :func:`simulate_program` (scenario, folder) -> paths of uncal files, references, truth, associations;
  :func:`list_scenarios` names the scenarios.
Physics, units and conventions are documented in the modules: ``ramps`` (ramp model), ``cosmic_rays``,
``correlated_noise``, ``calibration`` (per-pixel detector truths), ``scene`` and ``filters`` (flux
conversion), ``pointing`` (attitude convention), ``headers`` (time keywords), ``truth``, ``emi`` (MIRI
electromagnetic interference, ``ExposureConfig(emi=(EmiComponent(390.625, 5.0),))``).
"""

from __future__ import annotations

from jwstlazy.simulate.detectors import DETECTORS, Detector, get_detector
from jwstlazy.simulate.emi import SIMULATED_EMI_FREQUENCIES, EmiComponent
from jwstlazy.simulate.exposure import ExposureConfig, exposure_basename, simulate_exposure
from jwstlazy.simulate.headers import ExposureId
from jwstlazy.simulate.pointing import Pointing
from jwstlazy.simulate.program import SCENARIOS, list_scenarios, simulate_program
from jwstlazy.simulate.references import write_reference_files
from jwstlazy.simulate.scene import GALAXY, STAR, Scene, Source, random_field
from jwstlazy.simulate.truth import Truth, load_truth

__all__ = [
    "DETECTORS", "GALAXY", "SCENARIOS", "SIMULATED_EMI_FREQUENCIES", "STAR", "Detector", "EmiComponent",
    "ExposureConfig", "ExposureId", "Pointing",
    "Scene", "Source", "Truth", "exposure_basename", "get_detector", "list_scenarios", "load_truth",
    "random_field", "simulate_exposure", "simulate_program", "write_reference_files",
]
