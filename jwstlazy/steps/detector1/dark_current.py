"""dark_current: subtract the dark, averaged and skipped to match the science readout (NFRAMES/GROUPGAP)."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.dark import collapse_dark_dq, dark_matches_readout, resample_dark, subtract_dark
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array, with_arrays


class DarkCurrentStep(Step):
    """Subtract the DARK reference group by group (MIRI 4-D darks per integration)."""

    name = "dark_current"
    keyword = "DARK"
    reference_types = ("dark",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        average_dark_current: float | None = None

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        reference = references["dark"]
        nints, ngroups = ramp["SCI"].shape[:2]
        nframes = integer_keyword(ramp, "NFRAMES", 1)
        groupgap = integer_keyword(ramp, "GROUPGAP", 0)
        dark_nframes = int(reference.attrs.get("NFRAMES", 1))
        dark_groupgap = int(reference.attrs.get("GROUPGAP", 0))
        if not dark_matches_readout(nframes, groupgap, dark_nframes, dark_groupgap):
            raise StepSkipped(f"dark readout (NFRAMES={dark_nframes}, GROUPGAP={dark_groupgap}) cannot match the science")
        dark = reference_array(reference, "SCI", np.float32)
        frames_needed = ngroups * (nframes + groupgap)  # dark frames (NFRAMES=1) that the readout spans
        if dark_nframes == 1 and dark_groupgap == 0 and dark.shape[-3] > frames_needed:
            dark = dark[..., :frames_needed, :, :]  # read only those
        dark_dq = reference_array(reference, "DQ", np.uint32) if "DQ" in reference else np.zeros(
            dark.shape[-2:], np.uint32
        )
        integration_start = integer_keyword(ramp, "INTSTART", 1)
        sci = pixel_array(ramp, "SCI")

        sci, pixeldq = map_pixel_blocks(
            _subtract_block,
            [sci, pixel_array(ramp, "PIXELDQ"), dark, dark_dq],
            [OutputSpec(np.float32, sci.shape[:2]), OutputSpec(np.uint32)],
            name="dark_current",
            readout=(nints, ngroups, nframes, groupgap, dark_nframes, dark_groupgap),
            integration_start=integration_start,
        )
        return with_arrays(ramp, SCI=sci, PIXELDQ=pixeldq)


def _subtract_block(data, pdq, dark_block, dq_block, *, readout: tuple, integration_start: int):
    """One pixel block: the dark resampled to the science ``readout`` (nints, ngroups, nframes, groupgap, dark
    nframes, dark groupgap) here, so the client never holds a full resampled dark cube, then subtracted."""
    matched = resample_dark(dark_block, *readout)
    return subtract_dark(data, pdq, matched, collapse_dark_dq(dq_block), integration_start=integration_start)
