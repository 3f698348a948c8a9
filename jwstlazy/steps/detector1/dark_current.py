"""dark_current: subtract the dark, averaged and skipped to match the science readout (NFRAMES/GROUPGAP)."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.datamodels.dqflags import PIXEL_DTYPE
from jwstlazy.kernels.corrections import Corrections
from jwstlazy.kernels.dark import collapse_dark_dq, dark_integrations, dark_matches_readout, resample_dark
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.detector1.corrections import CorrectionStage, with_correction
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, reference_array


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
        options = dict(readout=(nints, ngroups, nframes, groupgap, dark_nframes, dark_groupgap),
                       integration_start=integer_keyword(ramp, "INTSTART", 1))
        return with_correction(ramp, CorrectionStage("dark_current", "dark", _prepare_dark, (dark, dark_dq), options))


def _prepare_dark(corrections: Corrections, pixeldq, dark_block, dq_block, *, readout: tuple, integration_start: int):
    """One pixel block: the dark matched to the science ``readout`` (nints, ngroups, nframes, groupgap, dark
    nframes, dark groupgap) here, so the client never holds a full resampled dark cube; its DQ ORed into
    PIXELDQ. A dark already in the science readout is used as read (the kernel counts NaN as 0)."""
    corrections.dark = resample_dark(dark_block, *readout, nan_as_zero=False)
    corrections.dark_integrations = dark_integrations(readout[0], corrections.dark.shape[0], 0, integration_start)
    return np.bitwise_or(pixeldq, collapse_dark_dq(dq_block)).astype(PIXEL_DTYPE)
