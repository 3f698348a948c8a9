"""MIRI first/last-frame flagging and reset-anomaly correction."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.miri_group_flags import flag_first_group, flag_last_group
from jwstlazy.kernels.reset import subtract_reset
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array, with_arrays


class FirstFrameStep(Step):
    """Flag the first group DO_NOT_USE (off by default in jwst 3.0; rscd now does this flagging)."""

    name = "firstframe"
    keyword = "FRSTFR"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        skip: bool = True
        bright_use_group1: bool = True

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        groupdq = pixel_array(ramp, "GROUPDQ")
        groupdq, pixeldq = map_pixel_blocks(
            flag_first_group,
            [groupdq, pixel_array(ramp, "PIXELDQ")],
            [OutputSpec(np.uint8, groupdq.shape[:2]), OutputSpec(np.uint32)],
            bright_use_group1=self.parameters.bright_use_group1,
            name="firstframe",
        )
        return with_arrays(ramp, GROUPDQ=groupdq, PIXELDQ=pixeldq)


class LastFrameStep(Step):
    """Flag the last group DO_NOT_USE when there are more than two groups."""

    name = "lastframe"
    keyword = "LASTFR"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        groupdq = pixel_array(ramp, "GROUPDQ")
        (groupdq,) = map_pixel_blocks(
            flag_last_group, [groupdq], [OutputSpec(np.uint8, groupdq.shape[:2])], name="lastframe"
        )
        return with_arrays(ramp, GROUPDQ=groupdq)


class ResetStep(Step):
    """Subtract the RESET reference from the integrations and groups it covers; OR its DQ."""

    name = "reset"
    keyword = "RESET"
    reference_types = ("reset",)
    skip_without_references = True

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        reference = references["reset"]
        first_integration = integer_keyword(ramp, "INTSTART", 1) - 1
        sci = pixel_array(ramp, "SCI")

        def subtract_block(data, pdq, reset, reset_dq):
            return subtract_reset(data, pdq, reset, reset_dq, first_integration=first_integration)

        sci, pixeldq = map_pixel_blocks(
            subtract_block,
            [sci, pixel_array(ramp, "PIXELDQ"), reference_array(reference, "SCI", np.float32),
             reference_array(reference, "DQ", np.uint32)],
            [OutputSpec(np.float32, sci.shape[:2]), OutputSpec(np.uint32)],
            name="reset",
        )
        return with_arrays(ramp, SCI=sci, PIXELDQ=pixeldq)
