"""superbias: subtract the bias frame from every group."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.superbias import subtract_superbias
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, reference_array, with_arrays


class SuperBiasStep(Step):
    """Subtract the SUPERBIAS reference (NaN bias counts as 0) and OR its DQ into PIXELDQ."""

    name = "superbias"
    keyword = "SUPERB"
    reference_types = ("superbias",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        bias = references["superbias"]
        sci = pixel_array(ramp, "SCI")
        sci, pixeldq = map_pixel_blocks(
            subtract_superbias,
            [sci, pixel_array(ramp, "PIXELDQ"), reference_array(bias, "SCI", np.float32), reference_array(bias, "DQ", np.uint32)],
            [OutputSpec(np.float32, sci.shape[:2]), OutputSpec(np.uint32)],
            name="superbias",
        )
        return with_arrays(ramp, SCI=sci, PIXELDQ=pixeldq)
