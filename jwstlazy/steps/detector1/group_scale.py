"""group_scale: rescale groups when the on-board frame averaging divided by FRMDIVSR instead of NFRAMES."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.group_scale import group_scale_needed, scale_groups
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, with_arrays


class GroupScaleStep(Step):
    """Multiply every group by FRMDIVSR / NFRAMES (only when they differ)."""

    name = "group_scale"
    keyword = "GRPSCL"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        nframes, divisor = ds.attrs.get("NFRAMES"), ds.attrs.get("FRMDIVSR")
        if not group_scale_needed(nframes, divisor):
            raise StepSkipped(f"FRMDIVSR ({divisor}) equals NFRAMES ({nframes}) or is absent")
        ramp = as_ramp(ds)
        sci = pixel_array(ramp, "SCI")
        (scaled,) = map_pixel_blocks(
            scale_groups, [sci], [OutputSpec(np.float32, sci.shape[:2])],
            nframes=int(nframes), frame_divisor=int(divisor), name="group_scale",
        )
        return with_arrays(ramp, SCI=scaled)
