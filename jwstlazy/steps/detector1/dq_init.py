"""dq_init: start the pixel and group DQ arrays from the MASK reference."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.dq_init import initialize_dq
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, reference_array, with_arrays


def _initialize_block(groupdq: np.ndarray, pixeldq: np.ndarray, mask_dq: np.ndarray):
    return initialize_dq(mask_dq, groupdq.shape, pixeldq, groupdq)


class DQInitStep(Step):
    """OR the MASK reference into PIXELDQ; its DO_NOT_USE pixels become DO_NOT_USE in every group."""

    name = "dq_init"
    keyword = "DQINIT"
    reference_types = ("mask",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        mask = reference_array(references["mask"], "DQ", np.uint32)
        groupdq = pixel_array(ramp, "GROUPDQ")
        pixeldq, groupdq = map_pixel_blocks(
            _initialize_block,
            [groupdq, pixel_array(ramp, "PIXELDQ"), mask],
            [OutputSpec(np.uint32), OutputSpec(np.uint8, groupdq.shape[:2])],
            name="dq_init",
        )
        return with_arrays(ramp, PIXELDQ=pixeldq, GROUPDQ=groupdq)
