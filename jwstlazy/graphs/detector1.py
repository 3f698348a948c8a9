"""Detector1Pipeline: raw ramps (``_uncal``) -> ``_rate`` and ``_rateints``, as one lazy graph per exposure.

Step order follows ``jwst/pipeline/calwebb_detector1.py`` (jwst 3.0): near-IR and MIRI differ.
"""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from jwstlazy.graphs.pipeline import Pipeline
from jwstlazy.steps import detector1 as d1
from jwstlazy.steps.base import Step

NEAR_INFRARED_ORDER: tuple[type[Step], ...] = (
    d1.GroupScaleStep, d1.DQInitStep, d1.SaturationStep, d1.IPCStep, d1.SuperBiasStep, d1.RefPixStep,
    d1.LinearityStep, d1.DarkCurrentStep,
)
MIRI_ORDER: tuple[type[Step], ...] = (
    d1.GroupScaleStep, d1.DQInitStep, d1.EmiCorrStep, d1.SaturationStep, d1.IPCStep, d1.FirstFrameStep,
    d1.LastFrameStep, d1.ResetStep, d1.LinearityStep, d1.RscdStep, d1.DarkCurrentStep, d1.RefPixStep,
)
#: Upstream's picture_frame (between jump and clean_flicker_noise) is not implemented yet.
TAIL: tuple[type[Step], ...] = (
    d1.ChargeMigrationStep, d1.JumpStep, d1.CleanFlickerNoiseStep, d1.PersistenceStep, d1.RampFitStep,
    d1.GainScaleStep,
)


class Detector1Pipeline(Pipeline):
    """Stage 1: every detector step for NIRCam, NIRISS, NIRSpec and MIRI ramps.

    ``Detector1Pipeline(steps={"jump": {"rejection_threshold": 5}}, references="refs/").build("x_uncal.fits")``
    returns ``{"rate": Dataset, "rateints": Dataset}``, lazy.
    """

    name = "detector1"
    output_suffixes = ("rate", "rateints")

    @classmethod
    def all_step_classes(cls) -> Sequence[type[Step]]:
        seen: dict[str, type[Step]] = {}
        for step in (*NEAR_INFRARED_ORDER, *MIRI_ORDER, *TAIL):
            seen.setdefault(step.name, step)
        return list(seen.values())

    def step_classes_for(self, data: xr.Dataset) -> Sequence[type[Step]]:
        head = MIRI_ORDER if str(data.attrs.get("INSTRUME", "")).upper() == "MIRI" else NEAR_INFRARED_ORDER
        return (*head, *TAIL)
