"""saturation: flag saturated groups (and later ones), the A/D floor, and grow saturation to neighbours."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.saturation import flag_saturated_pixels, grow_saturation, saturation_halo
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array, with_arrays


class SaturationStep(Step):
    """Flag SATURATED where raw DN reach the SATURATION reference threshold (see docs/steps/saturation.md)."""

    name = "saturation"
    keyword = "SATURA"
    reference_types = ("saturation", "superbias")

    @dataclasses.dataclass
    class Parameters(StepParameters):
        n_pix_grow_sat: int = 1
        use_readpatt: bool = True

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        params = self.parameters
        nframes = integer_keyword(ramp, "NFRAMES", 1) if params.use_readpatt else None
        threshold = reference_array(references["saturation"], "SCI", np.float32)
        sat_dq = reference_array(references["saturation"], "DQ", np.uint32)
        bias = references.get("superbias")
        bias_array = reference_array(bias, "SCI", np.float32) if bias is not None else np.zeros_like(threshold)
        sci, groupdq = pixel_array(ramp, "SCI"), pixel_array(ramp, "GROUPDQ")

        # pass 1 per pixel; pass 2 (growth into neighbours) exchanges only the 1-byte flags between blocks
        read_pattern = nframes is not None and nframes > 1
        flags = OutputSpec(np.uint8, sci.shape[:2])
        groupdq, pixeldq, *hints = map_pixel_blocks(
            flag_saturated_pixels,
            [sci, groupdq, pixel_array(ramp, "PIXELDQ"), threshold, sat_dq, bias_array],
            [flags, OutputSpec(np.uint32)] + ([flags] if read_pattern else []),  # hints only with NFRAMES > 1
            name="saturation-pixels",
            nframes=nframes,
        )
        if params.n_pix_grow_sat > 0 or read_pattern:
            (groupdq,) = map_pixel_blocks(
                grow_saturation,
                [groupdq, *hints],
                [flags],
                halo=saturation_halo(params.n_pix_grow_sat, nframes),
                halo_inputs=range(1 + len(hints)),
                name="saturation-growth",
                n_pix_grow_sat=params.n_pix_grow_sat,
                nframes=nframes,
                **({} if read_pattern else {"hints": None}),
            )
        return with_arrays(ramp, GROUPDQ=groupdq, PIXELDQ=pixeldq)
