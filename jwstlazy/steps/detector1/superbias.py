"""superbias: subtract the bias frame from every group."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.datamodels.dqflags import PIXEL_DTYPE
from jwstlazy.kernels.corrections import Corrections
from jwstlazy.kernels.superbias import clean_bias
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.detector1.corrections import CorrectionStage, with_correction
from jwstlazy.steps.detector1.ramp_model import as_ramp, reference_array


class SuperBiasStep(Step):
    """Subtract the SUPERBIAS reference (NaN bias counts as 0) and OR its DQ into PIXELDQ."""

    name = "superbias"
    keyword = "SUPERB"
    reference_types = ("superbias",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        bias = references["superbias"]
        inputs = (reference_array(bias, "SCI", np.float32), reference_array(bias, "DQ", np.uint32))
        return with_correction(as_ramp(ds), CorrectionStage("superbias", "bias", _prepare_bias, inputs))


def _prepare_bias(corrections: Corrections, pixeldq, bias, bias_dq):
    """One block of the superbias (NaN counts as 0); its DQ is ORed into PIXELDQ."""
    corrections.bias = clean_bias(bias)
    return np.bitwise_or(pixeldq, bias_dq).astype(PIXEL_DTYPE)
