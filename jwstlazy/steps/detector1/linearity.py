"""linearity: correct the classical non-linearity with the LINEARITY polynomial."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.corrections import Corrections
from jwstlazy.kernels.linearity import correct_linearity, prepare_coefficients
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.corrections import CorrectionStage, with_correction
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array, with_arrays


class LinearityStep(Step):
    """Corrected = sum_i c_i F**i per pixel; unusable coefficients give the identity and NO_LIN_CORR."""

    name = "linearity"
    keyword = "LINEAR"
    reference_types = ("linearity",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        reference = references["linearity"]
        coeffs = reference_array(reference, "COEFFS", np.float32)
        lin_dq = reference_array(reference, "DQ", np.uint32)
        nframes = integer_keyword(ramp, "NFRAMES", 1)
        inverse = reference_array(reference, "INV_COEFFS", np.float32) if "INV_COEFFS" in reference else None
        sci = pixel_array(ramp, "SCI")
        if inverse is None or nframes == 1 or sci.shape[1] < 2:  # the classic correction, sample by sample
            return with_correction(ramp, CorrectionStage("linearity", "linearity", _prepare_coefficients,
                                                         (coeffs, lin_dq), needs_groupdq=True))  # fmt: skip
        arrays = [sci, pixel_array(ramp, "GROUPDQ"), pixel_array(ramp, "PIXELDQ"), coeffs, lin_dq, inverse]
        sci, pixeldq = map_pixel_blocks(
            _read_level_block, arrays, [OutputSpec(np.float32, sci.shape[:2]), OutputSpec(np.uint32)],
            name="linearity", nframes=nframes,
        )
        return with_arrays(ramp, SCI=sci, PIXELDQ=pixeldq)


def _prepare_coefficients(corrections: Corrections, pixeldq, coeffs, lin_dq):
    """One block of the classic correction: usable coefficients (else the identity) and the new PIXELDQ."""
    corrections.coefficients, pixeldq = prepare_coefficients(coeffs, lin_dq, pixeldq)
    return pixeldq


def _read_level_block(data, gdq, pdq, coeffs, lin_dq, inverse, *, nframes: int):
    """One pixel block of the read-level correction (INV_COEFFS and NFRAMES > 1)."""
    return correct_linearity(data, gdq, pdq, coeffs, lin_dq, inverse_coeffs=inverse, nframes=nframes)
